"""What a certificate shows, gathered from a ledger into plain data (R6-R8, R10, R11).

Rules:
- A certificate document is either one retirement (id ``BATCH:VERSION``) or one event's
  neutralization (the event's id): the event, its organisers, emissions by source, every
  retirement with registry, serial range, R8 rank and any deviation with its reason, the
  evaluation or commitment, the R10 deadlines, and for each retirement the proof.
- A proof is shown only if it verifies against the ledger's own latest trust root; otherwise
  the document says why it is pending (no signed checkpoint yet, too few cosignatures).
- Everything here is plain JSON-ready data; the renderers (text, HTML, PDF) only lay it out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from ledger.audit import Certificate, SignedNote
from ledger.errors import InvalidInputError, LedgerError, NotFoundError
from ledger.render._digest import proof_digest, qr_payload

if TYPE_CHECKING:
    from ledger import EventNeutralization, Ledger

__all__ = [
    "CertificateDocument",
    "EventPart",
    "Retirement",
    "Seal",
    "certificate_document",
    "event_document",
    "event_id_of",
]

_LABEL = re.compile(r"\[event ([0-9a-f-]{36})\]$")


@attrs.frozen
class Seal:
    """A retirement's proof: its digest, the checkpoint it is proven in, or why it is pending."""

    digest: str | None
    qr: str | None
    origin: str | None = None
    size: int | None = None
    root: str | None = None
    cosignatures: int = 0
    pending: str | None = None
    proof: dict[str, Any] | None = attrs.field(default=None, repr=False, eq=False)


@attrs.frozen
class Retirement:
    """One retirement on a certificate, with its R8 deviation (if any) and its proof."""

    certificate: dict[str, Any]
    deviation: str | None
    seal: Seal


@attrs.frozen
class EventPart:
    """The event a certificate neutralizes (R1, R2, R6, R10)."""

    id: str
    name: str
    kind: str
    venue: str
    starts: str
    ends: str
    participants: int
    tier: str
    organisers: list[dict[str, str]]
    emissions: list[tuple[str, str]]
    total: str | None
    confirmation: dict[str, Any] | None
    confirmed_on: str | None
    deadlines: list[tuple[str, str, str]]


@attrs.frozen
class CertificateDocument:
    """Everything a certificate shows, as plain data."""

    id: str
    event: EventPart | None
    retirements: list[Retirement]

    @property
    def kind(self) -> str:
        """``event`` (an event's neutralization) or ``retirement`` (one retirement)."""
        return "retirement" if ":" in self.id else "event"

    @property
    def tonnes(self) -> str:
        """tCO2e retired on this certificate, exact."""
        return str(sum((Decimal(r.certificate["tonnes"]) for r in self.retirements), Decimal(0)))

    def to_json(self) -> dict[str, Any]:
        """The document as JSON (camelCase keys; proofs themselves left out)."""
        data: dict[str, Any] = _camel(attrs.asdict(self, filter=lambda a, _: a.name != "proof"))
        return data


def event_id_of(label: str | None) -> UUID | None:
    """The event id in a retirement's event label ``NAME [event UUID]``, if any."""
    match = _LABEL.search(label or "")
    return UUID(match.group(1)) if match else None


def certificate_document(ledger: Ledger, id: str, *, url: str | None = None) -> CertificateDocument:
    """The certificate ``id`` (``BATCH:VERSION`` or an event id) of ``ledger``, as data.

    Args:
        ledger: an open ledger.
        id: a certificate id as ``ledger certificates`` lists them, or an event's id.
        url: a URL template for the QR code (see :func:`ledger.render.qr_payload`).

    Raises:
        InvalidInputError: ``id`` is neither; NotFoundError: there is no such certificate.
    """
    if ":" not in id:
        return event_document(ledger, _uuid(id, id), url=url, required=True)
    batch, _, version = id.partition(":")
    cert = ledger.certificate(_uuid(batch, id), _version(version, id))
    event_id = event_id_of(cert.event_name)
    event = ledger.event(event_id) if event_id else None
    return _document(ledger, id, event, [cert], url)


