"""The trust root: versioned, threshold-signed lists of actors, keys, roles and windows (SPEC 5).

Document (JSON)::

    {"signed": {"type": "ledger.trust-root", "version": N, "origin": LOG-NAME,
                "issuedAt": TIME, "threshold": T, "witnesses": W, "keys": [KEY, ...]},
     "signatures": [{"keyid": HEX64, "sig": BASE64}, ...]}

Rules (after TUF root metadata):
- Each signature is Ed25519 over the DSSE PAE of ``application/vnd.ledger.trust-root+json``
  and the RFC 8785 bytes of ``signed``.
- A root is valid on its own when at least ``threshold`` distinct *public keys* with role
  ``operator`` in it, valid at ``issuedAt``, signed it. Thresholds never count key ids.
- Version N+1 must also be signed by the threshold of version N's operators (valid at the new
  ``issuedAt``): rotation needs the old and the new root. Versions go up by one, time forward;
  a list of roots is in increasing version order without gaps, from its first root on.
- The version and the threshold are at least 1 and witnesses at least 0, when a root is created
  and when one is read: a root that needs no operator signature is never accepted.
- Revocation closes a key's window (``validUntil``); a key, once listed, is never dropped and
  its window never reopens or moves later, so what it signed inside its window stays provable
  and a revoked key stays revoked.
- ``origin`` names the log; its checkpoints are signed by the ``log`` key whose actor is the
  origin; a proof needs at least ``witnesses`` cosignatures by ``witness`` keys.
"""

from __future__ import annotations

import base64
import datetime
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ledger.audit._canonical import canonical_json
from ledger.audit.envelope import pae
from ledger.audit.keys import KeyDirectory, PublicKey, Signer, parse_time, time_text
from ledger.errors import InvalidInputError, LedgerError, SignatureError, TrustRootError

__all__ = ["ROOT_TYPE", "TrustRoot", "TrustRootError", "verify_chain"]

ROOT_TYPE = "ledger.trust-root"
_PAYLOAD_TYPE = "application/vnd.ledger.trust-root+json"
_SIGNED = {"type", "version", "origin", "issuedAt", "threshold", "witnesses", "keys"}


@attrs.frozen
class TrustRoot:
    """One version of the trust root, with its signatures."""

    version: int
    origin: str
    issued_at: datetime.datetime
    threshold: int
    witnesses: int
    keys: tuple[PublicKey, ...]
    signatures: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def create(
        cls,
        *,
        version: int,
        origin: str,
        issued_at: datetime.datetime,
        threshold: int,
        keys: Iterable[PublicKey],
        witnesses: int = 0,
    ) -> TrustRoot:
        """An unsigned root; sign it with :meth:`signed_by`."""
        if version < 1 or threshold < 1 or witnesses < 0:
            raise InvalidInputError("version and threshold start at 1; witnesses at 0")
        return cls(version, origin, issued_at, threshold, witnesses, tuple(keys))

    def body(self) -> dict[str, Any]:
        """The ``signed`` part."""
        return {
            "type": ROOT_TYPE,
            "version": self.version,
            "origin": self.origin,
            "issuedAt": time_text(self.issued_at),
            "threshold": self.threshold,
            "witnesses": self.witnesses,
            "keys": [key.to_json() for key in self.keys],
        }

    def signing_bytes(self) -> bytes:
        """The exact bytes each signature covers."""
        return pae(_PAYLOAD_TYPE, canonical_json(self.body()))

    def signed_by(self, *signers: Signer) -> TrustRoot:
        """This root with signatures by ``signers`` added."""
        data = self.signing_bytes()
        added = tuple((s.public.keyid, s.sign(data)) for s in signers)
        return attrs.evolve(self, signatures=self.signatures + added)

    def to_json(self) -> dict[str, Any]:
        """The JSON document."""
        signatures = [{"keyid": k, "sig": base64.b64encode(s).decode()} for k, s in self.signatures]
        return {"signed": self.body(), "signatures": signatures}

    @classmethod
    def from_json(cls, data: object) -> TrustRoot:
        """Parse a root document strictly."""
        try:
            return _parse(data)
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, LedgerError):
                raise TrustRootError(str(e)) from e
            raise TrustRootError(f"not a trust root document: {e!r}") from e

    def directory(self) -> KeyDirectory:
        """The keys this root authorizes."""
        return KeyDirectory(self.keys)

    def with_role(self, role: str) -> list[PublicKey]:
        """The keys with ``role``."""
        return [key for key in self.keys if key.role == role]

    def verify_alone(self) -> None:
        """Return None if this root carries its own operator threshold, else raise."""
        _check_numbers(self.version, self.threshold, self.witnesses)
        _require_threshold(self, self, "its own")

    def verify_successor(self, successor: TrustRoot) -> None:
        """Return None if ``successor`` is a valid rotation of this root, else raise."""
        if successor.version != self.version + 1:
            raise TrustRootError(
                f"root version {successor.version} does not follow version {self.version}"
            )
        if successor.issued_at < self.issued_at:
            raise TrustRootError(
                f"root version {successor.version} is dated before its predecessor"
            )
        if successor.origin != self.origin:
            raise TrustRootError(f"root version {successor.version} changes the log origin")
        dropped = {k.keyid for k in self.keys} - {k.keyid for k in successor.keys}
        if dropped:
            raise TrustRootError(
                f"root version {successor.version} drops keys; revoke them instead"
            )
        later = {k.keyid: k for k in successor.keys}
        for key in self.keys:
            kept = later[key.keyid]
            if key.valid_until is not None and (
                kept.valid_until is None or kept.valid_until > key.valid_until
            ):
                raise TrustRootError(
                    f"root version {successor.version} reopens the window of the key of"
                    f" {key.actor!r} that version {self.version} closed; add a new key instead"
                )
        _require_threshold(successor, self, f"version {self.version}'s")
        successor.verify_alone()


