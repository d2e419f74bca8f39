"""The worker side of :mod:`ledger.store._signpool`: signing new events in another process.

Rules:
- It lives outside :mod:`ledger.store` so that a worker does not load the store package
  (SQLAlchemy, the recorders, shapely: about a second of a core). A worker loads only the
  modules the store's :class:`~ledger.store._mapper.SigningMapper` is made of: the package
  ``ledger.store`` is entered in a worker's ``sys.modules`` as a bare namespace (its
  ``__init__`` is not run), then ``ledger.store._mapper`` is imported as it is. The worker
  process does nothing else, and the mapper is the very class the store signs with.
- The private key arrives as 32 raw bytes in the arguments ``spawn`` sends a new process over
  its pipe; it is never written to a file.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

__all__ = ["ready", "sign", "start"]

_worker: tuple[Any, Any] | None = None


def start(seed: bytes, actor: str, role: str, keys: list[Any]) -> None:
    """A worker's start: its signer and a signing mapper of its own."""
    global _worker
    if "ledger.store" not in sys.modules:
        package = types.ModuleType("ledger.store")
        package.__path__ = [str(Path(__file__).parent / "store")]
        sys.modules["ledger.store"] = package
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.audit.chain import ChainHeads
    from ledger.audit.keys import KeyDirectory, Signer
    from ledger.store._mapper import SigningMapper
    from ledger.store._transcoder import transcoder

    signer = Signer(actor, role, Ed25519PrivateKey.from_private_bytes(seed))
    _worker = (SigningMapper(transcoder(), KeyDirectory(keys), ChainHeads(_nothing)), signer)


def _nothing(_aggregate: Any, _version: int) -> bytes | None:
    return None


def sign(events: list[Any]) -> list[Any]:
    """Sign a chunk of new events (stored events, in order)."""
    if _worker is None:
        raise RuntimeError("the signing worker was not started")
    mapper, signer = _worker
    try:
        return [mapper.sign(event, signer) for event in events]
    finally:
        mapper.chain.forget({event.originator_id for event in events})


def ready() -> None:
    """A task that does nothing: submitting one starts a worker."""
