"""Everyday registry work from the shell: init, issue, transfer, retire, checkpoint, cosign,
proof, verify; refusals are one line and write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _shell import run


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ops") / "demo"
    assert run("demo", "--dir", str(folder)).returncode == 0
    return folder


def test_a_registry_day_from_the_shell(demo: Path, tmp_path: Path) -> None:
    db, keys = str(tmp_path / "registry.db"), demo / "secrets"
    assert (
        run("init", db, "--root", str(demo / "root.json")).stdout
        == "trust root version 1 in force\n"
    )
    issued = run(
        "issue",
        db,
        "--key",
        str(keys / "registry.json"),
        "--instrument",
        "inclusion-other",
        "--vintage",
        "2025",
        "--project",
        "Jinan bus electrification",
        "--province",
        "Shandong",
        "--methodology",
        "SD-CI-T-01",
        "--serials",
        "1-5000",
        "--unit",
        "0.001",
        "--holder",
        "forum-sponsor-enterprise",
    )
    assert issued.returncode == 0, issued.stderr
    batch = issued.stdout.split()[-1]
    moved = run(
        "transfer",
        db,
        batch,
        "--key",
        str(keys / "sponsor.json"),
        "--serials",
        "1-3000",
        "--to",
        "jinan-green-forum-organising-committee",
        "--donate",
    )
    assert moved.returncode == 0, moved.stderr
    retired = run(
        "retire",
        db,
        batch,
        "--key",
        str(keys / "organiser.json"),
        "--serials",
        "1-2500",
        "--beneficiary",
        "Jinan forum",
        "--reason",
        "neutralization",
        "--yes",
    )
    certificate = json.loads(retired.stdout)
    assert (certificate["tonnes"], certificate["donors"]) == ("2.500", ["forum-sponsor-enterprise"])
    again = run(
        "retire",
        db,
        batch,
        "--key",
        str(keys / "organiser.json"),
        "--serials",
        "2000-2600",
        "--beneficiary",
        "x",
        "--reason",
        "again",
        "--yes",
    )
    assert again.returncode == 1 and again.stderr.startswith(
        "ledger: R11: cannot retire units 2000-2500"
    )
    assert again.stderr.count("\n") == 1
    assert run("checkpoint", db, "--key", str(keys / "log.json")).stdout.startswith(
        "demo.ledger.local/"
    )
    state = tmp_path / "witness-state.json"
    cosigned = run("cosign", db, "--key", str(keys / "witness.json"), "--state", str(state))
    assert cosigned.stdout == "cosigned the checkpoint of size 4\n", cosigned.stderr
    out = tmp_path / "proof.json"
    assert (
        run("proof", db, batch, str(certificate["retirementVersion"]), "--out", str(out)).returncode
        == 0
    )
    verified = run("verify", str(out), "--trust", str(demo / "root.json"))
    assert verified.returncode == 0 and verified.stdout.startswith(
        "OK: 2.500 t (2,500 units) of batch"
    )
    audited = run("audit", db, "--trust", str(demo / "root.json"), "--checkpoint", str(state))
    assert audited.stdout.startswith("OK: 3 events of 1 aggregate verified"), audited.stderr
    assert audited.stdout.rstrip().endswith("extends your checkpoint of 4")
