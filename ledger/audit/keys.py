"""Ed25519 keys of the ledger's actors: signers (private) and the key directory (public).

Rules:
- A key id is the lowercase hex SHA-256 of the raw 32-byte public key, so an id can never name
  two keys and a directory entry proves its own id.
- A key belongs to one actor with one role (``registry`` issues, ``account`` holds and retires,
  ``developer`` runs sink projects, ``verifier`` validates and measures them, ``operator``
  signs trust roots, ``log`` signs checkpoints, ``witness`` cosigns them);
  the role a signed event needs is checked where the event is verified.
- A key is valid from ``valid_from`` (inclusive) until ``valid_until`` (exclusive), both UTC;
  ``None`` is unbounded. Revoking a key closes its window: what it signed before stays valid,
  what it signs at or after ``valid_until`` is rejected.
- Private keys never enter the key directory or a proof.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import InvalidInputError, SignatureError, UnknownSignerError

__all__ = ["ROLES", "KeyDirectory", "PublicKey", "Signer", "key_id", "parse_time", "time_text"]

ROLES = ("registry", "account", "developer", "verifier", "operator", "log", "witness")


def key_id(public_key: bytes) -> str:
    """The key id of a raw Ed25519 public key: hex SHA-256 of its 32 bytes."""
    return hashlib.sha256(public_key).hexdigest()


def _role(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ROLES:
        raise InvalidInputError(f"unknown role {value!r}; expected one of {', '.join(ROLES)}")


def _raw_key(instance: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InvalidInputError("an Ed25519 public key is 32 raw bytes")


@attrs.frozen
class PublicKey:
    """A public key with the actor and role it speaks for."""

    actor: str
    role: str = attrs.field(validator=_role)
    public_key: bytes = attrs.field(validator=_raw_key, repr=False)
    valid_from: datetime.datetime | None = None
    valid_until: datetime.datetime | None = None

    @property
    def keyid(self) -> str:
        """The key id (hex SHA-256 of the raw public key)."""
        return key_id(self.public_key)

    def verify(self, signature: bytes, data: bytes) -> None:
        """Return None if ``signature`` is this key's over ``data``, else raise SignatureError."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, data)
        except InvalidSignature as e:
            raise SignatureError(f"signature by key {self.keyid[:16]} does not verify") from e

    def check_window(self, at: datetime.datetime) -> None:
        """Return None if the key was valid at ``at``, else raise SignatureError."""
        if self.valid_from is not None and at < self.valid_from:
            raise SignatureError(
                f"signed at {at.isoformat()}, before key of {self.actor!r} became valid"
                f" ({self.valid_from.isoformat()})"
            )
        if self.valid_until is not None and at >= self.valid_until:
            raise SignatureError(
                f"signed at {at.isoformat()}, after key of {self.actor!r} was revoked"
                f" ({self.valid_until.isoformat()})"
            )

    def to_json(self) -> dict[str, str | None]:
        """The JSON form used in key files and trust roots."""
        return {
            "keyid": self.keyid,
            "actor": self.actor,
            "role": self.role,
            "publicKey": base64.b64encode(self.public_key).decode(),
            "validFrom": time_text(self.valid_from),
            "validUntil": time_text(self.valid_until),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublicKey:
        """Parse the JSON form strictly; the key id must match the key."""
        if not isinstance(data, Mapping) or set(data) != set(_KEY_FIELDS):
            raise InvalidInputError(f"a key entry has exactly the fields {', '.join(_KEY_FIELDS)}")
        try:
            raw = base64.b64decode(data["publicKey"], validate=True)
        except (ValueError, TypeError) as e:
            raise InvalidInputError("publicKey is not base64") from e
        if base64.b64encode(raw).decode() != data["publicKey"]:
            raise InvalidInputError("publicKey is not canonical base64")
        window = parse_time(data["validFrom"]), parse_time(data["validUntil"])
        key = cls(data["actor"], data["role"], raw, *window)
        if key.keyid != data["keyid"]:
            raise InvalidInputError(f"keyid {data['keyid']!r} is not the SHA-256 of publicKey")
        return key


@attrs.frozen
class Signer:
    """A private key acting for one actor in one role."""

    actor: str
    role: str = attrs.field(validator=_role)
    private_key: Ed25519PrivateKey = attrs.field(repr=False)
    _public: PublicKey = attrs.field(init=False, repr=False, eq=False)

    @_public.default
    def _public_half(self) -> PublicKey:
        raw = self.private_key.public_key().public_bytes_raw()
        return PublicKey(self.actor, self.role, raw)

    @classmethod
    def generate(cls, actor: str, role: str) -> Signer:
        """A new random key for ``actor`` in ``role``."""
        return cls(actor, role, Ed25519PrivateKey.generate())

    @property
    def public(self) -> PublicKey:
        """The public half, for the key directory (derived once, when the signer is made)."""
        return self._public

    @property
    def raw_public_key(self) -> bytes:
        """The 32 raw bytes of the public key."""
        return self.private_key.public_key().public_bytes_raw()

    def sign(self, data: bytes) -> bytes:
        """The Ed25519 signature of ``data``."""
        return self.private_key.sign(data)

    def to_json(self) -> dict[str, str]:
        """The JSON form of a private key file (keep it secret)."""
        seed = self.private_key.private_bytes_raw()
        return {"actor": self.actor, "role": self.role, "seed": base64.b64encode(seed).decode()}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Signer:
        """Load a private key file written by :meth:`to_json`.

        Raises:
            InvalidInputError: not a mapping of the text fields actor, role and seed, or the
                seed is not 32 bytes of base64.
        """
        wrong = [
            name
            for name in ("actor", "role", "seed")
            if not isinstance(data, Mapping) or not isinstance(data.get(name), str)
        ]
        if wrong:
            raise InvalidInputError(
                "not a signer key file: it needs the text fields actor, role and seed"
                f" (missing or not text: {', '.join(wrong)})"
            )
        try:
            seed = base64.b64decode(data["seed"], validate=True)
            private_key = Ed25519PrivateKey.from_private_bytes(seed)
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInputError(f"not a signer key file: {e}") from e
        return cls(data["actor"], data["role"], private_key)


_KEY_FIELDS = ("keyid", "actor", "role", "publicKey", "validFrom", "validUntil")


def time_text(moment: datetime.datetime | None) -> str | None:
    """ISO 8601 UTC text of a time, or None."""
    return None if moment is None else moment.astimezone(datetime.UTC).isoformat()


def parse_time(text: object) -> datetime.datetime | None:
    """Parse ISO 8601 text with an offset (None stays None), or raise InvalidInputError."""
    if text is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(text))
    except ValueError as e:
        raise InvalidInputError(f"{text!r} is not an ISO 8601 time") from e
    if moment.tzinfo is None:
        raise InvalidInputError(f"time {text!r} has no UTC offset")
    return moment


