"""Ed25519 checks of stored envelopes on every core: the audit's verifier pool (issue 13).

Rules:
- A worker process gets a page of stored envelope bytes and the raw public keys by key id; for
  each envelope it returns the raw public key its signature verified with, or None (not
  parsable, an unknown key id, or a signature that does not verify). It decides nothing: the
  audit still parses each envelope strictly, finds the key in force at its log position and
  skips only the Ed25519 check itself, and only when the key in force is the very key
  returned here (:meth:`ledger.audit.envelope.Envelope.verify`). Anything else is checked and
  named by the audit as before, so the verdict and the first failure do not change.
- Workers are started with ``spawn`` (never ``fork``: the parent holds database connections),
  two by default, all at once when the pool is made, with the caller's ``__main__`` hidden
  so a worker never runs the caller's script again (a script without the
  ``if __name__ == "__main__"`` guard would otherwise be re-run in each worker). Pages are
  submitted a few ahead of the walk, so memory holds a bounded number of pages whatever the
  log's size. A page whose worker failed comes back unchecked (all None): the audit then
  checks those signatures itself.
- This module imports only the standard library at load, so a worker starts quickly.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import multiprocessing
import sys
import types
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

__all__ = ["VerifierPool", "check_page"]

T = TypeVar("T")
PAGE = 400
AHEAD = 6


def check_page(envelopes: list[bytes], keys: Mapping[str, bytes]) -> list[bytes | None]:
    """For each envelope, the raw public key its signature verifies with, or None."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    loaded: dict[bytes, Ed25519PublicKey] = {}
    out: list[bytes | None] = []
    for data in envelopes:
        try:
            parsed = json.loads(data)
            (signature,) = parsed["signatures"]
            raw = keys.get(signature["keyid"])
            kind = parsed["payloadType"].encode()
            payload = base64.b64decode(parsed["payload"], validate=True)
            sig = base64.b64decode(signature["sig"], validate=True)
        except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
            out.append(None)
            continue
        if raw is None:
            out.append(None)
            continue
        public = loaded.get(raw)
        if public is None:
            try:
                public = loaded[raw] = Ed25519PublicKey.from_public_bytes(raw)
            except ValueError:
                out.append(None)
                continue
        message = b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)
        try:
            public.verify(sig, message)
        except InvalidSignature:
            out.append(None)
            continue
        out.append(raw)
    return out


def _ready() -> None:
    """A task that does nothing: submitting one starts a worker."""


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Spawned workers start from a blank ``__main__`` instead of the caller's script."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


class VerifierPool:
    """A pool of processes checking signatures ahead of the audit's walk.

    Args:
        keys: every raw public key that may have signed, by key id (a key listed here but not
            in force where it signed is still refused by the audit).
        workers: how many processes.
    """

    def __init__(self, keys: Mapping[str, bytes], workers: int = 2) -> None:
        self.keys = dict(keys)
        self._executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        with _main_hidden():
            for _ in range(workers):
                self._executor.submit(_ready)

    def stream(
        self, items: Iterable[T], data: Any, page: int = PAGE
    ) -> Iterator[tuple[T, bytes | None]]:
        """Each item with the key its envelope (``data(item)``) verified with, in order."""
        source = iter(items)
        pending: deque[tuple[list[T], Future[list[bytes | None]]]] = deque()
        done = False
        while True:
            while not done and len(pending) < AHEAD:
                chunk = [item for _, item in zip(range(page), source, strict=False)]
                if not chunk:
                    done = True
                    break
                future = self._executor.submit(check_page, [data(i) for i in chunk], self.keys)
                pending.append((chunk, future))
            if not pending:
                return
            chunk, future = pending.popleft()
            try:
                found = future.result()
            except Exception:  # a broken worker: the audit checks this page itself
                found = [None] * len(chunk)
            yield from zip(chunk, found, strict=True)

    def close(self) -> None:
        """Stop the workers (pages not yet taken are dropped)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> VerifierPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
