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


def test_importing_ledger_audit_loads_none_of_its_modules(tmp_path: Path) -> None:
    loaded, _ = loaded_by("import ledger.audit", tmp_path)
    assert [m for m in loaded if m.startswith("ledger.")] == ["ledger.audit", "ledger.errors"]
    assert tops(loaded, ("attrs", "cryptography", "eventsourcing", "rfc8785")) == []


def test_a_name_of_ledger_audit_loads_its_own_module_and_what_that_imports(
    tmp_path: Path,
) -> None:
    loaded, _ = loaded_by("from ledger.audit import Signer", tmp_path)
    assert "ledger.audit.keys" in loaded
    unused = ("proof", "certificate", "witness", "timeline", "trust", "note", "envelope")
    assert [m for m in loaded if m.removeprefix("ledger.audit.") in unused] == []


def test_every_public_name_of_ledger_audit_is_its_modules_own_object() -> None:
    import importlib

    import ledger.audit

    for name, module in ledger.audit._LAZY.items():
        defined = importlib.import_module(module)
        own = defined if name == "strict_json" else getattr(defined, name)
        assert getattr(ledger.audit, name) is own, name
    assert ledger.audit.strict_json.__name__ == "ledger.audit._strict_json"
    assert sorted(set(ledger.audit.__all__) - set(ledger.audit._LAZY)) == [
        "LogProofError",
        "NoteError",
        "TrustRootError",
    ]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = ledger.audit.nothing


def test_the_ledger_program_freezes_what_it_loaded_and_runs_with_the_collector_on(
    proof_files: Path,
) -> None:
    code = run_cli(["verify", "proof.json", "--trust", "root.json"]) + (
        "import gc\nprint('gc', gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    _, out = loaded_by(code, proof_files)
    assert out.splitlines()[-2:] == ["exit 0", "gc True True"]


def test_a_library_user_of_the_command_line_gets_the_collector_back_and_nothing_frozen(
    tmp_path: Path,
) -> None:
    code = (
        "import gc\n"
        "from click.testing import CliRunner\n"
        "from ledger.cli import cli\n"
        "print('invoked', CliRunner().invoke(cli, ['verify', '--help']).exit_code)\n"
        "print('gc', gc.isenabled(), gc.get_freeze_count())\n"
    )
    _, out = loaded_by(code, tmp_path)
    assert out.splitlines() == ["invoked 0", "gc True 0"]
