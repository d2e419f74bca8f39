"""Issue 15: ``python -m ledger.sim fuzz`` runs its targets in bounded time and reports figures.

The long mode runs every target for minutes (atheris when installed); here two targets run a
few seconds each, with the installed engine and with the seeded mutation loop, and must find
nothing and count the inputs they tried.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


def fuzz(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ledger.sim", "fuzz", "--workdir", str(tmp_path), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize("engine", ["auto", "mutation"])
def test_the_fuzzer_tries_inputs_on_its_targets_and_finds_nothing(
    tmp_path: Path, engine: str
) -> None:
    done = fuzz(
        tmp_path, "--seconds", "6", "--engine", engine, "--target", "key-file", "--target", "proof"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for target in ("key-file", "proof"):
        found = re.search(rf"fuzz {target}: (\d+) inputs, peak RSS (\d+) MB, ok", done.stdout)
        assert found and int(found[1]) > 0, done.stdout
        assert int(found[2]) < 1024
    assert "findings 0 (none)" in done.stdout
