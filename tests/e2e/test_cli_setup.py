"""Setting up a ledger from nothing in the shell: keys, a trust root, then a registry day."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from _shell import run

ACTORS = {
    "op1": "operator",
    "op2": "operator",
    "log": "log",
    "witness": "witness",
    "registry": "registry",
    "org": "account",
    "dev": "developer",
    "ver": "verifier",
}


def keys(folder: Path) -> dict[str, Path]:
    made = {}
    for name, role in ACTORS.items():
        path = folder / f"{name}.key.json"
        result = run("key", "new", f"{name}.example", role, "--out", path)
        assert result.returncode == 0, result.stderr
        (folder / f"{name}.pub.json").write_text(result.stdout)
        assert json.loads(result.stdout)["role"] == role
        made[name] = path
    return made


def test_a_new_registry_is_set_up_from_the_shell_and_its_proof_verifies(tmp_path: Path) -> None:
    k = keys(tmp_path)
    assert stat.S_IMODE(os.stat(k["op1"]).st_mode) == 0o600
    public = [f"--key={tmp_path / f'{name}.pub.json'}" for name in ("log", "witness", "registry")]
    public += [f"--key={k['dev']}", f"--key={k['ver']}"]
    root = tmp_path / "root.json"
    made = run(
        "root", "new", "--origin", "log.example", "--threshold", "2", "--witnesses", "1",
        *public, "--key", k["org"], "--sign", k["op1"], "--sign", k["op2"], "--out", root,
    )  # fmt: skip
    assert made.stdout == f"trust root version 1 of 'log.example': 8 keys -> {root}\n"
    db = tmp_path / "registry.db"
    assert run("init", db, "--root", root).stdout == "trust root version 1 in force\n"
    issued = run(
        "issue", db, "--key", k["registry"], "--instrument", "inclusion-forest", "--vintage",
        "2025", "--project", "P", "--province", "Shandong", "--methodology", "M", "--serials",
        "1-100", "--holder", "org.example",
    )  # fmt: skip
    batch = issued.stdout.split()[-1]
    retire = ["--serials", "1-10", "--beneficiary", "Org", "--reason", "offset"]
    assert run("retire", db, batch, "--key", k["org"], *retire, "--yes").returncode == 0
    assert run("checkpoint", db, "--key", k["log"]).returncode == 0
    assert run("cosign", db, "--key", k["witness"], "--state", tmp_path / "w.json").returncode == 0
    assert run("proof", db, batch, "2", "--out", tmp_path / "p.json").returncode == 0
    verified = run("verify", tmp_path / "p.json", "--trust", root)
    assert verified.stdout.startswith("OK: 10 t (10 units) of batch")
    assert "retired for beneficiary 'Org'" in verified.stdout


def test_a_root_short_of_its_operator_threshold_is_not_written(tmp_path: Path) -> None:
    k = keys(tmp_path)
    out = tmp_path / "root.json"
    refused = run(
        "root", "new", "--origin", "o", "--threshold", "2", "--sign", k["op1"], "--out", out
    )
    assert refused.returncode == 1
    assert refused.stderr == (
        "ledger: root version 1 has 1 valid signatures by distinct keys of its own operators;"
        " 2 needed\n"
    )
    assert not out.exists()


def test_a_key_is_never_written_over_an_existing_file_nor_for_an_unknown_role(
    tmp_path: Path,
) -> None:
    existing = tmp_path / "k.json"
    existing.write_text("keep me")
    again = run("key", "new", "a", "operator", "--out", existing)
    assert (again.returncode, existing.read_text()) == (2, "keep me")
    assert again.stderr == f"ledger: cannot write {existing}: File exists\n"
    wizard = run("key", "new", "a", "wizard", "--out", tmp_path / "w.json")
    assert wizard.returncode == 1 and "unknown role 'wizard'" in wizard.stderr
    assert not (tmp_path / "w.json").exists()


DOCS = Path(__file__).parents[2] / "docs" / "events-cli.md"
#: The project file of docs/events-cli.md, as documented.
PROJECT = json.loads(DOCS.read_text().split("```json\n")[4].split("```", 1)[0])


def test_a_sink_project_backs_one_event_and_its_area_is_never_used_again(tmp_path: Path) -> None:
    k = keys(tmp_path)
    root, db = tmp_path / "root.json", tmp_path / "s.db"
    signers = [f"--sign={k['op1']}", f"--sign={k['op2']}"]
    others = [f"--key={k[name]}" for name in ("dev", "ver", "registry", "org", "log", "witness")]
    run("root", "new", "--origin", "log.example", "--threshold", "2", *signers, *others,
        "--out", root)  # fmt: skip
    assert run("init", db, "--root", root).returncode == 0
    (tmp_path / "p.json").write_text(json.dumps(PROJECT))
    registered = run("sink", "register", db, "--key", k["dev"], "--file", tmp_path / "p.json")
    project = registered.stdout.split()[-1]
    again = PROJECT | {"name": "Other", "parcels": [PROJECT["parcels"][0] | {"id": "LQ-9"}]}
    (tmp_path / "again.json").write_text(json.dumps(again))
    reused = run("sink", "register", db, "--key", k["dev"], "--file", tmp_path / "again.json")
    assert reused.stderr.startswith(
        "ledger: R9: the area of parcel 'LQ-9' overlaps parcel 'LQ-001'"
    )
    event = {
        "kind": "forum", "name": "Laoshan Forum", "venue": "Qingdao", "participants": 600,
        "organisers": [{"name": "Org", "type": "enterprise"}],
        "starts": "2026-05-20T09:00:00+08:00", "ends": "2026-05-22T18:00:00+08:00",
    }  # fmt: skip
    (tmp_path / "e.json").write_text(json.dumps(event))
    event_id = run("event", "register", db, "--key", k["org"], "--file", tmp_path / "e.json")
    bind = ["sink", "bind", db, project, "--key", k["dev"], "--event", event_id.stdout.split()[2]]
    assert run(*bind).stdout.startswith(f"sink project {project} bound to Laoshan Forum [event ")
    assert "R9: sink project" in run(*bind).stderr
    assert run("sink", "file", db, project, "--key", k["dev"]).returncode == 0
    assert run("sink", "validate", db, project, "--key", k["ver"]).returncode == 0
    assert run("sink", "measure", db, project, "25.5", "--key", k["ver"]).returncode == 0
    issue = ["sink", "issue", db, project, "--key", k["registry"], "--holder", "org.example"]
    over = run(*issue, "--serials", "1-30", "--methodology", "m")
    assert over.stderr.startswith(f"ledger: R7: issuing 30 t from project {project} would exceed")
    assert run(*issue, "--serials", "1-25", "--methodology", "m").stdout.startswith("issued batch")
    shown = json.loads(run("sink", "show", db, project, "--json").stdout)
    assert [d["state"] for d in shown["deadlines"]] == ["met", "met"]
    assert (shown["measuredRemovals"], shown["issuedRemovals"]) == ("25.5", "25")
    assert shown["eventId"] == event_id.stdout.split()[2]


def test_a_rotation_adds_an_operator_and_revokes_a_key_from_the_shell(tmp_path: Path) -> None:
    k = keys(tmp_path)
    root, db = tmp_path / "root.json", tmp_path / "r.db"
    run("root", "new", "--origin", "log.example", "--threshold", "1", "--sign", k["op1"],
        "--key", k["org"], "--key", k["log"], "--key", k["witness"], "--out", root)  # fmt: skip
    assert run("init", db, "--root", root).returncode == 0
    org = json.loads((tmp_path / "org.pub.json").read_text())["keyid"]
    rotate = ["root", "new", "--from", root, "--revoke", org, "--key", k["op2"], "--threshold", "2"]
    short = run(*rotate, "--sign", k["op1"], "--out", tmp_path / "v2.json")
    assert short.stderr == (
        "ledger: root version 2 has 1 valid signatures by distinct keys of its own operators;"
        " 2 needed\n"
    )
    made = run(*rotate, "--sign", k["op1"], "--sign", k["op2"], "--out", tmp_path / "v2.json")
    assert made.stdout == (
        f"trust root version 2 of 'log.example': 5 keys -> {tmp_path / 'v2.json'}\n"
    )
    assert run("init", db, "--root", tmp_path / "v2.json").stdout == (
        "trust root version 2 in force\n"
    )
    event = tmp_path / "e.json"
    event.write_text(json.dumps({"kind": "forum", "name": "F", "venue": "v", "participants": 10,
        "organisers": [{"name": "O", "type": "enterprise"}],
        "starts": "2026-05-20T09:00:00+08:00", "ends": "2026-05-22T18:00:00+08:00"}))  # fmt: skip
    revoked = run("event", "register", db, "--key", k["org"], "--file", event)
    assert "after key of 'org.example' was revoked" in revoked.stderr
    unknown = run("root", "new", "--from", root, "--revoke", "ab12", "--out", tmp_path / "x.json")
    assert unknown.stderr == "ledger: no key 'ab12' in root 1\n"
