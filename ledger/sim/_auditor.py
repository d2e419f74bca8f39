"""The auditor: what a run's store must satisfy, checked from the signed history alone.

Rules (each failure is one line, a divergence):
- ``Ledger.audit`` passes against the run's trusted root and the latest cosigned checkpoint a
  worker was acknowledged (so nothing acknowledged was cut off the log).
- Units, folded afresh from the signed events (not with the domain's code): every event moves
  units from the state its kind allows, for its actor; a unit is never in two states; per batch
  issued = held + reserved + retired + exported; one registry's serial blocks never overlap.
- Parcels: no parcel id in two sink projects, no two projects' areas sharing interior points,
  no project bound twice; so no parcel or area backs two events (R9).
- Commands: for every signature, acknowledged <= found in the history <= acknowledged + cut
  short (killed, or ``indeterminate``: its connection lost in a server restart); so every
  acknowledged command is present and no refused one left anything. Every
  signed event belongs to some logged command. A command that raised anything but a
  LedgerError is a divergence.
- Read models: the projector resumes from its kept position to the same rows as a rebuild
  from zero.
- Imports cut short left an empty store; finished ones audit.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from ledger import KeyDirectory, Ledger, LedgerError
from ledger.audit.note import SignedNote
from ledger.audit.trust import TrustRoot
from ledger.domain.topics import Batch, Sink
from ledger.sim._signatures import Sig, signature

__all__ = ["Commands", "Findings", "audit_run", "read_logs"]


@attrs.define
class Commands:
    """Every logged command: its op, signatures and outcome (None: cut short)."""

    ops: dict[str, str] = attrs.Factory(dict)
    sigs: dict[str, list[Sig]] = attrs.Factory(dict)
    outcomes: dict[str, str | None] = attrs.Factory(dict)
    results: dict[str, Any] = attrs.Factory(dict)
    args: dict[str, dict[str, Any]] = attrs.Factory(dict)
    errors: list[str] = attrs.Factory(list)
    kills: Counter[str] = attrs.Factory(Counter)

    def count(self, outcome: str | None) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)


@attrs.define
class Findings:
    """What the audit found: divergences, and figures."""

    divergences: list[str] = attrs.Factory(list)
    events: int = 0

    def add(self, text: str) -> None:
        self.divergences.append(text)


def read_logs(paths: list[Path]) -> Commands:
    """Every command of the workers' logs."""
    found = Commands()
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            if "kill" in record:
                found.kills[record["kill"]] += 1
                continue
            ident = record["id"]
            if "op" in record:
                found.ops[ident] = record["op"]
                found.sigs[ident] = [tuple(s) for s in record["sigs"]]
                found.outcomes[ident] = None
                found.args[ident] = record.get("args", {})
            else:
                found.outcomes[ident] = record["outcome"]
                found.results[ident] = record.get("result")
                if record["outcome"] == "error":
                    found.errors.append(
                        f"command {ident} ({found.ops.get(ident)}) raised"
                        f" {record['error']}\n{record.get('traceback', '')}"
                    )
    return found


def audit_run(
    url: str, schema: str | None, root: TrustRoot, commands: Commands, findings: Findings
) -> None:
    """Check the store at ``url`` against the logged ``commands``; add what fails."""
    for error in commands.errors:
        findings.add(error)
    held = _held(commands)
    with Ledger(url, KeyDirectory(), schema=schema) as ledger:
        try:
            report = ledger.audit(root, held)
            findings.events = report.events
        except LedgerError as e:
            findings.add(f"audit: {type(e).__name__}: {e}")
        history = _history(ledger, findings)
        _check_units(history, findings)
        _check_parcels(history, findings)
        _check_commands(history, commands, findings)
        _check_projections(ledger, findings)
    _check_imports(commands, root, findings)


def _held(commands: Commands) -> SignedNote | None:
    best: SignedNote | None = None
    for ident, op in commands.ops.items():
        if op == "cosign" and commands.outcomes[ident] == "ack":
            note = SignedNote.parse(commands.results[ident])
            if best is None or note.checkpoint.size > best.checkpoint.size:
                best = note
    return best