def event_document(
    ledger: Ledger, event_id: UUID, *, url: str | None = None, required: bool = False
) -> CertificateDocument:
    """The neutralization certificate of one event: every retirement made for it.

    Args:
        ledger: an open ledger.
        event_id: the event's id.
        url: a URL template for the QR codes.
        required: refuse (NotFoundError) an event that has retired nothing yet.
    """
    event = ledger.event(event_id)
    certs = [
        ledger.certificate(r.certificate.batch, r.certificate.version) for r in event.retirements
    ]
    if required and not certs:
        raise NotFoundError(f"event {event_id} has retired no units yet; no certificate to show")
    return _document(ledger, str(event_id), event, certs, url)


def _document(
    ledger: Ledger,
    id: str,
    event: EventNeutralization | None,
    certs: list[Certificate],
    url: str | None,
) -> CertificateDocument:
    part = _event_part(ledger, event) if event is not None else None
    retirements = [
        Retirement(c.to_json(), _deviation(event, c), _seal(ledger, c, url)) for c in certs
    ]
    return CertificateDocument(id, part, retirements)


def _uuid(text: str, id: str) -> UUID:
    try:
        return UUID(text)
    except ValueError as e:
        raise InvalidInputError(
            f"{id!r} is neither a certificate id BATCH:VERSION nor an event id"
        ) from e


def _version(text: str, id: str) -> int:
    if not text.isdigit():
        raise InvalidInputError(f"{id!r} is not a certificate id BATCH:VERSION")
    return int(text)


def _split(certificate_id: str) -> tuple[UUID, int]:
    batch, _, version = certificate_id.partition(":")
    return UUID(batch), int(version)


def _event_part(ledger: Ledger, event: EventNeutralization) -> EventPart:
    lines = event.accountings[-1].lines if event.accountings else ()
    by_source: dict[str, Decimal] = {}
    for line in lines:
        by_source[line.source] = by_source.get(line.source, Decimal(0)) + line.kilograms
    return EventPart(
        id=str(event.id),
        name=event.name,
        kind=event.kind,
        venue=event.venue,
        starts=event.starts.isoformat(),
        ends=event.ends.isoformat(),
        participants=event.participants,
        tier=event.tier.value,
        organisers=[o.to_json() for o in event.organisers],
        emissions=[(s, _tonnes(kg)) for s, kg in by_source.items()],
        total=str(event.accounted) if event.accounted is not None else None,
        confirmation=_confirmation(event),
        confirmed_on=event.confirmed_on.isoformat() if event.confirmed_on else None,
        deadlines=[
            (d.what, d.due.isoformat(), state.value)
            for d, state in ledger.event_deadlines(event.id)
        ],
    )


def _tonnes(kilograms: Decimal) -> str:
    return str((kilograms / 1000).quantize(Decimal("0.001")))


def _confirmation(event: EventNeutralization) -> dict[str, Any] | None:
    if event.evaluation is not None:
        found = attrs.asdict(event.evaluation)
        return {"kind": "evaluation", **{k: str(v) for k, v in found.items()}}
    if event.commitment is not None:
        statement = event.commitment.statement
        return {"kind": "commitment", **{k: _text(v) for k, v in statement.items()}}
    return None


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _deviation(event: EventNeutralization | None, cert: Certificate) -> str | None:
    for allocation in event.allocations if event is not None else []:
        if (
            str(allocation.batch) == cert.batch
            and allocation.serials.start <= cert.serial_end
            and cert.serial_start <= allocation.serials.end
            and allocation.deviation
        ):
            return str(allocation.reason)
    return None


def _seal(ledger: Ledger, cert: Certificate, url: str | None) -> Seal:
    from ledger import verify_proof

    try:
        proof = ledger.proof(cert.batch_id, cert.retirement_version)
        verify_proof(proof, ledger.trust_roots()[-1])
    except LedgerError as e:
        return Seal(None, None, pending=str(e))
    note = SignedNote.parse(proof["checkpoint"])
    digest = proof_digest(proof)
    return Seal(
        digest=digest,
        qr=qr_payload(digest, cert.id, url),
        origin=note.checkpoint.origin,
        size=note.checkpoint.size,
        root=note.checkpoint.root.hex(),
        cosignatures=len(note.signatures) - 1,
        proof=proof,
    )


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_camel(v) for v in value]
    return value


def _camel_key(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
