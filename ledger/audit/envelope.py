"""Signed envelopes: the stored form of every event, and the leaves of the log (SPEC 5).

Byte layout (docs/proof-format.md):
- payload: RFC 8785 canonical JSON of
  ``{"aggregate": UUID, "version": N, "prev": HEX64|null, "event": {...}}``; ``prev`` is the
  entry hash of the aggregate's version N-1 (``null`` for version 1): a per-aggregate hash chain.
- payloadType: ``application/vnd.<event topic>+json``, one per event kind.
- signature: Ed25519 over DSSE v1 PAE: ``"DSSEv1" SP len(type) SP type SP len(payload) SP
  payload`` (lengths in ASCII decimal), by the key of the event's ``actor``.
- envelope: canonical JSON ``{"payload": b64, "payloadType": T, "signatures": [{"keyid": HEX,
  "sig": b64}]}``; exactly these bytes are stored, and a non-canonical form is rejected.
- entry hash: ``SHA-256(0x00 || envelope)``, the RFC 9162 section 2.1.1 leaf hash, so the chain
  and the Merkle log hash the same bytes.
- Reading canonicalizes once: stored bytes proven canonical are kept and hashed as they are, and
  plain JSON (no float, integers below 2**53, ASCII member names) is written by the standard
  library's sorted encoder, which then gives exactly the RFC 8785 bytes; anything else goes
  through the full RFC 8785 writer.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import attrs

from ledger.audit import _strict_json as strict_json
from ledger.audit._canonical import canonical_json, canonical_object, check_tagged
from ledger.audit.keys import KeyDirectory, PublicKey, Signer
from ledger.errors import InvalidInputError, SignatureError, TamperError

__all__ = ["Entry", "Envelope", "entry_hash", "pae", "payload_type_for", "signed_at", "topic_of"]

_PAYLOAD_TYPE = re.compile(r"application/vnd\.(ledger\.[a-z0-9.-]+)\+json")
_HEX64 = re.compile(r"[0-9a-f]{64}")
#: Text that RFC 8785 writes as it is between quotes: printable ASCII but ``"`` and ``\\``.
_PLAIN_TEXT = re.compile(r"[ !#-\[\]-~]*")


def payload_type_for(topic: str) -> str:
    """The DSSE payload type of events with the given topic."""
    return f"application/vnd.{topic}+json"


def topic_of(payload_type: str) -> str:
    """The event topic inside a payload type, or raise :class:`TamperError`."""
    match = _PAYLOAD_TYPE.fullmatch(payload_type)
    if match is None:
        raise TamperError(f"payloadType {payload_type!r} is not a ledger event type")
    return match.group(1)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: the exact bytes that are signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def entry_hash(envelope_bytes: bytes) -> str:
    """Hex RFC 9162 leaf hash of stored envelope bytes: SHA-256(0x00 || bytes)."""
    return hashlib.sha256(b"\x00" + envelope_bytes).hexdigest()


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise TamperError(f"{what} is not base64 text")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as e:
        raise TamperError(f"{what} is not base64") from e
    if base64.b64encode(raw).decode() != text:
        raise TamperError(f"{what} is not canonical base64")
    return raw


@attrs.frozen
class Envelope:
    """A DSSE envelope with one signature."""

    payload_type: str
    payload: bytes
    keyid: str
    sig: bytes
    #: The stored bytes, once proven canonical (never part of equality).
    raw: bytes | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def seal(cls, payload_type: str, payload: bytes, signer: Signer) -> Envelope:
        """Sign ``payload`` as ``payload_type`` with ``signer``."""
        sig = signer.sign(pae(payload_type, payload))
        return cls(payload_type, payload, signer.public.keyid, sig)

    def to_json(self) -> dict[str, Any]:
        """The JSON object form."""
        return {
            "payload": base64.b64encode(self.payload).decode(),
            "payloadType": self.payload_type,
            "signatures": [{"keyid": self.keyid, "sig": base64.b64encode(self.sig).decode()}],
        }

    def to_bytes(self) -> bytes:
        """The canonical bytes that are stored and hashed."""
        if self.raw is not None:
            return self.raw
        if _PLAIN_TEXT.fullmatch(self.keyid) and _PLAIN_TEXT.fullmatch(self.payload_type):
            return (
                b'{"payload":"%b","payloadType":"%b","signatures":[{"keyid":"%b","sig":"%b"}]}'
                % (
                    base64.b64encode(self.payload),
                    self.payload_type.encode(),
                    self.keyid.encode(),
                    base64.b64encode(self.sig),
                )
            )
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: object) -> Envelope:
        """Parse the JSON object form strictly (exact fields, one signature)."""
        if not isinstance(data, Mapping) or set(data) != {"payload", "payloadType", "signatures"}:
            raise TamperError("envelope must have exactly payload, payloadType and signatures")
        signatures = data["signatures"]
        if not isinstance(signatures, list) or len(signatures) != 1:
            raise TamperError("envelope must carry exactly one signature")
        (signature,) = signatures
        if not isinstance(signature, Mapping) or set(signature) != {"keyid", "sig"}:
            raise TamperError("signature must have exactly keyid and sig")
        if not isinstance(signature["keyid"], str) or not isinstance(data["payloadType"], str):
            raise TamperError("keyid and payloadType must be text")
        return cls(
            payload_type=data["payloadType"],
            payload=_b64(data["payload"], "payload"),
            keyid=signature["keyid"],
            sig=_b64(signature["sig"], "sig"),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        """Parse stored bytes; they must be exactly the canonical form."""
        parsed: Any = canonical_object(data)
        if parsed is None:
            try:
                parsed = strict_json.loads(data, source="the stored envelope")
            except InvalidInputError as e:
                raise TamperError(str(e)) from e
        envelope = cls.from_json(parsed)
        if envelope.to_bytes() != data:
            raise TamperError("stored envelope is not in canonical form")
        return attrs.evolve(envelope, raw=bytes(data))

    def verify(self, keys: KeyDirectory, verified: bytes | None = None) -> PublicKey:
        """Return the signer's key if the signature verifies; raise a TamperError if not.

        ``verified``: the raw public key a verifier pool already checked this very signature
        with (:mod:`ledger.audit._sigpool`); the check is skipped only if it is the key found.
        """
        key = keys.get(self.keyid)
        if verified is None or verified != key.public_key:
            key.verify(self.sig, pae(self.payload_type, self.payload))
        return key

    def open(self, keys: KeyDirectory, verified: bytes | None = None) -> Entry:
        """Verify the signature (see :meth:`verify`) and decode the signed payload."""
        key = self.verify(keys, verified)
        return Entry.decode(self, key)


@attrs.frozen
class Entry:
    """A verified event: what was signed, by whom, and its place in the chain."""

    topic: str
    aggregate: str
    version: int
    prev: str | None
    event: dict[str, Any]
    signer: PublicKey
    hash: str
    envelope: Envelope

    @classmethod
    def decode(cls, envelope: Envelope, signer: PublicKey) -> Entry:
        """Decode the payload of a verified envelope; it must be canonical and complete."""
        return cls.from_body(envelope, signer, cls.body_of(envelope))

    @staticmethod
    def body_of(envelope: Envelope) -> dict[str, Any]:
        """The checks of :meth:`decode` that read the payload alone: its checked body."""
        body: Any = canonical_object(envelope.payload)
        if body is None:
            body = _strict_payload(envelope.payload)
        _check_payload(body)
        try:
            check_tagged(body["event"])
        except InvalidInputError as e:
            raise TamperError(f"payload event: {e}") from e
        checked: dict[str, Any] = body
        return checked

    @classmethod
    def from_body(cls, envelope: Envelope, signer: PublicKey, body: dict[str, Any]) -> Entry:
        """The rest of :meth:`decode`: ``body`` is :meth:`body_of` the same envelope."""
        signer.check_window(signed_at(body["event"]))
        if body["event"].get("actor") != signer.actor:
            raise SignatureError(
                f"event names actor {body['event'].get('actor')!r}"
                f" but is signed by {signer.actor!r}"
            )
        return cls(
            topic=topic_of(envelope.payload_type),
            aggregate=body["aggregate"],
            version=body["version"],
            prev=body["prev"],
            event=body["event"],
            signer=signer,
            hash=entry_hash(envelope.to_bytes()),
            envelope=envelope,
        )


def _strict_payload(payload: bytes) -> Any:
    """The payload read the strict way, which names what keeps it from being canonical."""
    try:
        body = strict_json.loads(payload, source="the payload")
    except InvalidInputError as e:
        raise TamperError(str(e)) from e
    try:
        canonical = canonical_json(body)
    except InvalidInputError as e:
        raise TamperError(f"payload is not canonical JSON: {e}") from e
    if canonical != payload:
        raise SignatureError("payload is not in canonical form")
    return body


def signed_at(event: Mapping[str, Any]) -> datetime.datetime:
    """The signed ``timestamp`` of an event body; raise TamperError if it has none."""
    stamp = event.get("timestamp")
    try:
        moment = datetime.datetime.fromisoformat(stamp["_data_"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError) as e:
        raise TamperError(f"event has no valid timestamp: {stamp!r}") from e
    if moment.tzinfo is None:
        raise TamperError(f"event timestamp {moment.isoformat()!r} has no UTC offset")
    return moment


def _check_payload(body: object) -> None:
    if not isinstance(body, dict) or set(body) != {"aggregate", "version", "prev", "event"}:
        raise TamperError("payload must have exactly aggregate, version, prev and event")
    version, prev = body["version"], body["prev"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TamperError(f"payload version {version!r} is not a positive integer")
    if not isinstance(body["aggregate"], str) or not isinstance(body["event"], dict):
        raise TamperError("payload aggregate must be text and event an object")
    if not (prev is None or (isinstance(prev, str) and _HEX64.fullmatch(prev))):
        raise TamperError(f"payload prev {prev!r} is not null or a hex SHA-256")
