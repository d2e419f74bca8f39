"""Strict inputs and safe defaults (issue 11, items 6 and 9): every refusal is one line."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from ledger import (
    InvalidInputError,
    KeyDirectory,
    Ledger,
    ProofError,
    SerialRange,
    Signer,
    verify_proof,
)
from ledger.audit import check_tagged
from ledger.audit.envelope import Envelope
from ledger.audit.note import Checkpoint, NoteError
from ledger.audit.trust import TrustRoot, TrustRootError, verify_chain
from ledger.errors import TamperError
from ledger.store import transcoder

from conftest import checkpointed, issue

# Tagged types from a closed list -------------------------------------------------------------


def signed_event(signer: Signer, event: dict[str, Any]) -> Envelope:
    stamp = {"_data_": "2026-01-01T00:00:00+00:00", "_type_": "datetime_iso"}
    body = {
        "aggregate": "x",
        "event": {"actor": signer.actor, "timestamp": stamp, **event},
        "prev": None,
        "version": 1,
    }
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return Envelope.seal("application/vnd.ledger.x.v1+json", payload, signer)


def test_an_unknown_tagged_type_in_a_signed_event_is_refused() -> None:
    signer = Signer.generate("a", "account")
    envelope = signed_event(signer, {"q": {"_data_": "x", "_type_": "pickle"}})
    with pytest.raises(TamperError, match="unknown tagged type 'pickle'; expected one of"):
        envelope.open(KeyDirectory([signer.public]))


def test_a_tagged_value_with_an_extra_member_or_bad_text_is_refused() -> None:
    signer = Signer.generate("a", "account")
    keys = KeyDirectory([signer.public])
    extra = {"_data_": "1", "_type_": "decimal_str", "more": 1}
    with pytest.raises(TamperError, match=r'exactly \{"_type_": NAME, "_data_": TEXT\}'):
        signed_event(signer, {"q": extra}).open(keys)
    with pytest.raises(TamperError, match="tagged decimal_str 'NaN' does not parse"):
        signed_event(signer, {"q": {"_data_": "NaN", "_type_": "decimal_str"}}).open(keys)
    with pytest.raises(TamperError, match="tagged uuid_hex 'ABC' does not parse"):
        signed_event(signer, {"q": [{"_data_": "ABC", "_type_": "uuid_hex"}]}).open(keys)


def test_the_known_tagged_types_are_read() -> None:
    check_tagged(
        {
            "a": {"_data_": "2026-01-01T00:00:00+00:00", "_type_": "datetime_iso"},
            "b": [{"_data_": "0.10", "_type_": "decimal_str"}],
            "c": {"_data_": "0" * 32, "_type_": "uuid_hex"},
        }
    )


def test_signed_data_may_not_use_the_reserved_tag_names() -> None:
    with pytest.raises(InvalidInputError, match="'_type_' and '_data_' are reserved names"):
        transcoder().to_json({"plan": {"_type_": "uuid_hex", "_data_": "0" * 32}})


# Safe defaults of trust roots ----------------------------------------------------------------

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def test_a_trust_root_with_threshold_0_is_refused_when_created_and_when_read() -> None:
    with pytest.raises(InvalidInputError, match="threshold start at 1"):
        TrustRoot.create(version=1, origin="o", issued_at=T0, threshold=0, keys=[])
    hand_written = TrustRoot(1, "o", T0, 0, 0, ())
    with pytest.raises(TrustRootError, match="got version 1, threshold 0, witnesses 0"):
        TrustRoot.from_json(hand_written.to_json())
    with pytest.raises(TrustRootError, match="threshold 0"):
        hand_written.verify_alone()


def rotated(root: TrustRoot, operators: tuple[Signer, Signer]) -> TrustRoot:
    later = root.issued_at + datetime.timedelta(days=1)
    return attrs.evolve(root, version=2, issued_at=later, signatures=()).signed_by(*operators)


def test_roots_listed_v2_then_v1_are_refused(
    root: TrustRoot, operators: tuple[Signer, Signer]
) -> None:
    v2 = rotated(root, operators)
    assert verify_chain(root, [root, v2]) == v2
    with pytest.raises(TrustRootError, match="increasing version order: version 1 follows"):
        verify_chain(root, [v2, root])
    with pytest.raises(TrustRootError, match="version 1 follows version 1"):
        verify_chain(root, [root, root])


def test_a_proof_whose_roots_are_listed_v2_then_v1_is_refused(
    tmp_path: Path,
    root: TrustRoot,
    operators: tuple[Signer, Signer],
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    with Ledger(tmp_path / "ledger.db", root) as ledger:
        batch = issue(ledger, registry, organiser)
        cert = ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="B", reason="r")
        ledger.adopt_root(rotated(root, operators))
        checkpointed(ledger, log_signer, witness)
        proof = ledger.proof(batch, cert.retirement_version)
    assert verify_proof(proof, root) is None
    assert [placed["document"]["signed"]["version"] for placed in proof["roots"]] == [1, 2]
    v1, v2 = proof["roots"]
    with pytest.raises(ProofError, match=r"^roots\[0\].document: is version 2; roots are listed"):
        verify_proof({**proof, "roots": [v2, v1]}, root)


# Checkpoint sizes, identifiers and database paths --------------------------------------------


def test_a_checkpoint_size_of_5000_digits_is_one_line() -> None:
    root_hash = base64.b64encode(bytes(32)).decode()
    with pytest.raises(NoteError, match=r"^checkpoint size of 5,000 characters is not a decimal"):
        Checkpoint.parse(f"o\n{'9' * 5000}\n{root_hash}\n")
    with pytest.raises(NoteError, match="below 2\\*\\*64"):
        Checkpoint.parse(f"o\n{2**64}\n{root_hash}\n")
    with pytest.raises(NoteError, match="'²' is not a decimal"):
        Checkpoint.parse(f"o\n²\n{root_hash}\n")
    assert Checkpoint.parse(f"o\n{2**64 - 1}\n{root_hash}\n").size == 2**64 - 1


def test_a_schema_name_with_a_trailing_newline_is_refused(tmp_path: Path, root: TrustRoot) -> None:
    with pytest.raises(InvalidInputError, match=r"schema 'schema\\n' is not a plain SQL"):
        Ledger(tmp_path / "ledger.db", root, schema="schema\n")
    assert not (tmp_path / "ledger.db").exists()


def test_a_sqlite_path_with_a_question_mark_opens_exactly_that_file(
    tmp_path: Path, root: TrustRoot
) -> None:
    path = tmp_path / "a?mode=ro.db"
    with Ledger(path, root) as ledger:
        assert ledger.trust_roots()[-1].version == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a?mode=ro.db"]
    with Ledger(str(path)) as again:
        assert again.trust_roots()[-1].version == 1
    odd = tmp_path / "b#c%41 d.db"
    with Ledger(odd, root):
        pass
    assert odd.is_file()


def test_an_area_the_claims_cannot_measure_is_refused_naming_r9() -> None:
    from ledger.store._claims._geometry import area_of

    with pytest.raises(InvalidInputError, match=r"^R9: parcel P-1: geometry has no area"):
        area_of("P-1", '{"type":"MultiPolygon","coordinates":[]}')
