"""Trust roots: thresholds of distinct keys, rotation, revocation windows (SPEC 5)."""

from __future__ import annotations

import datetime
from pathlib import Path

import attrs
import pytest

from ledger import Ledger, SerialRange, Signer, verify_proof
from ledger.audit.trust import TrustRoot, TrustRootError, verify_chain
from ledger.errors import LedgerError, SignatureError

from conftest import checkpointed, issue

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def make_root(version: int, operators: list[Signer], threshold: int = 2, **kw: object) -> TrustRoot:
    keys = kw.pop("keys", [o.public for o in operators])
    return TrustRoot.create(
        version=version,
        origin="test.ledger.local/log",
        issued_at=T0 + datetime.timedelta(days=version),
        threshold=threshold,
        keys=keys,  # type: ignore[arg-type]
    )


def revoking(
    root: TrustRoot, actor: Signer, at: datetime.datetime, operators: tuple[Signer, Signer]
) -> TrustRoot:
    """Version 2 of ``root``: the same keys, ``actor``'s window closed at ``at``."""
    keys = [attrs.evolve(k, valid_until=at) if k.actor == actor.actor else k for k in root.keys]
    return attrs.evolve(root, version=2, keys=tuple(keys), signatures=()).signed_by(*operators)


@pytest.fixture
def ops() -> list[Signer]:
    return [Signer.generate(f"op-{n}", "operator") for n in range(4)]


def test_a_root_needs_its_threshold_of_operator_signatures(ops: list[Signer]) -> None:
    make_root(1, ops[:2]).signed_by(*ops[:2]).verify_alone()
    with pytest.raises(TrustRootError, match=r"1 valid signatures by distinct keys .* 2 needed"):
        make_root(1, ops[:2]).signed_by(ops[0]).verify_alone()


def test_a_threshold_counts_distinct_public_keys_not_signatures(ops: list[Signer]) -> None:
    twice = make_root(1, ops[:2]).signed_by(ops[0], ops[0])
    assert len(twice.signatures) == 2
    with pytest.raises(TrustRootError, match="1 valid signatures by distinct keys"):
        twice.verify_alone()


def test_the_same_key_listed_for_two_operators_counts_once(ops: list[Signer]) -> None:
    alias = Signer(ops[0].actor + "-alias", "operator", ops[0].private_key)
    keys = [ops[0].public, alias.public, ops[1].public]
    root = make_root(1, ops, keys=keys).signed_by(ops[0], alias)
    with pytest.raises(TrustRootError, match="1 valid signatures by distinct keys"):
        root.verify_alone()


def test_rotation_needs_the_threshold_of_the_old_and_of_the_new_root(ops: list[Signer]) -> None:
    v1 = make_root(1, ops[:2]).signed_by(*ops[:2])
    v2 = make_root(2, ops[:4], keys=[o.public for o in ops])
    new_only = make_root(2, ops[2:], keys=[o.public for o in ops[2:]] + [o.public for o in ops[:2]])
    with pytest.raises(TrustRootError, match="of version 1's operators"):
        v1.verify_successor(new_only.signed_by(*ops[2:]))
    with pytest.raises(TrustRootError, match="its own operators; 3 needed"):
        v1.verify_successor(attrs.evolve(v2, threshold=3).signed_by(*ops[:2]))
    v1.verify_successor(v2.signed_by(*ops))
    assert verify_chain(v1, [v1, v2.signed_by(*ops)]).version == 2


def test_a_rotation_may_not_skip_a_version_or_drop_a_key(ops: list[Signer]) -> None:
    v1 = make_root(1, ops[:2]).signed_by(*ops[:2])
    with pytest.raises(TrustRootError, match="version 3 does not follow version 1"):
        v1.verify_successor(make_root(3, ops[:2]).signed_by(*ops[:2]))
    with pytest.raises(TrustRootError, match="drops keys; revoke them instead"):
        v1.verify_successor(make_root(2, ops[:1], threshold=1).signed_by(ops[0]))


def test_a_root_document_round_trips_and_rejects_changes(ops: list[Signer]) -> None:
    v1 = make_root(1, ops[:2]).signed_by(*ops[:2])
    assert TrustRoot.from_json(v1.to_json()) == v1
    changed = v1.to_json()
    changed["signed"]["threshold"] = 1
    with pytest.raises(TrustRootError, match="signatures by distinct keys"):
        TrustRoot.from_json(changed).verify_alone()
    changed["signed"]["extra"] = 1
    with pytest.raises(TrustRootError, match="exactly"):
        TrustRoot.from_json(changed)


def test_a_proof_made_before_a_revocation_still_verifies_and_a_later_signature_does_not(
    tmp_path: Path,
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    now = [datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)]
    with Ledger(tmp_path / "l.db", root, clock=lambda: now[0]) as ledger:
        batch = issue(ledger, registry, organiser)
        before = ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="b", reason="r")
        revoked_at = datetime.datetime.now(datetime.UTC)
        ledger.adopt_root(revoking(root, organiser, revoked_at, operators))
        with pytest.raises(
            SignatureError, match="after key of 'jinan-forum-organiser' was revoked"
        ):
            ledger.retire(organiser, batch, SerialRange(11, 20), beneficiary="b", reason="r")
        assert len(ledger.history(batch)) == 2
        checkpointed(ledger, log_signer, witness)
        proof = ledger.proof(batch, before.retirement_version)
    assert [r["document"]["signed"]["version"] for r in proof["roots"]] == [1, 2]
    assert verify_proof(proof, root) is None
    with Ledger(tmp_path / "l.db") as reopened:
        assert reopened.batch(batch).version == 2
        assert [r.version for r in reopened.trust_roots()] == [1, 2]


def test_a_ledger_without_a_trust_root_says_so(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no trust root yet"):
        Ledger(tmp_path / "empty.db")


def test_a_proof_entry_signed_after_its_keys_revocation_is_rejected_whatever_its_date(
    tmp_path: Path,
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    from ledger import ProofError

    march = lambda: datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)  # noqa: E731
    with Ledger(tmp_path / "l.db", root, clock=march) as ledger:
        batch = issue(ledger, registry, organiser)
        # the window closes tomorrow: the insider's events are dated inside it
        revoked_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
        ledger.adopt_root(revoking(root, organiser, revoked_at, operators))
    # The insider: the revoked key, SQL access, and software that still trusts version 1.
    with Ledger(tmp_path / "l.db", root.directory(), clock=march) as insider:
        late = insider.retire(organiser, batch, SerialRange(1, 10), beneficiary="b", reason="r")
    with Ledger(tmp_path / "l.db", root, clock=march) as ledger:
        checkpointed(ledger, log_signer, witness)
        proof = ledger.proof(batch, late.retirement_version)
    with pytest.raises(
        ProofError,
        match=r"^entries\[1\].envelope.signatures\[0\].keyid: key of 'jinan-forum-organiser'"
        r" \(account\) was revoked by trust root version 2 at log leaf 2",
    ):
        verify_proof(proof, root)
