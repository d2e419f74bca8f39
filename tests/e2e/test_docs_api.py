"""docs/api.md runs as written, top to bottom."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

API = (Path(__file__).parents[2] / "docs" / "api.md").read_text()


def test_the_api_page_runs_top_to_bottom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", API, flags=re.S)
    assert len(blocks) == 4
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile("\n".join(blocks), "docs/api.md", "exec"), namespace)
    assert (tmp_path / "embedded.db").exists()
    assert namespace["register"]
