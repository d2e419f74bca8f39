"""The README of a run: the table, the machine, the curves and a profile per unmet goal."""

from __future__ import annotations

import datetime
import platform
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from bench.cases import Curve, Row

# What the profiles of this round's code show, per row (read against the profile below each).
READINGS = {
    "retire": "a retirement is one transaction (`Store.update` -> `LedgerApplication.unit`):"
    " the load fast-forwards the cached aggregate with one select, the write signs once and"
    " keeps what it signed (nothing is read back or verified again), then inserts the event,"
    " its log leaf and nodes; what the plain baseline does not pay is the signature, the"
    " canonical JSON, the advisory lock / BEGIN IMMEDIATE, the log's last-leaf select and the"
    " leaf and node inserts (about 6.5 statements against 3).",
    "history": "the cached aggregate and the verified-entry cache are extended by the new events"
    " only, lots are found by binary search (`domain/_units.py`) and the certificate follows a"
    " kept trail, so a retirement no longer grows with the batch's history.",
    "csv": "rows are written set-based in pages (`store/_bulk.py`), so SQL is a small share;"
    " per row what is left is building the batch as an eventsourcing aggregate (about 31%),"
    " signing it (transcoder, canonical JSON, Ed25519: about 33%) and the CSV field checks, all"
    " on one core.",
    "cli-import": "`import-batches` is the csv row's cost plus the command's start-up;"
    " `ledger import` is the audit's replay (envelope parse and canonical check, Ed25519, the"
    " rule re-run, the domain event) plus the page writes, on one core, and reads the file"
    " twice (about 20%).",
    "audit": "the Ed25519 checks run in 2 spawned processes ahead of the walk, but the walk in"
    " the main process is what bounds it: per event strict JSON parsing, the tagged-value"
    " checks, re-running the event's rule on the aggregate's state (an issuance builds a new"
    " aggregate) and the claims re-made in the scratch SQLite file.",
    "audit-memory": "the audit keeps only open aggregates' states, chain heads and a Merkle"
    " frontier, and the replayed serial claims in a scratch SQLite file (page cache capped at"
    " 4 MB); the small rise at these sizes is SQLite's caches and the pool filling up (99 MiB"
    " at 20,000 events in a helper's run), which a straight-line fit over 1k-4k overstates.",
    "proof-build": "the log is read by index only (`LogStore.indices_of`, `root_indices`,"
    " `inclusion_paths`: O(entries x log n) stored nodes in a few queries), so the time is flat"
    " in log size; what is left is fixed per proof: re-reading the batch's new events"
    " (`select_events`), SQLAlchemy statement overhead and the JSON of the envelopes.",
    "proof-verify": "verify opens every envelope (Ed25519 and the payload's RFC 8785 check,"
    " pure-Python rfc8785) and re-runs the history's rules with the domain's code (deep copies"
    " of the batch's units per event); its size grows with entries x log n.",
    "rebuild": "the goal cannot be met while every signature is verified (SPEC 5a; the insider"
    " review put every check back): the raw read checks none, and a raw Ed25519 verify of the"
    " same events alone costs some 15 to 80 times the raw read (two cores to one, idle to"
    " loaded), so even raw read + raw verify is a ratio well under 0.1 (the ceiling in the"
    " row's details, with the rebuild measured against it). All read models are rebuilt in one"
    " pass (`projections/runner.rebuild`); each view folds a page of events in memory and"
    " writes what changed with a few set-based statements (`apply_page`, inserts as one driver"
    " executemany), and the Ed25519 checks run on the verifier pool's two processes beside the"
    " walk (`projections/_signatures.py`). With the pool running, the main process spends about"
    " half its time in each event's checks on read (`Store.open`; in the profile a third of"
    " that is the strict JSON parse of envelope and payload, a fifth the canonical re-encoding,"
    " a fifth the tagged values, the rest base64, hashes and key and role checks), about a"
    " quarter in the views (mostly inserting the serial-unit lots and history and the"
    " certificate trails), and the rest reading events and log leaves, hashing leaves and"
    " feeding the pool.",
    "writers": "every write shares one serial section: the event table's lock (eventsourcing-"
    "sqlalchemy's LOCK TABLE, which orders notification ids), the event insert, the log's"
    " last-leaf select, the leaf and node inserts and the commit with its WAL flush; with less"
    " CPU per write that section is the larger share, and 8 processes on 2 cores add"
    " switching, so more writers do not add throughput.",
    "one-batch": "writers of one batch take turns on the aggregate's advisory lock (PostgreSQL)"
    " and none fails; each, once it holds the lock, loads the events the others wrote while it"
    " waited and verifies them, so turns cost more than one writer's loop.",
    "startup": "`ledger --help` loads only click; `ledger verify` must load the verifier"
    " (attrs classes, cryptography's Ed25519, rfc8785), click and the credit batch's domain code"
    " (eventsourcing.domain builds its event dataclasses at import): class building at import,"
    " not I/O, is what is left.",
}


