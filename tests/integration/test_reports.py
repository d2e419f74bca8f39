"""Certificates, parcel usage and R10 deadlines as rebuildable read models (issue 7)."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from ledger import Ledger, SerialRange, Signer
from ledger.accounting import FactorTable
from ledger.audit.trust import TrustRoot
from ledger.domain.event_values import Organiser
from ledger.domain.parcels import Parcel
from ledger.projections.reports import CertificateView, DeadlineReport, ParcelUsage
from ledger.projections.runner import ProjectionRunner

from conftest import Backend

UTC = datetime.UTC


def test_report_views_equal_the_ledgers_own_answers_and_rebuild_the_same(
    backend: Backend,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    developer: Signer,
    verifier: Signer,
) -> None:
    now = [datetime.datetime(2026, 3, 1, tzinfo=UTC)]
    with Ledger(backend.url, root, schema=backend.schema, clock=lambda: now[0]) as ledger:
        batch = ledger.issue_batch(
            registry,
            instrument="inclusion-forest",
            vintage=2025,
            project="p",
            province="Shandong",
            methodology="m",
            serials=SerialRange(1, 100),
            holder=organiser.actor,
            parcels=[Parcel.of("CREDITED-1")],
        )
        ledger.donate(organiser, batch, SerialRange(1, 20), to=stranger.actor)
        ledger.transfer(stranger, batch, SerialRange(1, 10), to=organiser.actor)
        event = ledger.register_event(
            organiser,
            kind="forum",
            name="Forum",
            organisers=[Organiser("Org", "enterprise")],
            venue="Jinan",
            starts=datetime.datetime(2026, 5, 1, tzinfo=UTC),
            ends=datetime.datetime(2026, 5, 2, tzinfo=UTC),
            participants=250,
        )
        ledger.publish_plan(
            organiser,
            event,
            boundary=["lodging"],
            estimates={},
            measures=[],
            offsets=[{"instrument": "inclusion-forest", "province": "Shandong"}],
        )
        label = ledger.event(event).label
        project = ledger.register_sink_project(
            developer,
            name="Forum forest",
            ecosystem="forest",
            parcels=[Parcel.of("F-1"), Parcel.of("F-2")],
            area_hectares=5,
            expected_removals=20,
            crediting_start=datetime.date(2026, 1, 1),
            crediting_end=datetime.date(2040, 1, 1),
        )
        ledger.bind_sink_project(developer, project, event_id=event)
        now[0] = datetime.datetime(2026, 6, 1, tzinfo=UTC)
        ledger.account_emissions(
            organiser, event, [FactorTable.default()["hotel-room-night-china"].line(100)]
        )
        ledger.allocate_offsets(organiser, event, batch, SerialRange(1, 6))
        (certificate,) = ledger.retire_offsets(organiser, event)
        ledger.commit_neutrality(organiser, event)
        ledger.confirm_event(organiser, event)
        ledger.file_sink_application(developer, project)
        ledger.validate_sink_project(verifier, project)
        ledger.measure_sink_removals(verifier, project, tonnes=Decimal("12"))

        views = {}
        for view in (CertificateView(), ParcelUsage(), DeadlineReport()):
            runner = ProjectionRunner(ledger.store, view, backend.schema)
            runner.catch_up(page=3)
            views[view.name] = (runner, runner.snapshot())

        certificates = views["certificates"][1]["ledger_view_certificates"]
        assert [json.loads(body) for _, _, body in certificates] == [certificate.to_json()]
        assert certificate.donors == [organiser.actor] and certificate.holders == [
            organiser.actor,
            stranger.actor,
        ]
        parcels = views["parcel-usage"][1]["ledger_view_parcels"]
        assert sorted((p[0], p[1], p[3]) for p in parcels) == [
            ("CREDITED-1", "credit batch", None),
            ("F-1", "sink project", label),
            ("F-2", "sink project", label),
        ]
        runner = views["deadlines"][0]
        with ledger.store.read() as connection:
            report = runner.projection.report(connection, now[0].date())  # type: ignore[attr-defined]
        expected = ledger.event_deadlines(event)
        assert sorted((d.what, d.due, d.done, s) for _, d, s in report) == sorted(
            (d.what, d.due, d.done, s) for d, s in expected
        )
        for runner, live in views.values():
            runner.rebuild()
            assert runner.snapshot() == live
