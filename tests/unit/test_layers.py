"""The layers stay visible: who may import whom (docs/architecture.md).

domain -> nothing outward; audit (the pure verifier) -> domain's constants, values and replay
(the rules it re-runs over a proof);
store -> audit, domain; projections -> store, audit, domain; commands -> store, projections,
audit, domain; the facade -> commands; the CLI -> the public API only.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ledger"
STORAGE = ("sqlalchemy", "eventsourcing_sqlalchemy", "shapely", "numpy", "psycopg")
RENDERING = ("reportlab", "jinja2", "segno", "markupsafe", "PIL", "rich", "openpyxl")


def _imports(folder: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found += [(path.name, f"{node.module}.{a.name}") for a in node.names]
            elif isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
    return found


def _offenders(folder: str, allowed: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (name, module)
        for name, module in _imports(folder)
        if module.split(".")[0] in ("ledger", *STORAGE, "eventsourcing", "cryptography")
        and not module.startswith(allowed)
    ]


def test_the_domain_imports_nothing_outward() -> None:
    allowed = ("ledger.domain", "ledger.errors", "eventsourcing.domain", "eventsourcing.utils")
    assert _offenders("domain", allowed) == []


def test_the_verifier_imports_no_storage_projections_commands_or_cli() -> None:
    allowed = (
        "ledger.audit",
        "ledger.errors",
        "ledger.domain.topics",
        "ledger.domain.values",
        "ledger.domain.replay",  # the rules, re-run over a proof's signed history
        "cryptography",
    )
    assert _offenders("audit", allowed) == []


def test_the_store_imports_no_commands_projections_or_cli() -> None:
    bad = ("ledger.commands", "ledger.projections", "ledger.cli", "ledger._ledger")
    assert [(n, m) for n, m in _imports("store") if m.startswith(bad)] == []


def test_projections_import_no_commands_or_cli() -> None:
    bad = ("ledger.commands", "ledger.cli", "ledger._ledger")
    assert [(n, m) for n, m in _imports("projections") if m.startswith(bad)] == []


def test_command_groups_import_no_cli_and_not_the_facade() -> None:
    bad = ("ledger.cli", "ledger._ledger")
    assert [(n, m) for n, m in _imports("commands") if m.startswith(bad)] == []


def test_the_command_line_uses_only_the_public_api() -> None:
    public = ("ledger", "ledger.audit", "ledger.accounting", "ledger.errors", "ledger.render")
    offenders = [
        (name, module)
        for name, module in _imports("cli")
        if module.split(".")[0] in ("ledger", *STORAGE, "eventsourcing")
        and not module.startswith("ledger.cli")
        and module not in public
        and module.rsplit(".", 1)[0] not in public
    ]
    assert offenders == []


def test_rendering_uses_only_the_public_api() -> None:
    public = ("ledger.audit", "ledger.errors", "ledger.render", "ledger.Ledger")
    public += ("ledger.EventNeutralization", "ledger.verify_proof")
    offenders = [
        (name, module)
        for name, module in _imports("render")
        if module.split(".")[0] in ("ledger", *STORAGE, "eventsourcing")
        and not module.startswith(public)
    ]
    assert offenders == []


@pytest.mark.parametrize("argv", [["verify", "proof.json", "--trust", "root.json"], ["--help"]])
def test_verify_and_help_load_no_storage_or_rendering_library(
    argv: list[str], tmp_path: Path
) -> None:
    (tmp_path / "proof.json").write_text("{}")
    (tmp_path / "root.json").write_text("{}")
    code = (
        "import sys, json\n"
        "from ledger.cli import main\n"
        f"sys.argv = ['ledger', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stderr.splitlines()[-1])
    pure = ("eventsourcing", "eventsourcing.domain", "eventsourcing.utils")
    heavy = [
        m
        for m in loaded
        if m.split(".")[0] in (*STORAGE, *RENDERING, "eventsourcing") and m not in pure
    ]
    assert heavy == []


def test_the_lazy_command_table_names_every_command_of_every_module() -> None:
    import importlib

    from ledger.cli.main import COMMAND_MODULES

    found = {}
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        if path.name.startswith("_") or path.stem == "main":
            continue
        module = importlib.import_module(f"ledger.cli.{path.stem}")
        found |= {command.name: path.stem for command in getattr(module, "COMMANDS", ())}
    assert found == COMMAND_MODULES
