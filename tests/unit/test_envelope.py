"""Canonical bytes, DSSE envelopes and keys (SPEC 5)."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import InvalidInputError, KeyDirectory, PublicKey, SignatureError, Signer
from ledger.audit import canonical_json
from ledger.audit.envelope import Envelope, entry_hash, pae
from ledger.errors import TamperError, UnknownSignerError


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert (
        canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    )


def test_floats_are_refused_in_signed_data() -> None:
    with pytest.raises(InvalidInputError, match=r"float 1\.5 in signed data"):
        canonical_json({"quantity": [1.5]})


def test_integers_beyond_double_precision_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="canonical JSON"):
        canonical_json(2**53 + 1)


def test_pae_is_the_dsse_v1_encoding() -> None:
    assert pae("t", b"abc") == b"DSSEv1 1 t 3 abc"


def test_the_entry_hash_is_the_rfc_9162_leaf_hash() -> None:
    assert entry_hash(b"x") == hashlib.sha256(b"\x00x").hexdigest()


def test_an_envelope_round_trips_through_its_exact_bytes() -> None:
    signer = Signer.generate("a", "account")
    envelope = Envelope.seal("application/vnd.ledger.x+json", b'{"k":1}', signer)
    data = envelope.to_bytes()
    assert Envelope.from_bytes(data) == envelope
    assert Envelope.from_bytes(data).to_bytes() == data
    assert envelope.verify(KeyDirectory([signer.public])) == signer.public


def test_non_canonical_stored_bytes_are_rejected() -> None:
    signer = Signer.generate("a", "account")
    envelope = Envelope.seal("application/vnd.ledger.x+json", b"{}", signer)
    spaced = json.dumps(envelope.to_json(), indent=1).encode()
    with pytest.raises(TamperError, match="not in canonical form"):
        Envelope.from_bytes(spaced)


def test_base64_with_stray_padding_bits_is_rejected() -> None:
    signer = Signer.generate("a", "account")
    data = Envelope.seal("application/vnd.ledger.x+json", b"{}", signer).to_json()
    assert data["payload"] == "e30="
    data["payload"] = "e31="  # decodes to the same bytes in lenient decoders
    with pytest.raises(TamperError, match="payload is not canonical base64"):
        Envelope.from_json(data)


def test_a_changed_payload_fails_the_signature() -> None:
    signer = Signer.generate("a", "account")
    envelope = Envelope.seal("application/vnd.ledger.x+json", b'{"k":1}', signer)
    changed = Envelope(envelope.payload_type, b'{"k":2}', envelope.keyid, envelope.sig)
    with pytest.raises(SignatureError, match="does not verify"):
        changed.verify(KeyDirectory([signer.public]))


def test_an_unknown_key_is_named() -> None:
    signer = Signer.generate("a", "account")
    envelope = Envelope.seal("application/vnd.ledger.x+json", b"{}", signer)
    with pytest.raises(UnknownSignerError, match=f"unknown key {signer.public.keyid[:16]}"):
        envelope.verify(KeyDirectory())


def test_a_key_file_round_trips_and_checks_its_key_ids() -> None:
    keys = KeyDirectory([Signer.generate("a", "account").public])
    assert list(KeyDirectory.from_json(keys.to_json())) == list(keys)
    entry = keys.to_json()["keys"][0]
    entry["keyid"] = "00" * 32
    with pytest.raises(InvalidInputError, match="is not the SHA-256 of publicKey"):
        PublicKey.from_json(entry)


def test_a_signer_key_file_round_trips() -> None:
    signer = Signer.generate("a", "registry")
    loaded = Signer.from_json(signer.to_json())
    assert loaded.public == signer.public
    assert base64.b64decode(signer.to_json()["seed"]) != signer.public.public_key


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown role 'auditor'"):
        Signer.generate("a", "auditor")


def test_decimal_state_is_tagged_not_floated() -> None:
    from ledger.store import transcoder as store_transcoder

    transcoder = store_transcoder()
    encoded = transcoder.encode({"q": Decimal("0.10")})
    assert encoded == b'{"q":{"_data_":"0.10","_type_":"decimal_str"}}'
    assert transcoder.decode(encoded) == {"q": Decimal("0.10")}


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_any_changed_stored_bytes_fail_as_a_tamper_error_only(data: st.DataObject) -> None:
    signer = Signer.generate("a", "account")
    stamp = b'{"_data_":"2026-01-01T00:00:00+00:00","_type_":"datetime_iso"}'
    body = (
        b'{"aggregate":"x","event":{"actor":"a","timestamp":'
        + stamp
        + b'},"prev":null,"version":1}'
    )
    stored = bytearray(Envelope.seal("application/vnd.ledger.x.v1+json", body, signer).to_bytes())
    position = data.draw(st.integers(0, len(stored) - 1))
    change = data.draw(st.sampled_from(["flip", "delete", "insert"]))
    if change == "flip":
        stored[position] ^= data.draw(st.integers(1, 255))
    elif change == "delete":
        del stored[position]
    else:
        stored.insert(position, data.draw(st.integers(0, 255)))
    with pytest.raises(TamperError):
        Envelope.from_bytes(bytes(stored)).open(KeyDirectory([signer.public]))
