"""The simulated world: actors and their keys, derived from the seed, and the trust roots.

Rules:
- Every key is derived from the seed and the actor's name, so a worker process rebuilds the
  same signers from the seed alone (no private key crosses a process boundary in a file).
- Version 1 of the root lists every actor; each later version (a rotation) closes the window
  of the current key of one account (revocation: ``acct-3``, then ``acct-2``, ``acct-1``,
  ``acct-0``, ``acct-3`` again...) and lists that account's next key. A revoked key stays in
  the world, and workers keep trying to sign with it (it must be refused).
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
    "ROTATING",
    "World",
]

ORIGIN = "sim.ledger.local/log"
ACCOUNTS = ("acct-0", "acct-1", "acct-2", "acct-3")
REGISTRIES = ("reg-a", "reg-b")
ROTATED = "acct-3"  # the account whose key the first rotation revokes and replaces
ROTATING = ("acct-3", "acct-2", "acct-1", "acct-0")  # rotation n rotates ROTATING[(n-1) % 4]
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _signer(seed: int, actor: str, role: str, generation: int = 1) -> Signer:
    material = hashlib.sha256(f"ledger.sim:{seed}:{actor}:{role}:{generation}".encode()).digest()
    return Signer(actor, role, Ed25519PrivateKey.from_private_bytes(material))


class World:
    """Every actor's signer for one seed, at one version of the trust root.

    Args:
        seed: the run's seed.
        version: the trust root version in force (1: before any rotation).
        rotated: shorthand for ``version=2`` (one rotation).
    """

    def __init__(self, seed: int, *, version: int = 1, rotated: bool = False) -> None:
        self.seed = seed
        self.version = max(version, 2 if rotated else 1)
        self.rotated = self.version > 1
        self.operators = (_signer(seed, "op-1", "operator"), _signer(seed, "op-2", "operator"))
        self.log = _signer(seed, ORIGIN, "log")
        self.witness = _signer(seed, "sim-witness", "witness")
        self.registries = {name: _signer(seed, name, "registry") for name in REGISTRIES}
        self.old_accounts = {name: _signer(seed, name, "account") for name in ACCOUNTS}
        self.generations = dict.fromkeys(ACCOUNTS, 1)
        self.revoked_keys: list[Signer] = []
        for rotation in range(1, self.version):
            account = ROTATING[(rotation - 1) % len(ROTATING)]
            self.revoked_keys.append(self._account(account))
            self.generations[account] += 1
        self.accounts = {name: self._account(name) for name in ACCOUNTS}
        self.new_key = _signer(seed, ROTATED, "account", generation=2)
        self.developer = _signer(seed, "dev-0", "developer")
        self.verifier = _signer(seed, "ver-0", "verifier")

    def _account(self, name: str) -> Signer:
        return _signer(self.seed, name, "account", self.generations[name])

    @property
    def revoked(self) -> Signer | None:
        """A revoked key (the latest revoked), which workers still try to sign with."""
        return self.revoked_keys[-1] if self.revoked_keys else None

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

    def rotation(self, at: datetime.datetime, previous: TrustRoot | None = None) -> TrustRoot:
        """The next root version: this version's key of the next rotating account revoked.

        Args:
            at: when the revoked key's window closes.
            previous: the root in force (this world's version); default: version 1.
        """
        import attrs

        first = previous if previous is not None else self.root()
        if first.version != self.version:
            raise ValueError(f"the root in force is version {first.version}, not {self.version}")
        account = ROTATING[(self.version - 1) % len(ROTATING)]
        revoked = self.accounts[account].public.keyid
        following = _signer(self.seed, account, "account", self.generations[account] + 1)
        keys = [
            attrs.evolve(k, valid_until=at) if k.keyid == revoked and k.valid_until is None else k
            for k in first.keys
        ]
        return attrs.evolve(
            first,
            version=self.version + 1,
            issued_at=at,
            keys=(*keys, following.public),
            signatures=(),
        ).signed_by(*self.operators)
