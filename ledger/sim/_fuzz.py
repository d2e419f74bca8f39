"""Fuzzing every input a stranger can hand the ledger: ``python -m ledger.sim fuzz``.

Targets (each a function of one byte string, seeded with a valid file of its kind made by
``ledger demo``): ``strict-json``, ``proof`` (a proof file against the demo's trusted root),
``trust-root``, ``key-file`` (public keys, key directories, secret key files), ``history``
(a JSONL history imported into an empty store), ``csv`` (CSV batches imported by a registry),
``event-file`` and ``sink-file`` (``ledger event register`` / ``ledger sink register``
``--file``) and ``cli-args`` (any command line).

Rules:
- An input either is accepted or raises a LedgerError (the command line: exit 0, 1 or 2, a
  one-line message, never a traceback); anything else is a finding, printed with the input.
- No wrong accept: a proof accepted must be the valid proof (the same JSON value), a history
  imported must be the exported one (the same JSON values, line by line), and a refused
  import leaves the store empty.
- Memory is bounded: each target runs in its own process, with libFuzzer's ``-rss_limit_mb``
  (atheris) or a check of the peak RSS after each input (the fallback); the parent reports
  each target's peak RSS from ``wait4``.
- The engine is atheris (coverage-guided libFuzzer, over instrumented code) when it is
  installed, else a seeded mutation loop (bit flips, byte inserts and deletes, splices of the
  seed files); either way ``--seconds`` bounds the run and every figure is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["TARGETS", "main"]

TARGETS = (
    "strict-json",
    "proof",
    "trust-root",
    "key-file",
    "history",
    "csv",
    "event-file",
    "sink-file",
    "cli-args",
)
NOW = "2026-06-01T12:00:00+00:00"  # the command line's injected clock
CSV_HEADER = "instrument,vintage,project,province,methodology,serial_start,serial_end,holder\n"


class WrongAcceptError(Exception):
    """An input the ledger accepted though it is not the valid one it was mutated from."""


# The fixture: a demo ledger and the files a stranger could change ---------------------


class Fixture:
    """The demo folder, its trusted root, and a scratch store per target."""

    def __init__(self, work: Path) -> None:
        from ledger import KeyDirectory, Ledger, TrustRoot
        from ledger.audit import _strict_json as strict_json

        self.work = work
        self.demo = work / "demo"
        if not (self.demo / "proof.json").exists():
            _cli(["demo", "--dir", str(self.demo)])
        self.root = TrustRoot.from_json(
            strict_json.loads((self.demo / "root.json").read_bytes(), source="root")
        )
        self.proof_bytes = (self.demo / "proof.json").read_bytes()
        self.proof = json.loads(self.proof_bytes)
        history = io.StringIO()
        with Ledger(self.demo / "ledger.db", KeyDirectory()) as ledger:
            ledger.export_history(history)
        self.history = history.getvalue()
        self.history_values = [json.loads(line) for line in self.history.splitlines()]
        self.scratch = work / "scratch"
        self.scratch.mkdir(exist_ok=True)
        self._target: Any = None
        self._csv: Any = None
        self._csv_accepts = 0

    def seeds(self, target: str) -> list[bytes]:
        """Valid inputs of ``target``'s kind: the fuzzer starts from them."""
        secrets = sorted((self.demo / "secrets").glob("*.json"))
        docs = Path(__file__).resolve().parents[2] / "docs"
        if target == "strict-json":
            return [self.proof_bytes, (self.demo / "root.json").read_bytes(), b'{"a": [1, 2.5]}']
        if target == "proof":
            return [self.proof_bytes]
        if target == "trust-root":
            return [(self.demo / "root.json").read_bytes()]
        if target == "key-file":
            public = [json.dumps(k.to_json()).encode() for k in self.root.keys[:2]]
            return [secrets[0].read_bytes(), *public]
        if target == "history":
            return [self.history.encode()]
        if target == "csv":
            row = "inclusion-forest,2025,SD-1,Shandong,m,900001,900010,sponsor-demo\n"
            return [(CSV_HEADER + row).encode()]
        if target in ("event-file", "sink-file"):
            index = 1 if target == "event-file" else 4  # the documented event and project
            guide = docs / "events-cli.md"
            blocks = guide.read_text().split("```json\n") if guide.is_file() else []
            found = [blocks[index].split("```", 1)[0].encode()] if len(blocks) > index else []
            return found or [b'{"name": "x"}']
        return [b"verify\x00proof.json\x00--trust\x00root.json", b"audit\x00ledger.db"]

    def target(self) -> Any:
        """An empty store to import histories into (a fresh one after an accept)."""
        from ledger import KeyDirectory, Ledger

        if self._target is None:
            path = self.scratch / "import.db"
            path.unlink(missing_ok=True)
            self._target = Ledger(path, KeyDirectory())
        return self._target

    def reset_target(self) -> None:
        if self._target is not None:
            self._target.close()
            self._target = None

    def csv_store(self) -> Any:
        """A store with the demo's root, for CSV batches (fresh every 200 accepted)."""
        from ledger import Ledger

        if self._csv is None or self._csv_accepts > 200:
            if self._csv is not None:
                self._csv.close()
            path = self.scratch / "csv.db"
            path.unlink(missing_ok=True)
            self._csv = Ledger(path, self.root)
            self._csv_accepts = 0
        return self._csv

    def signer(self, name: str) -> Any:
        from ledger import Signer

        return Signer.from_json(json.loads((self.demo / "secrets" / f"{name}.json").read_text()))


