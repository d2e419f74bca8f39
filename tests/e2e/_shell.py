"""Running the ``ledger`` command line as a user does, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m ledger ARGS`` with its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        stdin=subprocess.DEVNULL,  # never a terminal: a confirmation is never waited for
        timeout=120,
        check=False,
    )
