"""``python -m bench``: measure every row of the performance table and write bench/README.md.

Usage::

    python -m bench                 # quick mode (about 2-4 minutes on 2 cores; the first run
                                    # also builds the proof rows' 1,000,000-leaf log, a few
                                    # minutes, kept under bench/.cache for later runs)
    python -m bench --full          # the big sizes (50k imports, 100k-event logs): much longer;
                                    # also writes the curves into docs/scaling.md (or --scaling)
    python -m bench --only retire,audit --no-readme
    python -m bench --toy           # a few seconds: does everything still run?

Heavy cases run one after another, never in parallel (the machine is shared).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import cases
from bench._common import Actors, backends, postgres_reachable, profile
from bench.cases import FULL, QUICK, TOY, Context, Row
from bench.report import render, update_scaling

README = Path(__file__).resolve().parent / "README.md"
SCALING = Path(__file__).resolve().parent.parent / "docs" / "scaling.md"
ORDER = (
    "retire",
    "history",
    "csv",
    "cli-import",
    "audit",
    "audit-memory",
    "proof",
    "rebuild",
    "writers",
    "startup",
)


def _postgres_version() -> str | None:
    from bench._common import POSTGRES

    try:
        import psycopg

        with psycopg.connect(POSTGRES, connect_timeout=3) as connection:
            found = connection.execute("SHOW server_version").fetchone()
        return str(found[0]) if found else None
    except Exception:
        return None


def main(argv: list[str] | None = None) -> int:
    """Run the suite; print each row as it is measured; write the README unless told not to."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="the big sizes (slow)")
    size.add_argument("--toy", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--only", default="", help=f"comma-separated cases of: {','.join(ORDER)}")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite rows only")
    parser.add_argument("--no-profile", action="store_true", help="skip profiles of unmet goals")
    parser.add_argument("--no-readme", action="store_true", help="do not write bench/README.md")
    parser.add_argument("--readme", type=Path, default=README, help="where to write the README")
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="write the curves into docs/scaling.md (always done by --full)",
    )
    args = parser.parse_args(argv)
    sizes = FULL if args.full else TOY if args.toy else QUICK
    only = [name for name in args.only.split(",") if name] or list(ORDER)
    unknown = set(only) - set(ORDER)
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    why = None if args.no_postgres else postgres_reachable()
    if why and not args.no_postgres:
        print(f"PostgreSQL rows skipped: {why}", file=sys.stderr)
    command = "python -m bench" + "".join(f" {a}" for a in (argv or sys.argv[1:]))
    started_at = datetime.datetime.now(datetime.UTC)
    started = time.perf_counter()
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder,
        backends(Path(folder), postgres=not args.no_postgres and why is None) as opened,
    ):
        ctx = Context(sizes, opened, Actors.create(), Path(folder), log=_log)
        needs_logs = {"audit", "audit-memory", "proof", "rebuild", "startup"} & set(only)
        steps: list[tuple[str, Callable[[], Row | list[Row] | None]]] = [
            ("retire", lambda: cases.retire_ratio(ctx)),
            ("history", lambda: cases.retire_history(ctx)),
            ("csv", lambda: cases.csv_ratio(ctx)),
            ("cli-import", lambda: cases.cli_imports(ctx)),
            ("logs", lambda: cases.log_stores(ctx)),
            ("audit", lambda: cases.audit_ratio(ctx)),
            ("audit-memory", lambda: cases.audit_memory(ctx)),
            ("proof", lambda: cases.proofs(ctx)),
            ("rebuild", lambda: cases.rebuild(ctx)),
            ("writers", lambda: cases.writers(ctx)),
            ("startup", lambda: cases.cli_startup(ctx)),
        ]
        for name, step in steps:
            if name == "logs" and not needs_logs:
                continue
            if name != "logs" and name not in only:
                continue
            _log(f"[{time.perf_counter() - started:6.1f} s] {name}")
            try:
                result = step()
            except Exception as e:  # one broken case must not hide the others
                traceback.print_exc()
                if name == "logs":
                    return 1
                rows.append(Row(name, name, "", "", f"failed: {type(e).__name__}: {e}"[:300]))
                continue
            for row in result if isinstance(result, list) else [result] if result else []:
                rows.append(row)
                _log(f"    {row.what}: {row.figure} [{_verdict(row.met)}]")
        if not args.no_profile:
            for row in rows:
                if row.met is False and row.profile is not None and not row.profile_text:
                    _log(f"profiling {row.key}")
                    try:
                        row.profile_text = profile(row.profile)
                    except Exception as e:
                        row.profile_text = f"profile failed: {e}"
        curves = ctx.curves
    seconds = time.perf_counter() - started
    _log(f"done in {seconds:.0f} s")
    if not args.no_readme:
        args.readme.write_text(
            render(
                rows,
                curves,
                command=command,
                mode=sizes.name,
                started=started_at,
                seconds=seconds,
                postgres_version=_postgres_version(),
            )
        )
        _log(f"wrote {args.readme}")
    if (args.full or args.scaling) and not args.only and curves and SCALING.exists():
        date = f"{started_at:%Y-%m-%d}"
        if update_scaling(SCALING, curves, command=command, date=date):
            _log(f"updated the curves in {SCALING}")
    return 0


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: "n/a"}[met]


def _log(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