def _cli(args: list[str]) -> Any:
    """Run the command line in-process; the click result (never raises)."""
    from click.testing import CliRunner

    from ledger.cli.main import cli

    return CliRunner().invoke(cli, args)


def _clean_cli(result: Any, args: list[str]) -> None:
    """The command line ended in exit 0, 1 or 2 with no traceback, or raise."""
    if result.exit_code not in (0, 1, 2):
        raise AssertionError(f"exit {result.exit_code} for {args!r}: {result.output[-500:]}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args!r} raised {result.exception!r}") from result.exception
    if "Traceback" in result.output or "internal error" in result.output:
        raise AssertionError(f"a crash for {args!r}: {result.output[-500:]}")


# The targets -------------------------------------------------------------------------


def make_target(name: str, fixture: Fixture) -> Callable[[bytes], None]:
    """The function that feeds one input to ``name``'s reader; it raises on a finding."""
    from ledger import KeyDirectory, LedgerError, Signer, TrustRoot
    from ledger.audit import _strict_json as strict_json
    from ledger.audit.keys import PublicKey
    from ledger.audit.proof import verify_proof

    def parsed(data: bytes, source: str) -> Any:
        return strict_json.loads(data, source=source)

    def strict(data: bytes) -> None:
        with contextlib.suppress(LedgerError):
            parsed(data, "fuzz")

    def proof(data: bytes) -> None:
        try:
            verify_proof(parsed(data, "proof"), fixture.root)
        except LedgerError:
            return
        if json.loads(data) != fixture.proof:
            raise WrongAcceptError(f"a changed proof verified: {data[:300]!r}")

    def trust_root(data: bytes) -> None:
        with contextlib.suppress(LedgerError):
            TrustRoot.from_json(parsed(data, "root"))

    def key_file(data: bytes) -> None:
        try:
            value = parsed(data, "key")
        except LedgerError:
            return
        for reader in (PublicKey.from_json, KeyDirectory.from_json, Signer.from_json):
            with contextlib.suppress(LedgerError):
                reader(value)

    def history(data: bytes) -> None:
        lines = data.decode("utf-8", "replace").splitlines(keepends=True)
        target = fixture.target()
        try:
            target.import_history(lines, trusted=fixture.root)
        except LedgerError:
            if not target.store.is_empty():
                raise WrongAcceptError("a refused import left events in the store") from None
            return
        fixture.reset_target()
        try:
            values = [json.loads(line) for line in lines if line.strip()]
        except ValueError:
            values = []
        if values != fixture.history_values:
            raise WrongAcceptError(f"a changed history was imported: {data[:300]!r}")

    def csv(data: bytes) -> None:
        store = fixture.csv_store()
        registry = fixture.signer("registry")
        try:
            store.import_batches_csv(registry, io.StringIO(data.decode("utf-8", "replace")))
        except LedgerError:
            return
        fixture._csv_accepts += 1

    def register(kind: str, key: str) -> Callable[[bytes], None]:
        def feed(data: bytes) -> None:
            db = fixture.scratch / "files.db"
            if not db.exists():
                shutil.copy(fixture.demo / "ledger.db", db)
            path = fixture.scratch / f"{kind}.json"
            path.write_bytes(data)
            keyfile = str(fixture.demo / "secrets" / f"{key}.json")
            args = ["--now", NOW, kind, "register", str(db), "--key", keyfile, "--file", str(path)]
            _clean_cli(_cli(args), args)

        return feed

    def cli_args(data: bytes) -> None:
        parts = data.decode("utf-8", "replace").split("\x00")[:8]
        with contextlib.chdir(fixture.scratch):
            for name in ("proof.json", "root.json", "ledger.db"):
                if not Path(name).exists():
                    shutil.copy(fixture.demo / name, name)
            _clean_cli(_cli(parts), parts)

    found: dict[str, Callable[[bytes], None]] = {
        "strict-json": strict,
        "proof": proof,
        "trust-root": trust_root,
        "key-file": key_file,
        "history": history,
        "csv": csv,
        "event-file": register("event", "organiser"),
        "sink-file": register("sink", "verifier"),
        "cli-args": cli_args,
    }
    return found[name]


