"""A certificate document laid out as titled sections of rows, for every renderer.

Rules: text, HTML and PDF show the same sections with the same cells in the same order; a
section may carry a QR payload, drawn beside it (HTML, PDF) or printed (text).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ledger.render._document import CertificateDocument, EventPart, Retirement
from ledger.render._labels import LABELS, both, named

__all__ = ["Link", "Section", "sections", "title"]


@attrs.frozen
class Link:
    """A cell that links to another page (relative href)."""

    text: str
    href: str

    def __str__(self) -> str:
        return self.text


@attrs.frozen
class Section:
    """One titled block: an optional header row, rows of cells, an optional QR payload."""

    title: str
    header: tuple[str, ...] | None
    rows: Sequence[tuple[str | Link, ...]]
    qr: str | None = None
    proof_of: str | None = None
    weights: tuple[float, ...] | None = None


def title(doc: CertificateDocument) -> str:
    """The certificate's bilingual title."""
    return both("title_event" if doc.kind == "event" else "title_retirement")


def sections(doc: CertificateDocument) -> list[Section]:
    """Every section of the certificate, in order."""
    found = [
        Section(both("certificate"), None, [("ID", doc.id), (LABELS["tonnes"][1], doc.tonnes)])
    ]
    if doc.event is not None:
        found += _event_sections(doc.event)
    found.append(_retired(doc.retirements))
    if doc.event is not None:
        found.append(_confirmation(doc.event))
        found.append(_deadlines(doc.event))
    found += [_proof(r) for r in doc.retirements]
    return found


def _event_sections(event: EventPart) -> list[Section]:
    facts = [
        (both("event"), event.name),
        (both("kind"), named(event.kind)),
        (both("venue"), event.venue),
        (both("time"), f"{event.starts} - {event.ends}"),
        (both("participants"), f"{event.participants:,}"),
        (both("tier"), named(event.tier)),
    ]
    organisers = [(o["name"], named(o["type"])) for o in event.organisers]
    emissions = [(named(source), tonnes) for source, tonnes in event.emissions]
    emissions.append((both("total"), event.total or "-"))
    return [
        Section(both("event"), None, facts),
        Section(both("organisers"), None, organisers),
        Section(both("emissions"), (both("source"), "tCO2e"), emissions),
    ]


def _retired(retirements: list[Retirement]) -> Section:
    header = (
        both("registry"),
        both("instrument"),
        both("project"),
        both("serials"),
        "tCO2e",
        both("rank"),
        both("deviation"),
    )
    rows = []
    for r in retirements:
        c = r.certificate
        rows.append(
            (
                c["registry"],
                named(c["instrument"]),
                f"{c['project']} ({c['province']}, {c['vintage']})",
                f"{c['serialStart']}-{c['serialEnd']}",
                c["tonnes"],
                str(c["priorityRank"]),
                r.deviation or "-",
            )
        )
    weights = (0.16, 0.15, 0.16, 0.2, 0.07, 0.08, 0.18)
    return Section(both("retired"), header, rows, weights=weights)


def _confirmation(event: EventPart) -> Section:
    confirmation = event.confirmation
    if confirmation is None:
        return Section(both("confirmation"), None, [(both("confirmation"), both("none"))])
    kind = confirmation["kind"]
    rows = [(both(kind), "")]
    rows += [(key, named(str(value))) for key, value in confirmation.items() if key != "kind"]
    rows.append((both("confirmed"), event.confirmed_on or "-"))
    return Section(both("confirmation"), None, rows)


def _deadlines(event: EventPart) -> Section:
    rows = [(what, due, named(state)) for what, due, state in event.deadlines]
    return Section(both("deadlines"), None, rows)


def _proof(r: Retirement) -> Section:
    seal, cid = r.seal, r.certificate["id"]
    heading = f"{both('proof')}: {cid}"
    if seal.digest is None:
        return Section(heading, None, [(both("pending"), seal.pending or "-")])
    rows = [
        (both("checkpoint"), f"{seal.origin}, size {seal.size}"),
        ("root", seal.root or "-"),
        (both("cosignatures"), str(seal.cosignatures)),
        (both("digest"), seal.digest),
        ("QR", seal.qr or "-"),
    ]
    return Section(heading, None, rows, qr=seal.qr, proof_of=cid)