def _history(ledger: Ledger, findings: Findings) -> list[tuple[str, str, dict[str, Any]]]:
    """(topic, aggregate, signed fields) of every stored event, in log order."""
    store = ledger.store
    found = []
    try:
        for notification in store.notifications():
            entry = store.open(notification)
            found.append((entry.topic, entry.aggregate, entry.event))
    except LedgerError as e:
        findings.add(f"history: {type(e).__name__}: {e}")
    return found


# Units -----------------------------------------------------------------------------------

_FROM: dict[str, tuple[str, ...]] = {
    Batch.TRANSFERRED: ("held",),
    Batch.DONATED: ("held",),
    Batch.RESERVED: ("held",),
    Batch.RELEASED: ("reserved",),
    Batch.RETIRED: ("held", "reserved"),
    Batch.EXPORTED: ("held",),
}
_TO = {
    Batch.TRANSFERRED: "held",
    Batch.DONATED: "held",
    Batch.RESERVED: "reserved",
    Batch.RELEASED: "held",
    Batch.RETIRED: "retired",
    Batch.EXPORTED: "exported",
}

Run = tuple[int, int, str, str, str | None]  # start, end, state, account, purpose


def _check_units(history: list[tuple[str, str, dict[str, Any]]], findings: Findings) -> None:
    batches: dict[str, list[Run]] = {}
    issued: dict[str, tuple[str, int, int]] = {}
    for topic, aggregate, e in history:
        if topic == Batch.ISSUED:
            start, end = e["serial_start"], e["serial_end"]
            for other, (registry, s, t) in issued.items():
                if registry == e["registry"] and s <= end and start <= t:
                    findings.add(
                        f"serials: batch {aggregate} ({start}-{end}) overlaps batch {other}"
                        f" ({s}-{t}) of registry {registry}"
                    )
            issued[aggregate] = (e["registry"], start, end)
            batches[aggregate] = [(start, end, "held", e["holder"], None)]
        elif topic in _FROM:
            runs = batches.get(aggregate)
            if runs is None:
                findings.add(f"units: {topic} on batch {aggregate} before its issuance")
                continue
            start, end, actor = e["serial_start"], e["serial_end"], e["actor"]
            for s, t, state, account, purpose in runs:
                if t < start or end < s:
                    continue
                wanted_purpose = e.get("event_name") if state == "reserved" else purpose
                if state not in _FROM[topic] or account != actor or purpose != wanted_purpose:
                    findings.add(
                        f"units: {topic} of {start}-{end} in batch {aggregate} by {actor}, but"
                        f" {max(s, start)}-{min(t, end)} are {state} for {account}"
                        f" ({purpose}): a unit in two states"
                    )
            covered = sum(
                min(t, end) - max(s, start) + 1 for s, t, *_ in runs if s <= end and start <= t
            )
            if covered != end - start + 1:
                findings.add(f"units: {topic} of {start}-{end} outside batch {aggregate}")
            account = e.get("to", actor)
            purpose = e.get("event_name") or e.get("target_registry")
            if topic == Batch.RELEASED:
                purpose = None
            batches[aggregate] = _assign(runs, start, end, (_TO[topic], account, purpose))
    for aggregate, runs in batches.items():
        _, first, last = issued[aggregate]
        totals: Counter[str] = Counter()
        expected = first
        for s, t, state, *_ in sorted(runs):
            if s != expected:
                findings.add(f"units: batch {aggregate} has a gap or overlap at serial {s}")
            expected = t + 1
            totals[state] += t - s + 1
        if expected != last + 1 or sum(totals.values()) != last - first + 1:
            findings.add(
                f"units: batch {aggregate}: issued {last - first + 1} != held + reserved +"
                f" retired + exported {dict(totals)}"
            )


def _assign(runs: list[Run], start: int, end: int, what: tuple[str, str, str | None]) -> list[Run]:
    kept: list[Run] = []
    for s, t, *rest in runs:
        if t < start or end < s:
            kept.append((s, t, *rest))  # type: ignore[arg-type]
            continue
        if s < start:
            kept.append((s, start - 1, *rest))  # type: ignore[arg-type]
        if end < t:
            kept.append((end + 1, t, *rest))  # type: ignore[arg-type]
    kept.append((start, end, *what))
    return sorted(kept)


# Parcels ---------------------------------------------------------------------------------


