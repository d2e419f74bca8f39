"""The command line loads only what a command needs (issue 13: `ledger verify`, `ledger --help`).

Behaviour, not timing: each case runs in a fresh interpreter and looks at ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from ledger import Ledger, SerialRange, Signer
from ledger.audit.trust import TrustRoot
from ledger.cli.main import COMMAND_HELP, COMMAND_MODULES, cli

from conftest import checkpointed, issue

STORAGE = ("sqlalchemy", "eventsourcing_sqlalchemy", "psycopg", "shapely", "numpy")
RENDERING = ("reportlab", "jinja2", "segno", "openpyxl", "PIL")


def loaded_by(code: str, cwd: Path) -> tuple[list[str], str]:
    """The modules a fresh interpreter has loaded after ``code``, and what it printed."""
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=True
    )
    return json.loads(done.stderr.splitlines()[-1]), done.stdout


def run_cli(argv: list[str]) -> str:
    return (
        "from ledger.cli import main\n"
        f"sys.argv = ['ledger', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    print('exit', e.code)\n"
    )


def tops(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in names]


@pytest.fixture(scope="module")
def proof_files(
    tmp_path_factory: pytest.TempPathFactory,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> Path:
    folder: Path = tmp_path_factory.mktemp("startup")
    with Ledger(folder / "ledger.db", root) as ledger:
        batch = issue(ledger, registry, organiser)
        cert = ledger.retire(organiser, batch, SerialRange(1, 10), beneficiary="B", reason="r")
        checkpointed(ledger, log_signer, witness)
        proof = ledger.proof(batch, cert.retirement_version)
    (folder / "proof.json").write_text(json.dumps(proof))
    (folder / "root.json").write_text(json.dumps(root.to_json()))
    return folder


def test_importing_the_verify_command_loads_no_storage_or_geometry_library(
    tmp_path: Path,
) -> None:
    loaded, _ = loaded_by("import ledger.cli.verify", tmp_path)
    assert tops(loaded, STORAGE) == []


def test_importing_ledger_loads_no_storage_crypto_or_domain_module(tmp_path: Path) -> None:
    loaded, _ = loaded_by("import ledger", tmp_path)
    assert tops(loaded, (*STORAGE, *RENDERING, "cryptography", "eventsourcing", "click")) == []
    assert [m for m in loaded if m.startswith("ledger.")] == ["ledger.errors"]


def test_verifying_a_batch_proof_loads_no_storage_nor_the_aggregates_it_does_not_replay(
    proof_files: Path,
) -> None:
    loaded, out = loaded_by(run_cli(["verify", "proof.json", "--trust", "root.json"]), proof_files)
    assert out.startswith("OK: ")
    assert out.rstrip().endswith("exit 0")
    assert tops(loaded, (*STORAGE, *RENDERING)) == []
    assert [m for m in loaded if m.startswith(("ledger.store", "ledger.commands"))] == []
    assert "ledger.domain.credit_batch" in loaded
    assert "ledger.domain.sink_project" not in loaded
    assert "ledger.domain.event_neutralization" not in loaded


def test_help_loads_no_command_module_verifier_or_crypto(tmp_path: Path) -> None:
    loaded, out = loaded_by(run_cli(["--help"]), tmp_path)
    assert "Commands:" in out
    assert tops(loaded, (*STORAGE, *RENDERING, "cryptography", "eventsourcing", "attrs")) == []
    commands = {f"ledger.cli.{module}" for module in COMMAND_MODULES.values()}
    assert sorted(commands & set(loaded)) == []
    assert [m for m in loaded if m.startswith(("ledger.audit", "ledger.domain"))] == []


def test_the_help_table_is_each_commands_own_first_help_paragraph() -> None:
    ctx = click.Context(cli)
    found = {}
    for name in COMMAND_MODULES:
        command = cli.get_command(ctx, name)
        assert command is not None and command.help is not None
        found[name] = " ".join(command.help.split("\n\n")[0].split())
    assert found == COMMAND_HELP


def test_help_lists_the_commands_as_click_would_from_the_commands_themselves() -> None:
    ctx = click.Context(cli)
    commands = {name: cli.get_command(ctx, name) for name in COMMAND_MODULES}
    plain = click.Group("ledger", commands=commands)  # type: ignore[arg-type]
    lazy, eager = click.HelpFormatter(width=80), click.HelpFormatter(width=80)
    cli.format_commands(ctx, lazy)
    plain.format_commands(click.Context(plain), eager)
    assert lazy.getvalue() == eager.getvalue()