# One target in its own process -------------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mutate(data: bytes, seeds: list[bytes], rng: random.Random) -> bytes:
    """One seeded mutation: flip, insert, delete, duplicate or splice bytes."""
    out = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4])):
        draw = rng.randrange(6)
        at = rng.randrange(len(out) + 1)
        if draw == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif draw == 1:
            out[at:at] = bytes([rng.choice(b'{}[]",:0123456789-.eE\\ \n\x00azAZ\xff')])
        elif draw == 2 and out:
            del out[at : at + rng.randint(1, 16)]
        elif draw == 3 and out:
            out[at:at] = out[max(0, at - 32) : at]
        elif draw == 4:
            other = rng.choice(seeds)
            s = rng.randrange(len(other) + 1)
            out[at:at] = other[s : s + rng.randint(1, 64)]
        else:
            out[at : at + 4] = rng.choice([b"null", b"true", b"1e99", b"-0", b"[]", b"{}", b'""'])
    return bytes(out)


def _child(name: str, seconds: float, work: Path, rss_mb: int, seed: int, engine: str) -> int:
    """Fuzz one target until the time is up; prints ``runs N``, exits 1 on a finding."""
    fixture = Fixture(work)
    feed = make_target(name, fixture)
    seeds = fixture.seeds(name)
    for data in seeds:
        feed(data)  # a valid input must not be refused as a finding either
    if engine == "atheris":
        atheris: Any = importlib.import_module("atheris")  # optional: the ``fuzz`` extra
        corpus = work / "corpus" / name
        corpus.mkdir(parents=True, exist_ok=True)
        for n, data in enumerate(seeds):
            (corpus / f"seed-{n}").write_bytes(data)
        biggest = max(len(s) for s in seeds)
        atheris.Setup(
            [
                sys.argv[0],
                f"-max_total_time={max(1, int(seconds))}",
                f"-rss_limit_mb={rss_mb}",
                f"-max_len={max(4096, 2 * biggest)}",
                "-timeout=60",
                f"-seed={seed}",
                "-print_final_stats=1",
                f"-artifact_prefix={work}/crash-{name}-",
                str(corpus),
            ],
            feed,
        )
        atheris.Fuzz()  # exits the process when the time is up
        return 0
    rng = random.Random(f"{seed}:{name}")
    end = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < end:
        data = _mutate(rng.choice(seeds), seeds, rng)
        try:
            feed(data)
        except Exception:
            (work / f"crash-{name}-{runs}").write_bytes(data)
            raise
        runs += 1
        if _peak_rss_mb() > rss_mb:
            print(f"==ERROR: out of memory: {_peak_rss_mb():.0f} MB > {rss_mb} MB", flush=True)
            return 1
    print(f"Done {runs} runs in {seconds:.0f} second(s)", flush=True)
    return 0


