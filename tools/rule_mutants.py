"""Disable each rule check in turn and report whether some test fails (a rule mutation sweep).

A rule check is an ``if`` whose body raises an error naming a rule (``rule="R7"``). For each one
the condition is replaced by ``False`` in the working tree, the tests run, and the file is put
back. A mutant that SURVIVES is a rule no test would notice losing.

Usage (from the repository root; takes minutes):
    python tools/rule_mutants.py ledger/domain/event_neutralization.py [FILE ...]
    MUTANT_TESTS="tests/unit tests/integration" python tools/rule_mutants.py FILE

The tests run on SQLite only (``-k "not postgres"``). Exit code 1 if any mutant survived.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULE = re.compile(r'rule="(R\d+)"')
GUARD = re.compile(r"(\s*)(if|elif) ")


def statement(lines: list[str], start: int) -> str:
    """The statement starting at ``start``, up to where its parentheses balance."""
    text, end = "", start
    while True:
        text += lines[end]
        if text.count("(") <= text.count(")"):
            return text
        end += 1


def guard_of(lines: list[str], raise_at: int) -> tuple[int, int, str] | None:
    """First and last line of the condition enclosing ``raise_at``, and its ``if``/``elif``."""
    indent = len(lines[raise_at]) - len(lines[raise_at].lstrip())
    head = raise_at - 1
    while head >= 0 and (not lines[head].strip() or _indent(lines[head]) >= indent):
        head -= 1
    match = GUARD.match(lines[head]) if head >= 0 else None
    if match is None:
        return None
    end = head
    while not lines[end].rstrip().endswith(":"):
        end += 1
    return head, end, match.group(1) + match.group(2)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def mutants(lines: list[str]) -> list[tuple[int, str, list[str]]]:
    """Each rule check as (line number of the raise, rule, mutated lines)."""
    found = []
    for number, line in enumerate(lines):
        rule = RULE.search(statement(lines, number)) if "raise " in line else None
        guard = guard_of(lines, number) if rule else None
        if rule and guard:
            head, end, keyword = guard
            disabled = f"{keyword} False:\n"
            found.append((number + 1, rule.group(1), [*lines[:head], disabled, *lines[end + 1 :]]))
    return found


def killed(tests: list[str]) -> bool:
    """Whether the tests fail."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    result = subprocess.run([*command, "-k", "not postgres"], cwd=ROOT, capture_output=True)
    return result.returncode != 0


def main(files: list[str]) -> int:
    """Sweep ``files``; print one line per mutant; 1 if any survived."""
    tests = os.environ.get("MUTANT_TESTS", "tests/unit tests/integration").split()
    survivors = 0
    for name in files:
        path = ROOT / name
        original = path.read_text(encoding="utf-8")
        for number, rule, mutated in mutants(original.splitlines(keepends=True)):
            path.write_text("".join(mutated), encoding="utf-8")
            try:
                outcome = "killed" if killed(tests) else "SURVIVED"
            finally:
                path.write_text(original, encoding="utf-8")
            survivors += outcome == "SURVIVED"
            print(f"{name}:{number} {rule} {outcome}", flush=True)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
