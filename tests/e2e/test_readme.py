"""The README's Python example runs as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert os.path.exists(tmp_path / "ledger.db")
    assert namespace["certificate"].quantity == 120  # type: ignore[attr-defined]


def test_the_readme_names_the_commands_that_ci_runs() -> None:
    ci = (Path(__file__).parents[2] / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in README and "test-command" in ci
    assert re.search(r"<!-- demo-command -->\n```sh\n.*ledger demo\n```", README)
