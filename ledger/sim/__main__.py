"""``python -m ledger.sim``: run seeded simulations and audit each one.

Modes:
- one seed: ``--seed S`` (the reproduction printed with every divergence);
- CI: ``--ci``: a small run per backend, bounded to about a minute on 2 cores;
- long: ``--hours H``: seeds one after another (from ``--seed``) on the chosen backends,
  with a line of cumulative figures after each seed, until the time is up.
- ``--rotations R`` trust-root rotations per run (R + 1 phases); ``--outside-kills K``
  SIGKILLs sent by the parent to running workers per phase; ``--pg-restarts P``: PostgreSQL
  runs on the simulator's own server (initdb in a temporary directory), restarted P times per
  phase in fast or immediate mode while the workers run.
- fuzzing: ``python -m ledger.sim fuzz --seconds N`` (:mod:`ledger.sim._fuzz`); in the long
  mode, ``--fuzz-seconds N`` fuzzes every target after the simulations, from the same seed.

Exit 0 when no run diverged, 1 otherwise (every divergence is printed with its seed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ledger.sim._run import POSTGRES, Figures, RunConfig, run_seed


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m ledger.sim", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seed", type=int, default=1, help="the (first) seed")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL URL (a schema is made)")
    parser.add_argument("--workers", type=int, default=3, help="worker processes per phase")
    parser.add_argument("--commands", type=int, default=60, help="commands per worker and phase")
    parser.add_argument("--kills", type=int, default=8, help="SIGKILLs placed per seed")
    parser.add_argument("--ci", action="store_true", help="small bounded run on both backends")
    parser.add_argument("--hours", type=float, help="long mode: seeds in a loop for H hours")
    parser.add_argument("--rotations", type=int, default=1, help="trust-root rotations per run")
    parser.add_argument("--outside-kills", type=int, default=0, help="parent SIGKILLs per phase")
    parser.add_argument(
        "--pg-restarts", type=int, default=0, help="restarts of the run's own server per phase"
    )
    parser.add_argument("--fuzz-seconds", type=float, default=0, help="then fuzz, N seconds")
    parser.add_argument("--keep", action="store_true", help="keep stores and logs")
    parser.add_argument("--workdir", help="where run folders go")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["fuzz"]:
        from ledger.sim._fuzz import main as fuzz

        return fuzz(argv[1:])
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if args.ci:
        args.workers, args.commands, args.kills = 2, 24, 6
        args.rotations, args.outside_kills = 2, 1
        backends = ["sqlite", "postgres"] if args.backend in ("sqlite", "both") else backends
    total = Figures()
    server = None
    if args.pg_restarts and "postgres" in backends:
        from ledger.sim._pgserver import PgServer

        server = PgServer(Path(args.workdir) if args.workdir else None).start()
        args.postgres = server.url
        print(f"PostgreSQL: the run's own server at {server.url} ({server.data})", flush=True)

    def one(seed: int, backend: str) -> None:
        config = RunConfig(
            seed=seed,
            backend=backend,
            postgres=args.postgres,
            workers=args.workers,
            commands=args.commands,
            kills=args.kills,
            keep=args.keep,
            workdir=Path(args.workdir) if args.workdir else None,
            rotations=args.rotations,
            outside_kills=args.outside_kills,
            pg_restarts=args.pg_restarts if backend == "postgres" else 0,
            server=server,
        )
        figures = run_seed(config, out=sys.stdout)
        total.add(figures)
        print(f"seed {seed} {backend}: {figures.line()}", flush=True)
        print(f"cumulative: {total.line()}", flush=True)

    try:
        if args.hours is None:
            for backend in backends:
                one(args.seed, backend)
        else:
            end = time.monotonic() + args.hours * 3600
            seed = args.seed
            while time.monotonic() < end:
                for backend in backends:
                    one(seed, backend)
                seed += 1
    finally:
        if server is not None:
            server.stop()
    fuzz_status = 0
    if args.fuzz_seconds:
        from ledger.sim._fuzz import main as fuzz

        fuzz_argv = ["--seconds", str(args.fuzz_seconds), "--seed", str(args.seed)]
        fuzz_status = fuzz(fuzz_argv + (["--workdir", args.workdir] if args.workdir else []))
    if total.divergences or fuzz_status:
        print(
            f"FAILED: {len(total.divergences)} divergence(s) in {total.failed_seeds}"
            + (", and the fuzzer found something" if fuzz_status else "")
        )
        return 1
    print("OK: no divergence")
    return 0


if __name__ == "__main__":
    sys.exit(main())