# The entry point ---------------------------------------------------------------------


def _engine(wanted: str) -> str:
    if wanted != "auto":
        return wanted
    return "atheris" if importlib.util.find_spec("atheris") is not None else "mutation"


def main(argv: list[str] | None = None) -> int:
    """``python -m ledger.sim fuzz``: fuzz every target in turn; 0 when nothing was found."""
    parser = argparse.ArgumentParser(prog="python -m ledger.sim fuzz", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60, help="time for all targets")
    parser.add_argument("--target", action="append", choices=TARGETS, help="(repeatable)")
    parser.add_argument("--rss-mb", type=int, default=1024, help="memory bound per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", choices=["auto", "atheris", "mutation"], default="auto")
    parser.add_argument("--workdir", help="where the fixture, corpora and findings go")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    engine = _engine(args.engine)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="ledger-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.child:
        return _child(args.child, args.seconds, work, args.rss_mb, args.seed, engine)
    targets = args.target or list(TARGETS)
    Fixture(work)  # made once, shared by the targets' processes
    each = args.seconds / len(targets)
    total_runs, failed = 0, []
    print(f"fuzz: engine {engine}, seed {args.seed}, {each:.0f} s per target, in {work}")
    for name in targets:
        runs, code, rss, tail = _run_child(name, each, work, args, engine)
        total_runs += runs
        verdict = "ok" if code == 0 else f"FOUND (exit {code}): {tail}"
        if code != 0:
            failed.append(name)
        print(f"fuzz {name}: {runs} inputs, peak RSS {rss:.0f} MB, {verdict}", flush=True)
    print(
        f"fuzz: {total_runs} inputs over {len(targets)} targets, engine {engine}, seed"
        f" {args.seed}, findings {len(failed)} ({', '.join(failed) or 'none'})"
    )
    return 1 if failed else 0


_PLAIN_BOOT = "import sys; from ledger.sim._fuzz import main; sys.exit(main(sys.argv[1:]))"
_ATHERIS_BOOT = f"""
import atheris
with atheris.instrument_imports(include=["ledger"], exclude=["ledger.sim"]):
    import ledger, ledger.cli.main, ledger.audit.proof, ledger.audit._strict_json
{_PLAIN_BOOT}
"""  # coverage of the ledger's own code only: instrumenting every library takes minutes


def _run_child(
    name: str, seconds: float, work: Path, args: argparse.Namespace, engine: str
) -> tuple[int, int, float, str]:
    """Fuzz ``name`` in a new process; (inputs run, exit status, peak RSS in MB, output tail)."""
    out = work / f"{name}.out"
    boot = _ATHERIS_BOOT if engine == "atheris" else _PLAIN_BOOT
    command = [
        sys.executable, "-c", boot, "--child", name, "--seconds", str(seconds),
        "--workdir", str(work), "--rss-mb", str(args.rss_mb), "--seed", str(args.seed),
        "--engine", engine,
    ]  # fmt: skip
    with out.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    text = out.read_text(errors="replace")
    counted = re.findall(r"Done (\d+) runs", text)
    runs = int(counted[-1]) if counted else 0
    tail = "" if process.returncode == 0 else text[-3000:]
    return runs, process.returncode, usage.ru_maxrss / 1024, tail
