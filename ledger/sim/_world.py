"""The simulated world: actors and their keys, derived from the seed, and the trust roots.

Rules:
- Every key is derived from the seed and the actor's name, so a worker process rebuilds the
  same signers from the seed alone (no private key crosses a process boundary in a file).
- Version 1 of the root lists every actor; version 2 (the rotation) closes the window of the
  first key of ``acct-3`` (revocation) and lists a new key for it.
"""

from __future__ import annotations

import datetime
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.keys import Signer
from ledger.audit.trust import TrustRoot

__all__ = [
    "ACCOUNTS",
    "ORIGIN",
    "REGISTRIES",
    "ROTATED",
    "World",
]

ORIGIN = "sim.ledger.local/log"
ACCOUNTS = ("acct-0", "acct-1", "acct-2", "acct-3")
REGISTRIES = ("reg-a", "reg-b")
ROTATED = "acct-3"  # the account whose key is revoked and replaced by the rotation
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _signer(seed: int, actor: str, role: str, generation: int = 1) -> Signer:
    material = hashlib.sha256(f"ledger.sim:{seed}:{actor}:{role}:{generation}".encode()).digest()
    return Signer(actor, role, Ed25519PrivateKey.from_private_bytes(material))


class World:
    """Every actor's signer for one seed.

    Args:
        seed: the run's seed.
        rotated: True once root version 2 is in force (``acct-3`` signs with its new key).
    """

    def __init__(self, seed: int, *, rotated: bool = False) -> None:
        self.seed = seed
        self.rotated = rotated
        self.operators = (_signer(seed, "op-1", "operator"), _signer(seed, "op-2", "operator"))
        self.log = _signer(seed, ORIGIN, "log")
        self.witness = _signer(seed, "sim-witness", "witness")
        self.registries = {name: _signer(seed, name, "registry") for name in REGISTRIES}
        self.old_accounts = {name: _signer(seed, name, "account") for name in ACCOUNTS}
        self.new_key = _signer(seed, ROTATED, "account", generation=2)
        self.accounts = dict(self.old_accounts)
        if rotated:
            self.accounts[ROTATED] = self.new_key
        self.developer = _signer(seed, "dev-0", "developer")
        self.verifier = _signer(seed, "ver-0", "verifier")

    @property
    def revoked(self) -> Signer | None:
        """The revoked key (after the rotation), which workers still try to sign with."""
        return self.old_accounts[ROTATED] if self.rotated else None

    def everyone(self) -> list[Signer]:
        """Every signer of root version 1."""
        return [
            *self.operators,
            self.log,
            self.witness,
            *self.registries.values(),
            *self.old_accounts.values(),
            self.developer,
            self.verifier,
        ]

    def root(self) -> TrustRoot:
        """Trust root version 1: every actor, threshold 2, one witness."""
        return TrustRoot.create(
            version=1,
            origin=ORIGIN,
            issued_at=EPOCH,
            threshold=2,
            witnesses=1,
            keys=[signer.public for signer in self.everyone()],
        ).signed_by(*self.operators)

    def rotation(self, at: datetime.datetime) -> TrustRoot:
        """Root version 2: the first ``acct-3`` key revoked at ``at``, a new one listed."""
        import attrs

        first = self.root()
        revoked = self.old_accounts[ROTATED].public.keyid
        keys = [attrs.evolve(k, valid_until=at) if k.keyid == revoked else k for k in first.keys]
        return attrs.evolve(
            first, version=2, issued_at=at, keys=(*keys, self.new_key.public), signatures=()
        ).signed_by(*self.operators)
