"""A sink project's binding names its event by id; old stores with label-only bindings still work.

A version 1 ``Bound`` event (``event_name``, ``event_ends``) is what the ledger signed before
the event id was a field of its own, and ``ledger_sink_bindings`` (project, label) the claim
table it kept. Such a store is made here the way the older code made it: the same signed
fields, no ``class_version``, and the old claim table. On both backends it must open (the
old claim rows are adopted), audit, deadline-report, issue and retire the bound removals,
and export into a new store. (A retirement proof holds no sink-project event.)
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from ledger import AuditError, KeyDirectory, Ledger, SerialRange, Signer
from ledger.audit.trust import TrustRoot
from ledger.domain.parcels import Parcel
from ledger.domain.sink_project import SinkProject
from ledger.store import _application

from conftest import Backend, checkpointed, new_event

D = datetime.date


def register(ledger: Ledger, developer: Signer, parcel: str) -> UUID:
    return ledger.register_sink_project(
        developer,
        name="Tai forest",
        ecosystem="forest",
        parcels=[Parcel.of(parcel)],
        area_hectares=Decimal("100"),
        expected_removals=Decimal("2500"),
        crediting_start=D(2026, 1, 1),
        crediting_end=D(2045, 12, 31),
    )


def bind_as_version_1(
    monkeypatch: pytest.MonkeyPatch,
    backend: Backend,
    ledger: Ledger,
    developer: Signer,
    project_id: UUID,
    event_id: UUID,
) -> None:
    """Sign a version 1 binding and keep the claim table of the older code."""
    event = ledger.event(event_id)
    project = ledger.sink_project(project_id)
    project._bound(
        event_id=event.id,
        event_name=event.label,
        event_ends=event.ends.date().isoformat(),
        actor=developer.actor,
    )
    pending = project._pending_events[-1]
    del pending.__dict__["event_id"]  # the version 1 fields: event_name, event_ends, actor
    real = _application.claims_for

    def without_bindings(events: Any) -> Any:
        return real([e for e in events if e is not pending])

    with monkeypatch.context() as patch:
        patch.setattr(SinkProject.Bound, "class_version", 1)
        patch.setattr(_application, "claims_for", without_bindings)
        ledger.store.save(developer, project)
    prefix = f"{backend.schema}." if backend.schema else ""
    backend.execute(
        f"CREATE TABLE {prefix}ledger_sink_bindings (project TEXT PRIMARY KEY, event TEXT NOT NULL)"
    )
    backend.execute(
        f"INSERT INTO {prefix}ledger_sink_bindings VALUES (:project, :event)",
        project=str(project_id),
        event=event.label,
    )
    backend.execute(f"DROP TABLE {prefix}ledger_sink_event_bindings")


def test_a_binding_is_signed_as_version_2_with_the_event_id(
    backend: Backend, ledger: Ledger, developer: Signer, organiser: Signer
) -> None:
    forum = new_event(ledger, organiser, "Jinan Forum", D(2026, 6, 30))
    project = register(ledger, developer, "V2-1")
    ledger.bind_sink_project(developer, project, event_id=forum)
    (signed,) = [e for e in ledger.store.entries(project) if e.topic.endswith(".bound.v1")]
    assert signed.event["class_version"] == 2
    assert signed.event["event_id"] == {"_type_": "uuid_hex", "_data_": forum.hex}
    assert signed.event["event_name"] == ledger.event(forum).label
    assert ledger.bound_projects(forum) == [project]


def test_an_old_store_with_a_version_1_binding_opens_audits_issues_and_exports(
    monkeypatch: pytest.MonkeyPatch,
    backend: Backend,
    root: TrustRoot,
    tmp_path: Any,
    developer: Signer,
    verifier: Signer,
    registry: Signer,
    organiser: Signer,
    log_signer: Signer,
    witness: Signer,
) -> None:
    with Ledger(backend.url, root, schema=backend.schema) as ledger:
        forum = new_event(ledger, organiser, "Jinan Forum", D(2026, 6, 30))
        project = register(ledger, developer, "V1-1")
        bind_as_version_1(monkeypatch, backend, ledger, developer, project, forum)
    prefix = f"{backend.schema}." if backend.schema else ""
    with Ledger(backend.url, root, schema=backend.schema) as ledger:
        (signed,) = [e for e in ledger.store.entries(project) if e.topic.endswith(".bound.v1")]
    assert set(signed.event) == {"actor", "event_ends", "event_name", "timestamp"}

    with Ledger(backend.url, root, schema=backend.schema) as ledger:
        assert backend.execute(f"SELECT project, event_id FROM {prefix}ledger_sink_event_bindings")[
            0
        ] == (str(project), str(forum))
        sink = ledger.sink_project(project)
        assert (sink.event_id, sink.event_ends) == (forum, D(2026, 6, 30))
        assert ledger.bound_projects(forum) == [project]
        assert len(ledger.event_deadlines(forum)) == 3
        ledger.audit(root)
        ledger.validate_sink_project(verifier, project, on=D(2026, 11, 1))
        ledger.measure_sink_removals(verifier, project, tonnes=Decimal("100"), on=D(2026, 11, 2))
        batch = ledger.issue_sink_removals(
            registry,
            project,
            serials=SerialRange(500_001, 500_050),
            holder=organiser.actor,
            methodology="afforestation sink",
        )
        ledger.retire(
            organiser,
            batch,
            SerialRange(500_001, 500_010),
            beneficiary="Forum",
            reason="r",
            event_name=ledger.event(forum).label,
        )
        checkpointed(ledger, log_signer, witness)
        assert ledger.audit(root).events >= 7
        exported = io.StringIO()
        ledger.export_history(exported)
    with Ledger(str(tmp_path / "copy.db"), KeyDirectory()) as copy:
        copy.import_history(io.StringIO(exported.getvalue()))
        copy.audit(root)
        assert copy.bound_projects(forum) == [project]
        assert copy.sink_project(project).event_id == forum


@pytest.mark.parametrize(
    ("forge", "refusal"),
    [
        (
            lambda event: (UUID(int=7), f"Ghost [event {UUID(int=7)}]", event.ends.date()),
            r"R9: sink project \S+ is bound to event 0+-0000-0000-0000-0+7, which is not an event"
            r" recorded before the binding",
        ),
        (
            lambda event: (event.id, event.label, D(2029, 6, 30)),
            r"R9: sink project \S+ is bound to event \S+ as 'Jinan Forum \[event \S+\]' ending"
            r" 2029-06-30; that event is 'Jinan Forum \[event \S+\]' ending 2026-06-30",
        ),
    ],
    ids=["an event that does not exist", "another end date than the event's"],
)
def test_a_binding_signed_outside_the_command_to_a_false_event_fails_the_audit(
    backend: Backend,
    ledger: Ledger,
    root: TrustRoot,
    developer: Signer,
    organiser: Signer,
    forge: Any,
    refusal: str,
) -> None:
    forum = new_event(ledger, organiser, "Jinan Forum", D(2026, 6, 30))
    project = ledger.sink_project(register(ledger, developer, "F-1"))
    event_id, label, ends = forge(ledger.event(forum))
    project.bind(event_id=event_id, event_name=label, event_ends=ends, by=developer.actor)
    ledger.store.save(developer, project)  # a developer key, used without the command
    with pytest.raises(AuditError, match=refusal):
        ledger.audit(root)
