"""Each role's guide (docs/guide-*.md) runs as written: its sh and python blocks, in order, in
an empty folder, with the ``ledger`` of this environment on the PATH."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs"
ROLES = ("organiser", "registry", "verifier", "auditor", "integrator")


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(sh|python)\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("role", ROLES)
def test_the_guide_for_each_role_runs_top_to_bottom(role: str, tmp_path: Path) -> None:
    blocks = _blocks((DOCS / f"guide-{role}.md").read_text(encoding="utf-8"))
    assert blocks
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    script = tmp_path / "guide.sh"
    lines = ["set -euo pipefail"]
    for number, (kind, body) in enumerate(blocks):
        if kind == "sh":
            lines.append(body)
        else:
            (tmp_path / f"block{number}.py").write_text(body, encoding="utf-8")
            lines.append(f'"{sys.executable}" block{number}.py')
    script.write_text("\n".join(lines), encoding="utf-8")
    done = subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