def machine(postgres_version: str | None) -> list[str]:
    """CPU model, cores, Python, SQLite and PostgreSQL versions."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import os

    return [
        f"CPU: {model}, {os.cpu_count()} cores ({platform.machine()}, {platform.system()})",
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version};"
        f" PostgreSQL {postgres_version or 'not reachable'}",
    ]


def render(
    rows: Sequence[Row],
    curves: Sequence[Curve],
    *,
    command: str,
    mode: str,
    started: datetime.datetime,
    seconds: float,
    postgres_version: str | None,
) -> str:
    """The Markdown of ``bench/README.md``."""
    out = [
        "# Benchmarks",
        "",
        "Generated by `python -m bench`; do not edit by hand (re-run it). Ratios are baseline"
        " time / ledger time, both measured in the same run on the same backend: the baseline is"
        " plain `eventsourcing` (eventsourcing-sqlalchemy) doing the same number of events, or"
        " the raw operation named. Higher is better for ratios.",
        "",
        f"- Command: `{command}` ({mode} mode, {seconds / 60:.1f} min)",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        *(f"- {line}" for line in machine(postgres_version)),
        "- Noise: other engineers run test suites on the same 2 cores, so absolute times move"
        " between runs by 10-30%; ratios measured side by side in one run move much less. Times"
        " are medians of several repetitions (`time.perf_counter`); memory is the peak RSS of a"
        " child process.",
        "",
        '| what | issue\'s "now" | measured (this run) | goal | met |',
        "|---|---|---|---|---|",
    ]
    for row in rows:
        verdict = {True: "met", False: "**not met**", None: "n/a"}[row.met]
        out.append(f"| {row.what} | {row.now} | {_cell(row.figure)} | {row.goal} | {verdict} |")
    out += ["", "## Baselines and details", ""]
    for row in rows:
        text = "; ".join(part for part in (row.detail, row.note) if part)
        out.append(f"- **{row.key}**: {text}")
    if curves:
        out += ["", "## Curves", "", *curve_tables(curves, "###")]
    unmet = [row for row in rows if row.met is False]
    if unmet:
        out += [
            "## What holds the unmet goals back",
            "",
            "One profiled run of the ledger operation per row (cProfile, top functions by"
            " cumulative time; paths shortened). Read the `cumtime` column.",
            "",
        ]
        for row in unmet:
            out += [f"### {row.key}: {row.what}", ""]
            if row.key in READINGS:
                out += [f"Reading: {READINGS[row.key]}", ""]
            if row.profile_text:
                out += ["```text", row.profile_text, "```", ""]
            else:
                out += ["(no profile taken: several processes; see the reading)", ""]
    return "\n".join(out).rstrip() + "\n"


def curve_tables(curves: Sequence[Curve], heading: str) -> list[str]:
    """Each curve as a heading, a Markdown table and its note."""
    out = []
    for curve in curves:
        out += [f"{heading} {curve.name}", ""]
        out.append("| " + " | ".join(curve.columns) + " |")
        out.append("|" + "---|" * len(curve.columns))
        for values in curve.rows:
            out.append("| " + " | ".join(_fmt(v) for v in values) + " |")
        if curve.note:
            out += ["", curve.note]
        out.append("")
    return out


def update_scaling(path: Path, curves: Sequence[Curve], *, command: str, date: str) -> bool:
    """Replace the curves between the markers of ``docs/scaling.md``; False if none are there."""
    text = path.read_text()
    start, end = "<!-- curves:", "<!-- /curves -->"
    if start not in text or end not in text:
        return False
    head, rest = text.split(start, 1)
    marker, _ = rest.split("\n", 1)
    _, tail = rest.split(end, 1)
    body = [f"Measured by `{command}` on {date}.", "", *curve_tables(curves, "###")]
    path.write_text(head + start + marker + "\n" + "\n".join(body) + end + tail)
    return True


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _fmt(value: object) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
