"""The public disclosure register as a static site (R11, R12).

Rules:
- ``index.html`` lists every event (plans, commitments, evaluations, confirmations, R8
  deviations, R10 deadlines), every retirement with tonnes, instrument and serials, and the
  sink parcels used (R9); ``events/ID.html`` is an event's page, ``certificates/ID.html`` a
  retirement's, each certificate page linking its proof file ``proofs/ID.json`` (written only
  when a proof verifies against the ledger's latest trust root; otherwise the page says why
  it is pending). ``trust-root.json`` is the root the proofs were checked against; a reader
  should take the root from an independent channel too.
- Every link is relative, so the folder can be served from anywhere or opened from disk.
- Proof files are written as ``ledger proof`` writes them (indented JSON); the QR digest is of
  the canonical JSON, so it is the same for both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from ledger.errors import InvalidInputError
from ledger.render._document import (
    CertificateDocument,
    certificate_document,
    event_document,
    event_id_of,
)
from ledger.render._html import certificate_html, page
from ledger.render._labels import both, named
from ledger.render._layout import Link, Section

if TYPE_CHECKING:
    from ledger import Ledger

__all__ = ["SiteReport", "build_site", "page_name"]

_EVENT_KINDS = ("plan", "commitment", "evaluation", "confirmation", "deviation")


@attrs.frozen
class SiteReport:
    """What a site build wrote: pages, proof files, and retirements whose proof is pending."""

    folder: Path
    pages: list[Path]
    proofs: list[Path]
    pending: list[str]


def page_name(certificate_id: str) -> str:
    """A file-name-safe form of a certificate id: ``BATCH-VERSION``."""
    return certificate_id.replace(":", "-")


def build_site(
    ledger: Ledger, folder: Path, *, url: str | None = None, force: bool = False
) -> SiteReport:
    """Write the register of ``ledger`` as a static site into ``folder``.

    Args:
        ledger: an open ledger.
        folder: a new or empty folder (or any folder with ``force``: files are overwritten).
        url: a URL template for the certificates' QR codes.
        force: write into a folder that is not empty.

    Raises:
        InvalidInputError: ``folder`` is not empty and ``force`` is not given.
    """
    if folder.exists() and any(folder.iterdir()) and not force:
        raise InvalidInputError(f"site folder {folder} is not empty; name a new one or --force")
    for sub in ("events", "certificates", "proofs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    disclosures = ledger.disclosures()
    certs = ledger.certificate_list()
    events = _event_ids(disclosures, certs)
    writer = _Writer(folder)
    docs = {cid: certificate_document(ledger, cid, url=url) for cid in (c["id"] for c in certs)}
    for cid, doc in docs.items():
        writer.certificate(cid, doc)
    event_docs = {e: event_document(ledger, e, url=url) for e in events}
    for event_id, doc in event_docs.items():
        writer.event(event_id, doc, [d for d in disclosures if d["subject"] == str(event_id)])
    writer.text("trust-root.json", json.dumps(ledger.trust_roots()[-1].to_json(), indent=2))
    index = _index(ledger, event_docs, certs, docs, disclosures)
    writer.page("index.html", page("sections.html.j2", **index))
    return SiteReport(folder, writer.pages, writer.proofs, writer.pending)


def _event_ids(disclosures: list[dict[str, Any]], certs: list[dict[str, Any]]) -> list[UUID]:
    found: dict[UUID, None] = {}
    for row in disclosures:
        if row["kind"] in _EVENT_KINDS:
            found[UUID(row["subject"])] = None
    for cert in certs:
        event_id = event_id_of(cert.get("eventName"))
        if event_id is not None:
            found[event_id] = None
    return list(found)


@attrs.define
class _Writer:
    folder: Path
    pages: list[Path] = attrs.Factory(list)
    proofs: list[Path] = attrs.Factory(list)
    pending: list[str] = attrs.Factory(list)

    def text(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        return path

    def page(self, name: str, html: str) -> None:
        self.pages.append(self.text(name, html))

    def certificate(self, cid: str, doc: CertificateDocument) -> None:
        links = {}
        for retirement in doc.retirements:
            proof = retirement.seal.proof
            if proof is None:
                self.pending.append(cid)
                continue
            name = f"proofs/{page_name(cid)}.json"
            self.proofs.append(self.text(name, json.dumps(proof, indent=2, ensure_ascii=False)))
            links[cid] = f"../{name}"
        nav = [("../index.html", both("register"))]
        if doc.event is not None:
            nav.append((f"../events/{doc.event.id}.html", doc.event.name))
        html = certificate_html(doc, proof_links=links, nav=nav)
        self.page(f"certificates/{page_name(cid)}.html", html)

    def event(self, event_id: UUID, doc: CertificateDocument, rows: list[dict[str, Any]]) -> None:
        links = {
            r.certificate["id"]: f"../proofs/{page_name(r.certificate['id'])}.json"
            for r in doc.retirements
            if r.seal.proof is not None
        }
        html = certificate_html(doc, proof_links=links, nav=[("../index.html", both("register"))])
        extra = page("sections.html.j2", page_title="", sections=[_published(rows)])
        body = extra.split("<body>", 1)[1].split("<footer>", 1)[0]
        html = html.replace("<footer>", body + "<footer>", 1)
        self.page(f"events/{event_id}.html", html)


def _published(rows: list[dict[str, Any]]) -> Section:
    table = [
        (named(row["kind"]), f"v{row['version']}", _detail(row["detail"]), row["entry"][:16])
        for row in rows
    ]
    return Section(both("register"), ("kind", "version", "detail", "entry"), table)


def _detail(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_detail(v)}" for k, v in sorted(detail.items()))
    if isinstance(detail, list):
        return ", ".join(_detail(v) for v in detail)
    return str(detail)


def _index(
    ledger: Ledger,
    events: dict[UUID, CertificateDocument],
    certs: list[dict[str, Any]],
    docs: dict[str, CertificateDocument],
    disclosures: list[dict[str, Any]],
) -> dict[str, Any]:
    sections = [
        _events(events),
        _retirements(certs, docs),
        *[_kind(disclosures, kind, label, events) for kind, label in _KINDS],
        _deadlines(events),
        _parcels(ledger, certs, events),
    ]
    return {"page_title": both("register"), "sections": sections, "nav": []}


_KINDS = (
    ("plan", "plans"),
    ("commitment", "commitments"),
    ("evaluation", "evaluations"),
    ("confirmation", "confirmations"),
    ("deviation", "deviations"),
)


def _event_link(event_id: str, events: dict[UUID, CertificateDocument]) -> Link | str:
    doc = events.get(UUID(event_id))
    name = doc.event.name if doc is not None and doc.event is not None else event_id
    return Link(name, f"events/{event_id}.html") if doc is not None else name


def _events(events: dict[UUID, CertificateDocument]) -> Section:
    rows: list[tuple[str | Link, ...]] = []
    for event_id, doc in events.items():
        part = doc.event
        if part is None:
            continue
        rows.append(
            (
                _event_link(str(event_id), events),
                named(part.kind),
                f"{part.participants:,}",
                named(part.tier),
                part.total or "-",
                doc.tonnes,
                part.confirmed_on or "-",
            )
        )
    header = ("event", "kind", "participants", "tier", "accounted t", "retired t", "confirmed")
    return Section(both("events"), header, rows)


def _retirements(certs: list[dict[str, Any]], docs: dict[str, CertificateDocument]) -> Section:
    rows: list[tuple[str | Link, ...]] = []
    for c in certs:
        seal = docs[c["id"]].retirements[0].seal
        rows.append(
            (
                Link(c["id"], f"certificates/{page_name(c['id'])}.html"),
                c["tonnes"],
                named(c["instrument"]),
                c["registry"],
                f"{c['serialStart']}-{c['serialEnd']}",
                c.get("eventName") or c["beneficiary"],
                "proof" if seal.proof is not None else f"pending: {seal.pending}",
            )
        )
    header = ("certificate", "tCO2e", "instrument", "registry", "serials", "for", "proof")
    return Section(both("retirements"), header, rows)


def _kind(
    disclosures: list[dict[str, Any]],
    kind: str,
    label: str,
    events: dict[UUID, CertificateDocument],
) -> Section:
    rows: list[tuple[str | Link, ...]] = [
        (_event_link(d["subject"], events), f"v{d['version']}", _detail(d["detail"]))
        for d in disclosures
        if d["kind"] == kind
    ]
    return Section(both(label), ("event", "version", "detail"), rows)


def _deadlines(events: dict[UUID, CertificateDocument]) -> Section:
    rows: list[tuple[str | Link, ...]] = []
    for event_id, doc in events.items():
        for what, due, state in doc.event.deadlines if doc.event else []:
            rows.append((_event_link(str(event_id), events), what, due, named(state)))
    return Section(both("deadlines"), ("event", "deadline", "due", "state"), rows)


def _parcels(
    ledger: Ledger, certs: Sequence[dict[str, Any]], events: dict[UUID, CertificateDocument]
) -> Section:
    projects: dict[str, str] = {}
    for c in certs:
        if c.get("sourceProject"):
            projects[c["sourceProject"]] = c.get("eventName") or "-"
    for doc in events.values():
        if doc.event is not None:
            label = f"{doc.event.name} [event {doc.event.id}]"
            for bound in ledger.bound_projects(UUID(doc.event.id)):
                projects.setdefault(str(bound), label)
    rows: list[tuple[str | Link, ...]] = []
    for project_id, used_for in projects.items():
        project = ledger.sink_project(UUID(project_id))
        parcels = ", ".join(parcel.id for parcel in project.parcels)
        rows.append((project.name, str(project.ecosystem), parcels, used_for))
    return Section(both("parcels"), ("project", "ecosystem", "parcels", "used for"), rows)
