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
    "retire": "a retirement is one transaction (`Store.update` -> `LedgerApplication.unit`)"
    " that signs once and keeps what it signed. In the idle run of 2026-11-26 09:02: SQLite"
    " 2.02 ms against plain eventsourcing's 1.74 ms, PostgreSQL 2.22 ms against 3.07 ms (met:"
    " the append, `ledger_append_v2`, and its COMMIT go as one message, where the plain save"
    " pays a round trip per statement). On SQLite the profile below splits a retirement into the"
    " load (about 37%: eventsourcing's get and the select of events written since the cached"
    " version, needed because another process may have written), the save (about 32%: INSERT"
    " ... RETURNING, the log's last-leaf select, the leaf and node inserts), the signature with"
    " its canonical JSON, and the commit's fsync. What the plain baseline does not pay is the"
    " signature and the log's rows, some 0.3 ms: the SQLite ratio sits at the goal's edge"
    " (0.86 to 0.89 across four idle runs).",
    "history": "the cached aggregate and the verified-entry cache are extended by the new events"
    " only, lots are found by binary search (`domain/_units.py`) and the certificate follows a"
    " kept trail, so a retirement no longer grows with the batch's history.",
    "csv": "rows are written set-based in pages (`store/_bulk.py`) and become `Issued` events"
    " without the aggregate (`credit_batch.issue_facts`: the same checks and signed bytes)."
    " Below 4,000 rows (the quick mode's 500) signing stays in the main process and is about"
    " half of the time (transcoder, canonical JSON twice, Ed25519), the CSV checks and the"
    " events about a fifth and the page's SQL (overlap query, claims, insert, log leaves) about"
    " a fifth. From 4,000 rows (the full mode's 5,000) two spawned processes sign each checked"
    " page while the next is checked (`store/_signpool.py`); their start, about 0.4 s of a core"
    " each, weighs on 5,000 rows, and the main process's CSV checks, events and page SQL are"
    " then what bounds it; the plain baseline signs and checks nothing.",
    "cli-import": "`import-batches` is the csv row's cost plus the command's start-up: at"
    " 50,000 rows it passes 5,000 rows/s. `ledger import` checks Ed25519 in the audit's"
    " verifier pool and its first read only recognises event lines; what bounds it is the"
    " replay in the main process: the envelope parse and canonical check, the rule re-run (an"
    " issuance's checks and its new aggregate), the domain event, the second read's strict"
    " parse of every line (history lines are not canonical JSON, so the strict reader stays)"
    " and the page writes. Each aggregate's state is let go after its last event, as the first"
    " read found it, so memory no longer grows with them.",
    "audit": "2 spawned workers read each envelope strictly (canonical form, payload body,"
    " tagged values) and check its Ed25519 signature, in pages of 100 ahead of the walk (the"
    " walk does a page itself rather than wait, and the events before the workers are up);"
    " the walk checks the rest. Measured apart from the workers' share (10,000 events, the"
    " pool's page work timed out), the walk costs about 0.085 ms of CPU per event: the rule"
    " re-run about 21% (the issuance's checks and building its aggregate, now without"
    " eventsourcing's generic mutate), reading the events and log leaves 15%, the final"
    " comparison of the claim tables 11%, the claims made again 10%, the key in force, window,"
    " actor and role checks 8%, decoding the domain event 7%; a worker about 0.17 ms per"
    " event, most of it Ed25519, the rest the strict JSON and canonical checks. So the audit"
    " needs about 0.3 ms of CPU per event in all, and with the walk and the workers sharing"
    " pages by their speeds both cores are busy: at best about 6,000 events/s on two idle"
    " cores (a ratio near 0.8); 1.6 would leave about 0.03 ms per event for everything but"
    " the signature, less than reading the event costs.",
    "audit-memory": "the audit keeps open aggregates' states and chain heads, a Merkle"
    " frontier, at most 8 pool pages of 100 answers, the runs of serials each registry"
    " claimed (at most 4,096 runs) and the replayed serial claims in a scratch SQLite file"
    " (256 KB page cache; its temporary tables and sorts capped alike). Its Python heap stays"
    " at about 10 MB from 5,000 to 30,000 events (tracemalloc); what rises from 10k to 100k"
    " (about 3 MiB, with about 1.5 MiB between runs of one size) is SQLite's and the"
    " allocator's caches filling up, which a straight line through three points carries on"
    " to 1M.",
    "proof-build": "the log is read by index only (`LogStore.indices_of`, `root_indices`,"
    " `inclusion_paths`: O(entries x log n) stored nodes in a few queries), so the time is flat"
    " in log size; what is left is fixed per proof: re-reading the batch's new events"
    " (`select_events`), SQLAlchemy statement overhead and the JSON of the envelopes.",
    "proof-verify": "verify opens every envelope (Ed25519 and the payload's RFC 8785 check,"
    " pure-Python rfc8785) and re-runs the history's rules with the domain's code (deep copies"
    " of the batch's units per event); its size grows with entries x log n.",
    "rebuild": "the goal cannot be met while every signature is verified (SPEC 5a; the insider"
    " review put every check back): the raw read checks none, and a raw Ed25519 verify of the"
    " same events alone costs far more than the raw read, so even raw read + raw verify is a"
    " ratio well under 0.1 (the ceiling in the row's details, with the rebuild measured against"
    " it). All read models are rebuilt in one pass (`projections/runner.rebuild`); each view"
    " folds a page of events in memory and writes what changed with a few set-based statements"
    " (`apply_page`, inserts as one driver executemany), and the Ed25519 checks run on the"
    " verifier pool's two processes beside the walk (`projections/_signatures.py`). In the"
    " profile below (10,000 events, pool running) the main process spends about 57% in each"
    " event's checks on read (`Store.open`: reading envelope and payload by"
    " `canonical_object`, the tagged values, the key, actor and role checks), about 24% in the"
    " views (mostly inserting serial-unit lots, history rows and certificate trails) and the"
    " rest matching each event to its log leaf, its aggregate's chain and feeding the pool.",
    "writers": "in five idle runs on 2026-11-26 (09:02 to 09:24), 8 writers on their own"
    " batches made 1.53x to 1.75x one writer's retirements/s. Every write shares one serial"
    " section, the event table's lock (which orders notification ids) held to the commit; on"
    " PostgreSQL it is one server-side call (`ledger_append_v2`: NOTIFY, lock, event, leaf and"
    " node inserts) whose COMMIT goes in the same message, so what is left in it is the"
    " server's work for the append and the WAL flush. The server runs on the same 2 cores as"
    " the writers, so more writers add only what runs outside that section (signing, canonical"
    " JSON, the load, each writer's own Python) on the core the section leaves free.",
    "one-batch": "in the same runs, 8 writers on one batch made 0.43x to 0.56x one writer's"
    " retirements/s, and none failed. Writers take turns on the aggregate's advisory lock"
    " (PostgreSQL), taken together with the read of the events committed since the writer's"
    " last turn (`ledger_lock_read_v3`). A read verifies every event it loads (an SQL insider"
    " could have slipped one in), so each turn verifies the up to 7 events the others wrote"
    " while it waited, and each hand-over wakes a blocked process; one writer alone verifies"
    " nothing (it keeps what it signed). So the faster the single writer became this round"
    " (some 440/s, from 79/s), the lower the ratio: a turn is one writer's loop plus up to 7"
    " verifications. Catching up in 4 ms slices while waiting (`_WAIT_SLICE`) was measured"
    " again on the idle machine and gained nothing (0.47x against 0.49x blocking), so it stays"
    " off.",
    "startup": "on 2 shared cores wall time is mostly waiting for a core, so the row's details"
    " give the CPU time (user + system) too, and the table below splits `ledger verify`'s CPU"
    " time by what it loads, each stage in a fresh interpreter. In this round's quick run: 105 ms"
    " of CPU, of which a bare interpreter takes 23 ms, click 17 ms, and attrs, cryptography's"
    " Ed25519, rfc8785 and eventsourcing.domain (which builds its own event dataclasses at"
    " import) 25 ms more: 65 ms before any ledger code runs. Ledger's part is about 40 ms: the"
    " verifier's modules and the standard library they add (about 20 ms: a dozen attrs"
    " classes, hashlib loading OpenSSL, the strict JSON reader), the credit batch aggregate"
    " (about 12 ms, mostly dataclasses generating six methods for each of its 10 event classes)"
    " and reading, checking (14 Ed25519 signatures) and replaying the 10-entry proof (about 8"
    " ms). The command line's modules load with the garbage collector paused and, in the"
    " program, frozen (`ledger/cli/_startup.py`: some 10 ms less, most of it the collector's"
    " walk at exit). So 0.15 s of wall time is met when the process gets a core (0.11 s in that"
    " run) and missed on a loaded machine, where wall time has been 2 to 2.5 times the CPU time"
    " (0.29 s for 126 ms before this round): there the libraries alone take some 0.15 s.",
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
