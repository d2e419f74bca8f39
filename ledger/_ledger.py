"""The public facade: open a ledger and combine its command groups behind one object.

Rules:
- ``Ledger`` only opens and closes a :class:`~ledger.store.Store` and combines the command
  groups of :mod:`ledger.commands` (batches, sinks, neutralization, transparency,
  interchange); every method is one of theirs, documented there, and takes the acting
  :class:`~ledger.audit.keys.Signer` explicitly where it writes.
- Opening with a trust root: an empty store adopts it; a store whose roots hold it unchanged
  opens with the keys of its latest root, once every later root verifies as a rotation of it;
  the next version after the store's latest is adopted as a rotation. A store whose roots do
  not descend from the given one is refused (:class:`~ledger.errors.TrustRootError`).
- Opening with ``None`` trusts the store's own first root (its later roots must still verify
  as rotations): fine for the operator's own tools, never for an auditor or a verifier.
- A database is a path (a SQLite file, created if missing) or a URL: ``sqlite:///...`` or
  ``postgresql://...`` (run with psycopg 3).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Concatenate, ParamSpec, TypeVar

from ledger.audit.keys import KeyDirectory
from ledger.audit.trust import TrustRoot, verify_chain
from ledger.commands import (
    BatchCommands,
    Clock,
    Context,
    InterchangeCommands,
    NeutralizationCommands,
    SinkCommands,
    TransparencyCommands,
    utc_now,
)
from ledger.errors import NotFoundError, TrustRootError
from ledger.store import Store, database_url, holds_ledger

__all__ = ["Ledger", "database_url", "holds_ledger"]

P = ParamSpec("P")
R = TypeVar("R")
G = TypeVar("G")


def _via(group: str, method: Callable[Concatenate[G, P], R]) -> Callable[Concatenate[Ledger, P], R]:
    """A facade method that runs ``method`` of the command group ``group``."""

    def call(self: Ledger, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(getattr(self, group), *args, **kwargs)

    functools.update_wrapper(call, method)
    return call


class Ledger:
    """An event-sourced, signed ledger of credit batches, sink projects and retirements.

    Args:
        database: a SQLite file path, or a ``sqlite:///`` or ``postgresql://`` URL.
        keys: the trust root to adopt (if the ledger does not have it yet) and whose keys it
            accepts; or ``None`` to use the latest adopted root; or a plain key directory
            (no proofs until a root is adopted). The ``account`` actors are the accounts that
            may hold units.
        schema: a PostgreSQL schema to keep the tables in (default: the search path).
        clock: returns the current time (UTC); inject one to test dates.

    Attributes:
        store: the opened store. batches, sinks, neutralization, transparency, interchange:
            the command groups whose methods the ledger offers.
    """

    def __init__(
        self,
        database: str | Path,
        keys: KeyDirectory | TrustRoot | None = None,
        *,
        schema: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.keys = keys if isinstance(keys, KeyDirectory) else KeyDirectory()
        self.clock = clock
        self.store = Store(database, self.keys, schema=schema)
        context = Context(self.store, clock)
        self.batches = BatchCommands(context)
        self.sinks = SinkCommands(context)
        self.neutralization = NeutralizationCommands(context, self.batches, self.sinks)
        self.transparency = TransparencyCommands(context, self.batches)
        self.interchange = InterchangeCommands(context, self.transparency)
        if not isinstance(keys, KeyDirectory):
            try:
                self._trust(keys)
            except BaseException:
                self.store.close()
                raise

    def _trust(self, root: TrustRoot | None) -> None:
        adopted = self.trust_roots()
        if not adopted:
            if root is None:
                raise NotFoundError("this ledger has no trust root yet; open it with one")
            self.adopt_root(root)
            return
        if root is not None and root.version == adopted[-1].version + 1:
            verify_chain(adopted[0], adopted)
            self.adopt_root(root)
            return
        try:
            latest = verify_chain(adopted[0] if root is None else root, adopted)
        except TrustRootError as e:
            raise TrustRootError(
                f"the store's trust roots (versions 1 to {adopted[-1].version}) do not descend"
                f" from the root you gave: {e}"
            ) from e
        self.keys.replace(latest.keys)

    # BatchCommands -------------------------------------------------------------------
    issue_batch = _via("batches", BatchCommands.issue_batch)
    transfer = _via("batches", BatchCommands.transfer)
    donate = _via("batches", BatchCommands.donate)
    split = _via("batches", BatchCommands.split)
    reserve = _via("batches", BatchCommands.reserve)
    release = _via("batches", BatchCommands.release)
    retire = _via("batches", BatchCommands.retire)
    export = _via("batches", BatchCommands.export)
    batch = _via("batches", BatchCommands.batch)
    batch_list = _via("batches", BatchCommands.batch_list)
    holdings = _via("batches", BatchCommands.holdings)
    recheck = _via("batches", BatchCommands.recheck)
    held_ranks = _via("batches", BatchCommands.held_ranks)
    history = _via("batches", BatchCommands.history)
    provenance = _via("batches", BatchCommands.provenance)
    certificate = _via("batches", BatchCommands.certificate)

    # SinkCommands --------------------------------------------------------------------
    register_sink_project = _via("sinks", SinkCommands.register_sink_project)
    bind_sink_project = _via("sinks", SinkCommands.bind_sink_project)
    file_sink_application = _via("sinks", SinkCommands.file_sink_application)
    validate_sink_project = _via("sinks", SinkCommands.validate_sink_project)
    measure_sink_removals = _via("sinks", SinkCommands.measure_sink_removals)
    issue_sink_removals = _via("sinks", SinkCommands.issue_sink_removals)
    sink_project = _via("sinks", SinkCommands.sink_project)
    sink_deadlines = _via("sinks", SinkCommands.sink_deadlines)
    bound_projects = _via("sinks", SinkCommands.bound_projects)

    # NeutralizationCommands ----------------------------------------------------------
    register_event = _via("neutralization", NeutralizationCommands.register_event)
    event = _via("neutralization", NeutralizationCommands.event)
    publish_plan = _via("neutralization", NeutralizationCommands.publish_plan)
    record_measure = _via("neutralization", NeutralizationCommands.record_measure)
    report_measure = _via("neutralization", NeutralizationCommands.report_measure)
    account_emissions = _via("neutralization", NeutralizationCommands.account_emissions)
    allocate_offsets = _via("neutralization", NeutralizationCommands.allocate_offsets)
    retire_offsets = _via("neutralization", NeutralizationCommands.retire_offsets)
    commit_neutrality = _via("neutralization", NeutralizationCommands.commit_neutrality)
    evaluate_event = _via("neutralization", NeutralizationCommands.evaluate_event)
    confirm_event = _via("neutralization", NeutralizationCommands.confirm_event)
    event_deadlines = _via("neutralization", NeutralizationCommands.event_deadlines)

    # TransparencyCommands ------------------------------------------------------------
    trust_roots = _via("transparency", TransparencyCommands.trust_roots)
    adopt_root = _via("transparency", TransparencyCommands.adopt_root)
    sign_checkpoint = _via("transparency", TransparencyCommands.sign_checkpoint)
    latest_checkpoint = _via("transparency", TransparencyCommands.latest_checkpoint)
    consistency = _via("transparency", TransparencyCommands.consistency)
    add_cosignature = _via("transparency", TransparencyCommands.add_cosignature)
    audit = _via("transparency", TransparencyCommands.audit)
    disclosures = _via("transparency", TransparencyCommands.disclosures)
    certificate_list = _via("transparency", TransparencyCommands.certificate_list)
    proof = _via("transparency", TransparencyCommands.proof)

    # InterchangeCommands -------------------------------------------------------------
    export_history = _via("interchange", InterchangeCommands.export_history)
    import_history = _via("interchange", InterchangeCommands.import_history)
    import_batches_csv = _via("interchange", InterchangeCommands.import_batches_csv)

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