def _check_parcels(history: list[tuple[str, str, dict[str, Any]]], findings: Findings) -> None:
    from shapely.geometry import shape

    owners: dict[str, str] = {}
    areas: list[tuple[str, str, Any]] = []
    bound: Counter[str] = Counter()
    for topic, aggregate, e in history:
        if topic == Sink.BOUND:
            bound[aggregate] += 1
            if bound[aggregate] > 1:
                findings.add(f"parcels: sink project {aggregate} is bound to a second event")
        if topic != Sink.REGISTERED:
            continue
        for parcel in e["parcels"]:
            ident = parcel["id"]
            if ident in owners:
                findings.add(
                    f"parcels: parcel {ident} registered by {owners[ident]} and again by"
                    f" {aggregate}"
                )
            owners[ident] = aggregate
            if parcel.get("geometry"):
                area = shape(json.loads(parcel["geometry"]))
                for other_id, other_project, other in areas:
                    if other_project != aggregate and area.relate_pattern(other, "T********"):
                        findings.add(
                            f"parcels: parcel {ident} of {aggregate} overlaps parcel {other_id}"
                            f" of {other_project}"
                        )
                areas.append((ident, aggregate, area))


# Commands --------------------------------------------------------------------------------


def _check_commands(
    history: list[tuple[str, str, dict[str, Any]]], commands: Commands, findings: Findings
) -> None:
    found: Counter[Sig] = Counter(signature(t, a, e) for t, a, e in history)
    acked: Counter[Sig] = Counter()
    unknown: Counter[Sig] = Counter()
    refused: dict[Sig, str] = {}
    for ident, sigs in commands.sigs.items():
        outcome = commands.outcomes[ident]
        for sig in sigs:
            if outcome == "ack":
                acked[sig] += 1
            elif outcome in (None, "indeterminate"):
                unknown[sig] += 1
            else:
                refused.setdefault(sig, ident)
    for sig in sorted(set(found) | set(acked), key=str):
        if found[sig] < acked[sig]:
            findings.add(
                f"commands: {acked[sig]} acknowledged command(s) left {sig}, found"
                f" {found[sig]} (an acknowledged command lost)"
            )
        elif found[sig] > acked[sig] + unknown[sig]:
            who = refused.get(sig)
            what = f"refused command {who} ({commands.ops[who]})" if who else "no command"
            findings.add(
                f"commands: {sig} found {found[sig]} times, acknowledged {acked[sig]}, cut"
                f" short {unknown[sig]}: written by {what}"
            )


# Read models -----------------------------------------------------------------------------


def _check_projections(ledger: Ledger, findings: Findings) -> None:
    from ledger.projections.check import READ_MODELS, fresh
    from ledger.projections.runner import ProjectionRunner

    store = ledger.store
    for make in READ_MODELS:
        try:
            runner = ProjectionRunner(store, make(), store.schema)
            runner.catch_up(page=200)
            live = runner.snapshot()
            rebuilt = fresh(store, make()).snapshot()
        except LedgerError as e:
            findings.add(f"read model {make.__name__}: {type(e).__name__}: {e}")
            continue
        for table, rows in rebuilt.items():
            if live.get(table) != rows:
                findings.add(
                    f"read model {make.__name__}: table {table} resumed to"
                    f" {len(live.get(table, []))} rows, a rebuild has {len(rows)} (or they differ)"
                )


# Imports ---------------------------------------------------------------------------------


def _check_imports(commands: Commands, root: TrustRoot, findings: Findings) -> None:
    for ident, op in commands.ops.items():
        if op != "import":
            continue
        target = Path(commands.args[ident]["target"])
        outcome = commands.outcomes[ident]
        if not target.exists():
            if outcome == "ack":
                findings.add(f"import {ident}: acknowledged, but {target} is missing")
            continue
        with Ledger(target, KeyDirectory()) as imported:
            if imported.store.is_empty():
                if outcome == "ack":
                    findings.add(f"import {ident}: acknowledged, but {target} is empty")
                continue
            if outcome in ("refused", "error"):
                findings.add(f"import {ident}: {outcome}, but {target} holds events")
            try:
                report = imported.audit(root)
            except LedgerError as e:
                findings.add(f"import {ident}: audit: {type(e).__name__}: {e}")
                continue
            if outcome == "ack" and report.events != commands.results[ident]:
                findings.add(
                    f"import {ident}: {report.events} events audited, {commands.results[ident]}"
                    " imported"
                )
