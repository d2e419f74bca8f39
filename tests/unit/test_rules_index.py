"""Every SPEC rule R1-R12 is findable by grep in the code that enforces it and in its tests."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def mentions(folder: str, rule: str) -> list[Path]:
    pattern = re.compile(rf"\b{rule}\b")
    return [
        p for p in (ROOT / folder).rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize("rule", [f"R{n}" for n in range(1, 13)])
def test_each_rule_is_named_in_code_and_in_tests(rule: str) -> None:
    assert mentions("ledger", rule), f"{rule} is named nowhere in ledger/"
    tests = [p for p in mentions("tests", rule) if p.name != "test_rules_index.py"]
    assert tests, f"{rule} is named in no test"