class KeyDirectory:
    """The public keys the ledger accepts, by key id."""

    def __init__(self, keys: Iterable[PublicKey] = ()) -> None:
        self._keys: dict[str, PublicKey] = {}
        for key in keys:
            self.add(key)

    def add(self, key: PublicKey) -> None:
        """Accept ``key``; a later entry for the same key replaces its role and window."""
        self._keys[key.keyid] = key

    def replace(self, keys: Iterable[PublicKey]) -> None:
        """Accept exactly ``keys`` from now on (after a trust root rotation)."""
        self._keys = {key.keyid: key for key in keys}

    def get(self, keyid: str) -> PublicKey:
        """The key with ``keyid``, or raise :class:`UnknownSignerError`."""
        try:
            return self._keys[keyid]
        except KeyError:
            raise UnknownSignerError(f"signed by unknown key {keyid[:16]}") from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, PublicKey) and self._keys.get(key.keyid) == key

    def __iter__(self) -> Iterator[PublicKey]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def to_json(self) -> dict[str, Any]:
        """The JSON form of a key file."""
        return {"keys": [key.to_json() for key in self]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyDirectory:
        """Parse a key file."""
        if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
            raise InvalidInputError('a key file is {"keys": [...]}')
        return cls(PublicKey.from_json(entry) for entry in data["keys"])
