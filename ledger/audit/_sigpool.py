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
  checks those signatures itself. A caller that does not ``wait`` (the audit) takes the
  items unchecked (None), and submits no page, while no worker is ready yet (still
  starting), so the pool's start-up does not stall the walk; from then on, while the page
  it needs next has no answer yet, the caller's process does the last page no worker has
  taken yet itself (the same function, withdrawn from the pool), so the walk and the workers
  share the work by their speeds (on a loaded machine the walk does more of it).
- :func:`open_page` (the audit's pages, :meth:`VerifierPool.stream` with ``opened=True``)
  also runs the checks that read an envelope alone: it returns an :class:`Opened` per
  envelope with the envelope read strictly from its canonical bytes and, if they pass, its
  payload's checked body (:meth:`~ledger.audit.envelope.Entry.body_of`). Those checks are
  pure functions of the bytes, so the audit may take their result instead of running them
  again; everything that depends on the log position (the key in force, its window, actor,
  role, chain, rules) is still checked by the audit, and any doubt sends it the old way.
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, NamedTuple, TypeVar

__all__ = ["Opened", "VerifierPool", "check_page", "open_page"]

T = TypeVar("T")
PAGE = 400
AHEAD = 8


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


class Opened(NamedTuple):
    """What a worker found of one envelope whose signature verified.

    ``key``: the raw public key it verified with; ``envelope``: the
    :class:`~ledger.audit.envelope.Envelope` read strictly from the stored bytes; ``body``: its
    payload's body if :meth:`~ledger.audit.envelope.Entry.body_of` passed, else None.
    """

    key: bytes
    envelope: Any
    body: dict[str, Any] | None


def open_page(envelopes: list[bytes], keys: Mapping[str, bytes]) -> list[Opened | None]:
    """For each envelope, :class:`Opened` if it reads strictly and its signature verifies.

    None: the envelope is not in canonical form, or its signature does not verify with the
    key its key id names here (the audit then checks and names it itself).
    """
    from ledger.audit.envelope import Entry, Envelope, pae
    from ledger.errors import LedgerError

    out: list[Opened | None] = []
    for data in envelopes:
        try:
            envelope = Envelope.from_bytes(data)
        except LedgerError:
            out.append(None)
            continue
        message = pae(envelope.payload_type, envelope.payload)
        raw = _verify(keys.get(envelope.keyid), envelope.sig, message)
        if raw is None:
            out.append(None)
            continue
        try:
            body: dict[str, Any] | None = Entry.body_of(envelope)
        except LedgerError:
            body = None
        out.append(Opened(raw, envelope, body))
    return out


_LOADED: dict[bytes, Any] = {}


def _verify(raw: bytes | None, sig: bytes, message: bytes) -> bytes | None:
    """``raw`` if ``sig`` is its Ed25519 signature of ``message``, else None."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if raw is None:
        return None
    public = _LOADED.get(raw)
    if public is None:
        try:
            public = _LOADED[raw] = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            return None
    try:
        public.verify(sig, message)
    except InvalidSignature:
        return None
    return raw


def _result(future: Future[list[Any]], count: int) -> list[Any]:
    try:
        return future.result()
    except Exception:  # a broken worker: the caller checks this page itself
        return [None] * count


def _ready() -> None:
    """Submitting this starts a worker; it loads what a page needs, so its end means ready."""
    import cryptography.hazmat.primitives.asymmetric.ed25519  # noqa: F401

    import ledger.audit.envelope  # noqa: F401


_END: Any = object()


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
            self._started = [self._executor.submit(_ready) for _ in range(workers)]

    def stream(
        self,
        items: Iterable[T],
        data: Any,
        page: int = PAGE,
        *,
        opened: bool = False,
        wait: bool = True,
    ) -> Iterator[tuple[T, Any]]:
        """Each item with what its envelope (``data(item)``) was found to be, in order.

        That is the raw public key it verified with (:func:`check_page`), or with ``opened``
        an :class:`Opened` (:func:`open_page`); None when unchecked or refused, and, unless
        ``wait``, for the items taken while no worker was ready yet.
        """
        work: Callable[[list[bytes], Mapping[str, bytes]], list[Any]] = (
            open_page if opened else check_page
        )
        source = iter(items)
        while not wait and not any(started.done() for started in self._started):
            item = next(source, _END)
            if item is _END:
                return
            yield item, None  # no worker is ready yet: the caller checks this one itself
        pending: deque[tuple[list[T], Future[list[Any]]]] = deque()
        done = False
        while True:
            while not done and len(pending) < AHEAD:
                chunk = [item for _, item in zip(range(page), source, strict=False)]
                if not chunk:
                    done = True
                    break
                future = self._executor.submit(work, [data(i) for i in chunk], self.keys)
                pending.append((chunk, future))
            if not pending:
                return
            if not wait:
                self._help(pending, data, work)
            chunk, future = pending.popleft()
            yield from zip(chunk, _result(future, len(chunk)), strict=True)

    def submit(
        self, envelopes: list[bytes], keys: Mapping[str, bytes] | None = None
    ) -> Future[list[bytes | None]]:
        """Start checking one page without waiting (:func:`check_page`; ``keys`` default ours).

        The future gives each envelope's verifying key, or None; the caller still checks that
        key is the one in force where the envelope sits.
        """
        return self._executor.submit(check_page, envelopes, self.keys if keys is None else keys)

    def wait_ready(self) -> None:
        """Block until every worker has started: a stream that does not wait checks every item."""
        for started in self._started:
            started.result()

    def _help(
        self,
        pending: deque[tuple[list[T], Future[list[Any]]]],
        data: Any,
        work: Callable[[list[bytes], Mapping[str, bytes]], list[Any]],
    ) -> None:
        """While the first page has no answer, do the last page no worker has taken here."""
        first = pending[0][1]
        for at in range(len(pending) - 1, -1, -1):
            if first.done():
                return
            chunk, future = pending[at]
            if future.cancel():
                done: Future[list[Any]] = Future()
                try:
                    done.set_result(work([data(i) for i in chunk], self.keys))
                except Exception as e:  # as a broken worker: the caller checks the page
                    done.set_exception(e)
                pending[at] = (chunk, done)

    def close(self) -> None:
        """Stop the workers (pages not yet taken are dropped)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> VerifierPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
