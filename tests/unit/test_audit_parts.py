"""The parts that make the audit fast keep its answers exact (issue 13)."""

from __future__ import annotations

import json
import re

import pytest

from ledger.audit._canonical import canonical_json
from ledger.audit._sigpool import Opened, VerifierPool, check_page, open_page
from ledger.audit.envelope import Envelope, payload_type_for
from ledger.audit.keys import Signer
from ledger.audit.merkle import Frontier, leaf_hash, roots_at
from ledger.domain.values import SerialRange
from ledger.errors import RuleViolationError
from ledger.store import _replay_claims
from ledger.store._claims import Claims
from ledger.store._claims._serials import SerialClaim
from ledger.store._replay_claims import ReplayClaims


def test_an_envelope_read_from_bytes_is_written_back_as_the_same_bytes() -> None:
    signer = Signer.generate("registry-a", "registry")
    sealed = Envelope.seal(payload_type_for("ledger.credit-batch.Issued"), b"{}", signer)
    data = sealed.to_bytes()
    assert data == canonical_json(sealed.to_json())
    assert Envelope.from_bytes(data).to_bytes() == data


def sealed(signer: Signer, body: bytes) -> bytes:
    return Envelope.seal("application/vnd.ledger.x+json", body, signer).to_bytes()


def test_a_page_check_returns_the_key_each_signature_verifies_with_or_none() -> None:
    one, two = Signer.generate("a", "registry"), Signer.generate("b", "registry")
    good, other = sealed(one, b'{"n":1}'), sealed(two, b'{"n":2}')
    forged = good.replace(
        b'"keyid":"' + one.public.keyid.encode(), b'"keyid":"' + two.public.keyid.encode()
    )
    keys = {one.public.keyid: one.public.public_key, two.public.keyid: two.public.public_key}
    found = check_page([good, other, forged, b"not json", sealed(one, b"{}")], keys)
    assert found == [
        one.public.public_key,
        two.public.public_key,
        None,
        None,
        one.public.public_key,
    ]
    assert check_page([good], {}) == [None]


def test_the_pool_streams_every_item_in_order_with_its_key() -> None:
    signer = Signer.generate("a", "registry")
    items = [sealed(signer, b'{"n":%d}' % n) for n in range(7)]
    with VerifierPool({signer.public.keyid: signer.public.public_key}, workers=2) as pool:
        out = list(pool.stream(items, lambda item: item, page=3))
    assert [item for item, _ in out] == items
    assert {key for _, key in out} == {signer.public.public_key}


def test_a_page_opened_by_a_worker_keeps_only_what_reads_strictly_and_verifies() -> None:
    one, two = Signer.generate("a", "registry"), Signer.generate("b", "registry")
    body = b'{"aggregate":"x","event":{},"prev":null,"version":1}'
    good, loose = sealed(one, body), sealed(one, b'{"n": 1}')
    forged = good.replace(
        b'"keyid":"' + one.public.keyid.encode(), b'"keyid":"' + two.public.keyid.encode()
    )
    keys = {one.public.keyid: one.public.public_key, two.public.keyid: two.public.public_key}
    found = open_page([good, loose, forged, b"not json", good + b" "], keys)
    assert found[0] == Opened(one.public.public_key, Envelope.from_bytes(good), json.loads(body))
    assert found[1] == Opened(one.public.public_key, Envelope.from_bytes(loose), None)
    assert found[2:] == [None, None, None]


def test_a_pool_that_does_not_wait_streams_every_item_in_order_and_checks_all_once_ready() -> None:
    signer = Signer.generate("a", "registry")
    items = [sealed(signer, b'{"n":%d}' % n) for n in range(40)]
    with VerifierPool({signer.public.keyid: signer.public.public_key}, workers=2) as pool:
        out = list(pool.stream(items, lambda item: item, page=3, opened=True, wait=False))
        pool.wait_ready()
        warm = list(pool.stream(items, lambda item: item, page=3, opened=True, wait=False))
    assert [item for item, _ in out] == items
    assert {None if found is None else found.key for _, found in out} <= {
        None,
        signer.public.public_key,
    }
    assert [item for item, _ in warm] == items
    assert [found.envelope.to_bytes() for _, found in warm] == items


@pytest.mark.parametrize("count", [0, 1, 2, 3, 7, 8, 13])
def test_the_frontier_gives_the_roots_of_the_whole_tree_at_every_size(count: int) -> None:
    leaves = [leaf_hash(bytes([n])) for n in range(count)]
    sizes = list(range(count + 1))
    frontier = Frontier(sizes)
    for hashed in leaves:
        frontier.add(hashed)
    assert frontier.roots == roots_at(leaves, sizes)
    assert frontier.root() == roots_at(leaves, [count])[count]


def claim(registry: str, start: int, end: int, batch: str) -> Claims:
    return Claims(serials=[SerialClaim(registry, SerialRange(start, end), batch)])


def test_a_replayed_serial_block_that_overlaps_names_the_block_the_store_would_name() -> None:
    claims = ReplayClaims()
    try:
        for n, (start, end) in enumerate([(1, 10), (20, 29), (30, 39), (50, 59)]):
            claims.claim(claim("reg", start, end, f"b{n}"))
        claims.claim(claim("other", 1, 100, "elsewhere"))
        cases = [(5, 25, "b1 (20-29)"), (15, 35, "b2 (30-39)"), (59, 70, "b3"), (5, 8, "b0 (1-10)")]
        for start, end, named in cases:
            with pytest.raises(RuleViolationError, match=rf"overlap batch {re.escape(named)}"):
                claims.claim(claim("reg", start, end, "new"))
        claims.claim(claim("reg", 11, 19, "fits"))
        assert len(claims.rows()["ledger_serial_blocks"]) == 6
    finally:
        claims.close()


def test_a_replayed_block_is_checked_against_the_blocks_not_yet_written_as_well() -> None:
    claims = ReplayClaims()
    try:
        claims.claim(claim("reg", 1000, 1999, "high"))
        claims.rows()  # written to the file
        for n, start in enumerate((10, 30, 50)):  # below the registry's top: looked up
            claims.claim(claim("reg", start, start + 9, f"low{n}"))
        with pytest.raises(RuleViolationError, match=r"overlap batch low1 \(30-39\)"):
            claims.claim(claim("reg", 35, 45, "new"))
        with pytest.raises(RuleViolationError, match=r"overlap batch high \(1000-1999\)"):
            claims.claim(claim("reg", 60, 1000, "new"))
        claims.claim(claim("reg", 40, 49, "fits"))
        assert len(claims.rows()["ledger_serial_blocks"]) == 5
    finally:
        claims.close()


@pytest.mark.parametrize("runs", [1, 4096])
def test_the_runs_kept_per_registry_never_hide_an_overlap(
    runs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_replay_claims, "_RUNS", runs)
    claims = ReplayClaims()
    try:
        for n, (start, end) in enumerate([(1, 10), (11, 20), (30, 39), (21, 29), (60, 69)]):
            claims.claim(claim("reg", start, end, f"b{n}"))
        cases = [(15, 32, "b2 (30-39)"), (40, 60, "b4 (60-69)"), (29, 29, "b3 (21-29)")]
        for start, end, named in cases:
            with pytest.raises(RuleViolationError, match=rf"overlap batch {re.escape(named)}"):
                claims.claim(claim("reg", start, end, "new"))
        claims.claim(claim("reg", 40, 59, "fits"))
        claims.claim(claim("reg", 70, 70, "after"))
        assert len(claims.rows()["ledger_serial_blocks"]) == 7
    finally:
        claims.close()