def _require_threshold(root: TrustRoot, authority: TrustRoot, whose: str) -> None:
    data = root.signing_bytes()
    operators = {k.keyid: k for k in authority.with_role("operator")}
    good: set[bytes] = set()
    for keyid, sig in root.signatures:
        key = operators.get(keyid)
        if key is None:
            continue
        try:
            key.check_window(root.issued_at)
            key.verify(sig, data)
        except SignatureError:
            continue
        good.add(key.public_key)
    if len(good) < authority.threshold:
        raise TrustRootError(
            f"root version {root.version} has {len(good)} valid signatures by distinct keys of"
            f" {whose} operators; {authority.threshold} needed"
        )


def verify_chain(trusted: TrustRoot, chain: Sequence[TrustRoot]) -> TrustRoot:
    """Walk ``chain`` from the ``trusted`` root to its last version; return the last root.

    The chain must be in increasing version order without gaps; the trusted root must appear in
    it unchanged; every later version must be a valid rotation of the one before it.
    """
    for before, after in itertools.pairwise(chain):
        if after.version != before.version + 1:
            raise TrustRootError(
                f"roots must be listed in increasing version order: version {after.version}"
                f" follows version {before.version}"
            )
    trusted.verify_alone()
    position = next((i for i, r in enumerate(chain) if r.version == trusted.version), None)
    if position is None or chain[position].to_json() != trusted.to_json():
        raise TrustRootError(f"the trusted root version {trusted.version} is not in the chain")
    current = trusted
    for successor in chain[position + 1 :]:
        current.verify_successor(successor)
        current = successor
    return current


def _parse(data: object) -> TrustRoot:
    if not isinstance(data, Mapping) or set(data) != {"signed", "signatures"}:
        raise TrustRootError("a trust root has exactly signed and signatures")
    body, signatures = data["signed"], data["signatures"]
    if not isinstance(body, Mapping) or set(body) != _SIGNED or body["type"] != ROOT_TYPE:
        raise TrustRootError(f"signed must be a {ROOT_TYPE} with exactly {sorted(_SIGNED)}")
    for name in ("version", "threshold", "witnesses"):
        if isinstance(body[name], bool) or not isinstance(body[name], int):
            raise TrustRootError(f"{name} must be an integer")
    _check_numbers(body["version"], body["threshold"], body["witnesses"])
    issued = parse_time(body["issuedAt"])
    if issued is None or not isinstance(body["origin"], str):
        raise TrustRootError("issuedAt and origin are required")
    keys = tuple(PublicKey.from_json(entry) for entry in body["keys"])
    parsed = [_signature(entry) for entry in signatures]
    root = TrustRoot(
        body["version"],
        body["origin"],
        issued,
        body["threshold"],
        body["witnesses"],
        keys,
        tuple(parsed),
    )
    if root.to_json() != data:
        raise TrustRootError("trust root document is not in its normal form")
    return root


def _check_numbers(version: int, threshold: int, witnesses: int) -> None:
    if version < 1 or threshold < 1 or witnesses < 0:
        raise TrustRootError(
            f"version and threshold start at 1 and witnesses at 0; got version {version},"
            f" threshold {threshold}, witnesses {witnesses}"
        )


def _signature(entry: object) -> tuple[str, bytes]:
    if not isinstance(entry, Mapping) or set(entry) != {"keyid", "sig"}:
        raise TrustRootError("a signature has exactly keyid and sig")
    try:
        raw = base64.b64decode(entry["sig"], validate=True)
    except (TypeError, ValueError) as e:
        raise TrustRootError("sig is not base64") from e
    if base64.b64encode(raw).decode() != entry["sig"]:
        raise TrustRootError("sig is not canonical base64")
    return str(entry["keyid"]), raw
