"""The signing mapper: every stored event is a signed, hash-chained envelope (SPEC 5).

Rules:
- Writing: the signer passed to :meth:`SigningMapper.sign` must be a key of the directory,
  valid at the event's time, be the event's ``actor`` and hold the role
  :mod:`ledger.audit.policy` asks for; the envelope's ``prev`` is the entry hash
  of the aggregate's previous event.
- Reading: the envelope must be canonical, signed by a known key of the right actor and role,
  and its signed aggregate, version and kind must equal the stored columns; any failure raises
  a :class:`~ledger.errors.TamperError` naming the aggregate and version.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from ledger.audit._canonical import canonical_json
from ledger.audit.chain import ChainHeads
from ledger.audit.envelope import Entry, Envelope, entry_hash, payload_type_for
from ledger.audit.keys import KeyDirectory, Signer
from ledger.audit.policy import authority_problem
from ledger.domain.replay import domain_event
from ledger.errors import AuthorizationError, ChainError, SignatureError, TamperError
from ledger.store._transcoder import CanonicalTranscoder

__all__ = ["SigningMapper"]


class SigningMapper(Mapper[UUID]):
    """Maps domain events to signed envelopes and back, verifying on every read."""

    def __init__(self, transcoder: CanonicalTranscoder, keys: KeyDirectory, chain: ChainHeads):
        super().__init__(transcoder)
        self.canonical = transcoder
        self.keys = keys
        self.chain = chain

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """Refused: every stored event is signed by an explicit signer (:meth:`sign`)."""
        raise AuthorizationError("no signer: save events with Store.save(signer, ...)")

    def sign(self, domain_event: DomainEventProtocol[UUID], signer: Signer) -> StoredEvent:
        """Sign ``domain_event`` with ``signer`` and chain it."""
        return self.seal(domain_event, signer)[0]

    def seal(
        self, domain_event: DomainEventProtocol[UUID], signer: Signer
    ) -> tuple[StoredEvent, Entry]:
        """Sign and chain ``domain_event``: the stored event and its entry.

        The entry is what a read of the stored bytes would verify to, built from the payload
        just signed (its event decoded from the canonical bytes), so a write need not read back
        and re-verify what it wrote.
        """
        topic = get_topic(type(domain_event))
        state = dict(vars(domain_event))
        aggregate, version = state.pop("originator_id"), state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        key = self.keys.get(signer.public.keyid)
        key.check_window(state["timestamp"])
        if state.get("actor") != signer.actor:
            raise AuthorizationError(
                f"event names actor {state.get('actor')!r} but the signer is {signer.actor!r}"
            )
        problem = authority_problem(topic, signer.public, state)
        if problem is not None:
            raise AuthorizationError(problem)
        body = {
            "aggregate": str(aggregate),
            "version": version,
            "prev": self.chain.previous(aggregate, version),
            "event": self.canonical.to_json(state),
        }
        payload = canonical_json(body)
        envelope = Envelope.seal(payload_type_for(topic), payload, signer)
        data = canonical_json(envelope.to_json())
        hashed = entry_hash(data)
        self.chain.advance(aggregate, version, hashed)
        entry = Entry(
            topic=topic,
            aggregate=str(aggregate),
            version=version,
            prev=body["prev"],
            event=json.loads(payload)["event"],
            signer=key,
            hash=hashed,
            envelope=envelope,
        )
        return StoredEvent(aggregate, version, topic, data), entry

    def open(
        self,
        stored: StoredEvent,
        keys: KeyDirectory | None = None,
        verified: bytes | None = None,
    ) -> Entry:
        """Verify one stored event on its own (signature, key, role, columns).

        ``keys`` replaces the mapper's directory (the audit passes the keys of the trust root
        in force at the event's log position); ``verified``: the raw public key a verifier
        pool already checked this event's signature with (see :meth:`Envelope.verify`).
        """
        try:
            envelope = Envelope.from_bytes(stored.state)
            entry = envelope.open(self.keys if keys is None else keys, verified)
            _check_columns(stored, entry)
            problem = authority_problem(entry.topic, entry.signer, entry.event)
            if problem is not None:
                raise SignatureError(problem)
        except TamperError as e:
            raise type(e)(
                e.detail, aggregate=stored.originator_id, version=stored.originator_version
            ) from e
        return entry

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """Verify ``stored_event`` and rebuild its domain event."""
        return self.event_of(stored_event, self.open(stored_event))

    def event_of(self, stored: StoredEvent, entry: Entry) -> DomainEventProtocol[UUID]:
        """Rebuild the domain event of a verified entry."""
        fields: dict[str, Any] = self.canonical.from_json(entry.event)
        aggregate = UUID(str(stored.originator_id))
        made: DomainEventProtocol[UUID] = domain_event(
            stored.topic, aggregate, stored.originator_version, fields
        )
        return made


def _check_columns(stored: StoredEvent, entry: Entry) -> None:
    if entry.aggregate != str(stored.originator_id) or entry.version != stored.originator_version:
        raise ChainError(
            f"stored here, but signed as aggregate {entry.aggregate} version {entry.version}"
            " (moved or swapped)"
        )
    if entry.topic != stored.topic:
        raise ChainError(f"stored as {stored.topic!r} but signed as {entry.topic!r}")
