"""The benchmark suite still runs (toy sizes, SQLite): no timing is asserted, only that it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_toy_run(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--toy",
            "--no-postgres",
            "--no-profile",
            "--only",
            "retire,csv,proof",
            "--readme",
            str(readme),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = readme.read_text()
    assert "| one retirement vs raw load-command-save" in text
    assert "failed:" not in text
