"""The command line as a new user meets it: no silent overwrites, no proof that cannot verify,
no empty store for a mistyped path, one line for an unsupported or driverless database URL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _shell import run

from ledger.audit import Signer
from ledger.audit.policy import authority_problem
from ledger.cli._common import counted


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("defects") / "demo"
    assert run("demo", "--dir", str(folder)).returncode == 0
    return folder


def _certificate(demo: Path) -> tuple[str, str]:
    batch, version = json.loads((demo / "certificate.json").read_text())["id"].split(":")
    return batch, version


def test_export_never_overwrites_a_file_without_force(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "history.jsonl"
    out.write_text("keep me")
    refused = run("export", demo / "ledger.db", out, "--yes")
    assert refused.returncode == 2
    assert refused.stderr == f"ledger: {out} exists; pass --force to overwrite it\n"
    assert out.read_text() == "keep me"
    forced = run("export", demo / "ledger.db", out, "--force", "--yes")
    assert forced.returncode == 0, forced.stderr
    assert forced.stderr == "exported 25 signed events\n"
    assert out.read_text().startswith('{"format": "ledger.history.v1"}\n')


def test_proof_out_never_overwrites_a_file_without_force(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "proof.json"
    out.write_text("keep me")
    refused = run("proof", demo / "ledger.db", *_certificate(demo), "--out", out)
    assert (refused.returncode, out.read_text()) == (2, "keep me")
    forced = run("proof", demo / "ledger.db", *_certificate(demo), "--out", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert run("verify", out, "--trust", demo / "root.json").returncode == 0


def test_proof_refuses_to_write_a_proof_its_own_root_would_reject(
    demo: Path, tmp_path: Path
) -> None:
    db = tmp_path / "ledger.db"
    shutil.copy(demo / "ledger.db", db)
    signed = run("checkpoint", db, "--key", demo / "secrets" / "log.json")
    assert signed.returncode == 0, signed.stderr
    out = tmp_path / "proof.json"
    refused = run("proof", db, *_certificate(demo), "--out", out)
    assert refused.returncode == 1
    assert len(refused.stderr.splitlines()) == 1
    assert "not written" in refused.stderr and "cosign" in refused.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["issue", "--key", "k.json", "--instrument", "ccer", "--vintage", "2025", "--project",
         "p", "--province", "Hebei", "--methodology", "m", "--serials", "1-10", "--holder", "h"],
        ["proof", "00000000-0000-0000-0000-000000000001", "1"],
        ["event", "show", "00000000-0000-0000-0000-000000000001"],
        ["checkpoint", "--key", "k.json"],
        ["certificates"],
    ],
)  # fmt: skip
def test_a_mistyped_store_path_is_refused_and_no_empty_store_is_created(
    argv: list[str], demo: Path, tmp_path: Path
) -> None:
    shutil.copy(demo / "secrets" / "registry.json", tmp_path / "k.json")
    typo = tmp_path / "ledgr.db"
    command, *rest = argv
    args = [command, *rest[:1], typo, *rest[1:]] if command == "event" else [command, typo, *rest]
    done = run(*args, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, f"ledger: no ledger database at {typo}\n")
    assert not typo.exists()


def test_init_still_creates_a_new_store(demo: Path, tmp_path: Path) -> None:
    done = run("init", tmp_path / "new.db", "--root", demo / "root.json")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "new.db").is_file()


def test_a_mysql_url_is_one_line() -> None:
    done = run("certificates", "mysql://user@localhost/ledger")
    assert done.returncode == 2
    assert done.stderr.startswith("ledger: mysql:// databases are not supported;")
    assert len(done.stderr.splitlines()) == 1


def test_a_postgresql_url_without_psycopg_names_the_install_command() -> None:
    code = (
        "import sys\n"
        "sys.modules['psycopg'] = None\n"
        "from ledger.cli import main\n"
        "sys.argv = ['ledger', 'certificates', 'postgresql://u@127.0.0.1:1/x']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stderr == (
        "ledger: a PostgreSQL URL needs psycopg: pip install 'ledger[postgres]'\n"
    )


def test_counts_are_singular_for_one_and_plural_otherwise() -> None:
    assert [counted(1, "line"), counted(2, "line"), counted(1_200, "entry", "entries")] == [
        "1 line",
        "2 lines",
        "1,200 entries",
    ]


def test_a_role_that_starts_with_a_vowel_takes_an() -> None:
    key = Signer.generate("registry-x", "registry").public
    problem = authority_problem("ledger.credit-batch.transferred.v1", key, {})
    assert problem is not None and "needs an 'account' key" in problem


def test_the_demo_ends_with_a_verify_command_that_works_as_printed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ledger"
    if not script.exists():
        pytest.skip(f"no ledger script beside {sys.executable}")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(script), "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith("Verify it: ")
    verified = subprocess.run(
        ["bash", "-c", last.removeprefix("Verify it: ")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr


@pytest.mark.postgres
def test_a_read_command_on_a_database_without_a_ledger_creates_nothing_there(
    postgres_url: str, tmp_path: Path, root: object
) -> None:
    import secrets

    import sqlalchemy as sa

    from ledger import database_url

    schema = f"not_a_ledger_{secrets.token_hex(4)}"
    trusted = tmp_path / "root.json"
    trusted.write_text(json.dumps(root.to_json()))  # type: ignore[attr-defined]
    for command in (["audit", "--trust", str(trusted)], ["disclosures"], ["batches"]):
        done = run(command[0], postgres_url, *command[1:], "--schema", schema)
        assert done.returncode == 2, done.stderr
        assert done.stderr == f"ledger: no ledger database at {postgres_url} (schema {schema})\n"
    engine = sa.create_engine(database_url(postgres_url))
    try:
        assert schema not in sa.inspect(engine).get_schema_names()
    finally:
        engine.dispose()


def test_a_failed_import_leaves_no_empty_store_behind(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text('{"format": "ledger.history.v1"}\n{"kind": "nothing"}\n')
    store = tmp_path / "new.db"
    done = run("import", store, history)
    assert done.returncode == 1 and done.stderr.startswith("ledger: import failed, nothing written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.jsonl"]
