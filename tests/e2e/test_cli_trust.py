"""Trust from outside the store, from the shell (issue 11): audit needs --trust, a log-key
rotation moves checkpoints and cosignatures to the new key, a witness's state is a checkpoint
the audit proves the log extends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _shell import run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trust") / "demo"
    assert run("demo", "--dir", str(folder)).returncode == 0
    return folder


def test_audit_without_a_trust_root_is_a_usage_error(demo: Path) -> None:
    result = run("audit", str(demo / "ledger.db"))
    assert result.returncode == 2
    assert "Missing option '--trust'" in result.stderr


def test_case_4_cosign_after_a_log_key_rotation_uses_the_new_key_and_refuses_the_revoked_one(
    demo: Path, tmp_path: Path
) -> None:
    db, keys, root = str(tmp_path / "l.db"), demo / "secrets", demo / "root.json"
    assert run("init", db, "--root", str(root)).returncode == 0
    origin = json.loads(root.read_text())["signed"]["origin"]
    old_log = json.loads(root.read_text())["signed"]["keys"]
    old_id = next(k["keyid"] for k in old_log if k["role"] == "log")
    new_log = tmp_path / "new-log.json"
    assert run("key", "new", origin, "log", "--out", str(new_log)).returncode == 0
    v2 = tmp_path / "v2.json"
    rotated = run(
        "root", "new", "--from", str(root), "--key", str(new_log), "--revoke", old_id,
        "--sign", str(keys / "operator-1.json"), "--sign", str(keys / "operator-2.json"),
        "--out", str(v2),
    )  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    assert run("init", db, "--root", str(v2)).stdout == "trust root version 2 in force\n"
    refused = run("checkpoint", db, "--key", str(keys / "log.json"))
    assert refused.returncode == 1
    assert "not a current (unrevoked) log key" in refused.stderr
    assert run("checkpoint", db, "--key", str(new_log)).returncode == 0
    state = tmp_path / "witness.json"
    cosigned = run("cosign", db, "--key", str(keys / "witness.json"), "--state", str(state))
    assert cosigned.stdout == "cosigned the checkpoint of size 2\n", cosigned.stderr
    audited = run("audit", db, "--trust", str(root), "--checkpoint", str(state))
    assert audited.returncode == 0, audited.stderr
    assert "(2 versions in the log)" in audited.stdout
    assert audited.stdout.rstrip().endswith("extends your checkpoint of 2")
