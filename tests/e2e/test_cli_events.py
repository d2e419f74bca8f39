"""An event's neutralization from the shell, with the input files of docs/events-cli.md."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from _shell import run

DOCS = Path(__file__).parents[2] / "docs" / "events-cli.md"


def documented(index: int) -> dict[str, object]:
    blocks = DOCS.read_text().split("```json\n")[1:]
    loaded: dict[str, object] = json.loads(blocks[index].split("```", 1)[0])
    return loaded


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("events") / "demo"
    assert run("demo", "--dir", folder).returncode == 0
    return folder


def test_a_300_participant_event_is_neutralized_from_the_shell(demo: Path, tmp_path: Path) -> None:
    db, keys = demo / "ledger.db", demo / "secrets"
    org = keys / "sponsor.json"  # the sponsor's account still holds 85 CCER units
    now = datetime.datetime.now(datetime.UTC)  # the clock is passed in: no sleeping, no race
    event = documented(0) | {
        "starts": (now + datetime.timedelta(hours=1)).isoformat(),
        "ends": (now + datetime.timedelta(hours=2)).isoformat(),
    }
    before, after = (
        ("--now", now.isoformat()),
        ("--now", (now + datetime.timedelta(hours=3)).isoformat()),
    )
    files = {"event": event, "plan": documented(1), "lines": documented(2)}
    for name, data in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    registered = run(
        *before, "event", "register", db, "--key", org, "--file", tmp_path / "event.json"
    )
    assert registered.stdout.endswith("(tier self_commitment)\n"), registered.stderr
    event_id = registered.stdout.split()[2]
    plan = run(
        *before, "event", "plan", db, event_id, "--key", org, "--file", tmp_path / "plan.json"
    )
    assert plan.stdout == "plan version 1 published\n", plan.stderr
    lines = ["event", "account", db, event_id, "--key", org, "--file", tmp_path / "lines.json"]
    early = run(*before, *lines)
    assert early.returncode == 1 and early.stderr.startswith("ledger: R6: 'Qingdao Expo' is ")
    assert run(*after, *lines).stdout == "accounted 11.548 tCO2e from 2 lines\n"
    listed = json.loads(run("certificates", db, "--json").stdout)
    (ccer,) = {c["batch"] for c in listed if c["instrument"] == "ccer"}
    offset = ["--serials", "1000016-1000027", "--reason", "CCERs at hand; no inclusion credits"]
    allocated = run(*after, "event", "allocate", db, event_id, ccer, "--key", org, *offset)
    assert allocated.returncode == 0, allocated.stderr
    refused = run(*after, "event", "confirm", db, event_id, "--key", org)
    assert (
        refused.stderr
        == "ledger: R7: 0 t retired for 'Qingdao Expo', less than the 11.548 t accounted\n"
    )
    certificates = json.loads(run(*after, "event", "retire", db, event_id, "--key", org).stdout)
    assert [c["quantity"] for c in certificates] == [12]
    assert run(*after, "event", "confirm", db, event_id, "--key", org).stderr.startswith(
        "ledger: R3: 'Qingdao Expo' (tier self_commitment) needs the organiser's commitment"
    )
    statement = json.loads(run(*after, "event", "commit", db, event_id, "--key", org).stdout)
    assert statement["scale"] == 300
    confirmed = run(*after, "event", "confirm", db, event_id, "--key", org)
    assert confirmed.stdout.startswith("neutrality confirmed on ")
    record = json.loads(run(*after, "event", "show", db, event_id, "--json").stdout)
    assert (record["tier"], record["deadlines"][0]["state"]) == ("self_commitment", "met")
    assert run("audit", db, "--trust", demo / "root.json").stdout.startswith("OK: ")


def test_bad_event_input_is_one_line_naming_the_rule(demo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text(json.dumps(documented(0) | {"organisers": [{"name": "X", "type": "club"}]}))
    key = demo / "secrets" / "organiser.json"
    refused = run("event", "register", demo / "ledger.db", "--key", key, "--file", bad)
    assert refused.returncode == 1
    assert refused.stderr.startswith("ledger: R1: unknown OrganisationType 'club'")
    extra = {"name": "X", "type": "enterprise", "role": "host"}
    bad.write_text(json.dumps(documented(0) | {"organisers": [extra]}))
    refused = run("event", "register", demo / "ledger.db", "--key", key, "--file", bad)
    assert refused.stderr.startswith("ledger: R1: an organiser is {'name', 'type'}, got {")
    bad.write_text(json.dumps(documented(0) | {"participants": 1.5}))
    assert (
        "R1: participants must be a positive integer"
        in run("event", "register", demo / "ledger.db", "--key", key, "--file", bad).stderr
    )


def test_a_malformed_event_or_sink_project_file_is_one_line_naming_the_rule(
    demo: Path, tmp_path: Path
) -> None:
    bad, db = tmp_path / "bad.json", demo / "ledger.db"
    key = demo / "secrets" / "organiser.json"
    bad.write_text("[]")
    refused = run("event", "register", db, "--key", key, "--file", bad)
    assert refused.stderr.startswith("ledger: R1: the event file is a JSON object")
    project = {
        "name": "Tai forest", "ecosystem": "forest", "parcels": ["P-1"], "areaHectares": "1",
        "expectedRemovals": "1", "creditingStart": "2026-01-01", "creditingEnd": "2045-12-31",
    }  # fmt: skip
    bad.write_text(json.dumps({**project, "extra": 1}))
    refused = run("sink", "register", db, "--key", key, "--file", bad)
    assert refused.stderr.startswith("ledger: R9: a project file has exactly [")
    bad.write_text(json.dumps(project))
    refused = run("sink", "register", db, "--key", key, "--file", bad)
    assert refused.stderr.startswith('ledger: R9: parcels are [{"id": ..., "geometry": ...}]')
    some_event = "00000000-0000-4000-8000-000000000001"
    bad.write_text("[]")
    refused = run("event", "plan", db, some_event, "--key", key, "--file", bad)
    assert refused.stderr.startswith("ledger: R4: the plan file is a JSON object")
    refused = run("event", "account", db, some_event, "--key", key, "--file", bad)
    assert refused.stderr.startswith("ledger: R6: an accounting file is {")
    bad.write_text(json.dumps({"lines": [{"factor": "coach", "activity": "1", "x": 1}]}))
    refused = run("event", "account", db, some_event, "--key", key, "--file", bad)
    assert refused.stderr.startswith("ledger: R6: line 1 has exactly 'factor' and 'activity'")
