"""Retirement proofs: one self-contained JSON file anyone verifies offline (SPEC 5, 5a).

A proof (format ``ledger.retirement-proof.v2``, docs/proof-format.md) holds the certificate;
the signed envelopes of the batch's history from issuance up to the retirement, and of the
event's own record when the retirement was for one, each with its leaf index and RFC 9162
inclusion proof; every trust-root version among the leaves the checkpoint covers, each with
its leaf index and inclusion proof; and the signed (and cosigned) checkpoint, whose
``trust-root`` line names the latest of those versions. :func:`verify_proof` checks, with
nothing but the file and a trusted root, in this order (the first failure is named):

1. exact fields and the format id;
2. the checkpoint parses and names its trust-root version;
3. ``roots``: versions 1, 2, ... up to the version the checkpoint names, leaf indices
   increasing, each document included in the checkpoint's tree (its leaf data is the RFC 8785
   bytes of the document);
4. ``entries`` and ``event.entries``: exact fields, leaf indices increasing, envelopes parsed,
   each included in the checkpoint's tree (the leaf hash is recomputed, never read);
5. everything in log order (:class:`~ledger.audit.timeline.Timeline`): each root a valid
   rotation of the one before (version 1 valid alone), the trusted root among them unchanged
   or a later version that keeps every key; each envelope signed by a key of the root in force
   at its position, not revoked before it, inside its window (and inside the trusted root's
   window for it), by the actor the event names, in the role its kind needs; timestamps
   forward (within the tolerance); each list one aggregate's hash chain;
6. the checkpoint: signed by the log key of the root in force at its size, with at least that
   root's number of witness cosignatures; a known witness's bad cosignature fails it;
7. the rules: each chain is replayed event by event with the domain's own code
   (:mod:`ledger.domain.replay`: exact fields per kind, then each kind's rules), so units
   retired that were not held, retired twice, exported, more than were issued, or a
   confirmation its tier does not allow, fail the proof;
8. the certificate equals, field by field, the one re-derived from the signed events;
9. ``event`` (when the retirement was for a registered event): the event's own signed chain
   names this certificate (its batch and serials) among its retirements; its last entry tells
   whether the event's neutrality is confirmed.

The first failure raises :class:`~ledger.errors.ProofError` naming the JSON path that fails.
"""

from __future__ import annotations

import base64
import itertools
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ledger.audit.certificate import Certificate, certificates
from ledger.audit.chain import check_link
from ledger.audit.envelope import Entry, Envelope
from ledger.audit.merkle import leaf_hash, verify_inclusion
from ledger.audit.note import Checkpoint, SignedNote
from ledger.audit.policy import authority_problem
from ledger.audit.timeline import Timeline, root_leaf
from ledger.audit.trust import TrustRoot
from ledger.domain import topics
from ledger.errors import DatedError, LedgerError, ProofError, UnknownSignerError

__all__ = ["FORMAT", "build_proof", "verify_proof"]

FORMAT = "ledger.retirement-proof.v2"
_FIELDS = {"format", "certificate", "entries", "checkpoint", "roots", "event"}
_EVENT_RETIRED = topics.Event.RETIRED
_EVENT_LABEL = re.compile(r"\[event [0-9a-f-]{36}\]$")
_ENTRY_FIELDS = {"envelope", "leafIndex", "inclusion"}
_ROOT_FIELDS = {"document", "leafIndex", "inclusion"}

#: (what, leaf index, inclusion path): an entry or a trust root placed in the log.
Placed = tuple[Any, int, Sequence[bytes]]


def build_proof(
    certificate: Certificate,
    placed: Sequence[tuple[Entry, int, Sequence[bytes]]],
    checkpoint: SignedNote,
    roots: Sequence[tuple[TrustRoot, int, Sequence[bytes]]],
    event: Sequence[tuple[Entry, int, Sequence[bytes]]] = (),
) -> dict[str, Any]:
    """The proof of ``certificate`` from its history and roots placed in the log."""
    return {
        "event": {"entries": _placed(event)} if event else None,
        "format": FORMAT,
        "certificate": certificate.to_json(),
        "entries": _placed(placed),
        "checkpoint": checkpoint.text(),
        "roots": [
            {"document": root.to_json(), "leafIndex": index, "inclusion": _b64(path)}
            for root, index, path in roots
        ],
    }


def _b64(path: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in path]


def _placed(placed: Sequence[tuple[Entry, int, Sequence[bytes]]]) -> list[dict[str, Any]]:
    return [
        {"envelope": entry.envelope.to_json(), "leafIndex": index, "inclusion": _b64(path)}
        for entry, index, path in placed
    ]


@attrs.frozen
class _Item:
    """One thing the proof places in the log: a root, or an envelope of a named list."""

    index: int
    path: str
    inclusion: object
    root: TrustRoot | None = None
    envelope: Envelope | None = None
    chain: str = ""


def verify_proof(proof: object, trusted: TrustRoot) -> None:
    """Return None if ``proof`` verifies; raise :class:`ProofError` naming what fails.

    Args:
        proof: the parsed JSON of a proof file (read it strictly: ``ledger verify`` does).
        trusted: the trust root you already trust (required: a proof's own roots prove
            nothing about which ledger made it); a later version than the proof carries is
            fine if it keeps every key of the proof's last root.
    """
    if not isinstance(proof, Mapping) or set(proof) != _FIELDS:
        raise ProofError("(top level)", f"a proof has exactly the fields {sorted(_FIELDS)}")
    if proof["format"] != FORMAT:
        raise ProofError("format", f"unknown format {proof['format']!r}; expected {FORMAT!r}")
    note = _note(proof["checkpoint"])
    items = _roots(proof["roots"], note.checkpoint)
    items += _envelopes("entries", proof["entries"])
    event = proof["event"]
    if event is not None:
        if not isinstance(event, Mapping) or set(event) != {"entries"}:
            raise ProofError("event", 'must be null or exactly {"entries": [...]}')
        items += _envelopes("event.entries", event["entries"])
    timeline = Timeline(trusted, newer_trusted=True, last_version=note.checkpoint.trust_root)
    chains = _walk(sorted(items, key=lambda item: item.index), timeline, note.checkpoint)
    try:
        timeline.finish()
    except LedgerError as e:
        raise ProofError("roots", str(e)) from e
    _checkpoint(note, timeline)
    for name, entries in chains.items():
        _rules(name, entries)
    _certificate(proof["certificate"], chains["entries"])
    _event(chains.get("event.entries"), proof["certificate"])


def _note(raw: object) -> SignedNote:
    if not isinstance(raw, str):
        raise ProofError("checkpoint", "must be a signed note (text)")
    try:
        note = SignedNote.parse(raw)
    except LedgerError as e:
        raise ProofError("checkpoint", str(e)) from e
    if note.checkpoint.trust_root is None:
        raise ProofError("checkpoint", "has no trust-root line naming its latest root version")
    return note


def _index(path: str, raw: object, last: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= last:
        raise ProofError(f"{path}.leafIndex", "must be an integer above the previous one's")
    return raw


def _roots(raw: object, checkpoint: Checkpoint) -> list[_Item]:
    """Parse the placed roots: versions 1, 2, ... up to the one the checkpoint names."""
    if not isinstance(raw, list) or not raw:
        raise ProofError("roots", "must be a non-empty list of placed trust roots")
    items: list[_Item] = []
    for number, item in enumerate(raw):
        path = f"roots[{number}]"
        if not isinstance(item, Mapping) or set(item) != _ROOT_FIELDS:
            raise ProofError(path, f"a placed root has exactly the fields {sorted(_ROOT_FIELDS)}")
        try:
            root = TrustRoot.from_json(item["document"])
        except LedgerError as e:
            raise ProofError(f"{path}.document", str(e)) from e
        if root.version != number + 1:
            raise ProofError(
                f"{path}.document",
                f"is version {root.version}; roots are listed as versions 1, 2, ... in order",
            )
        index = _index(path, item["leafIndex"], items[-1].index if items else -1)
        if number == 0 and index != 0:
            raise ProofError(f"{path}.leafIndex", "version 1 is the log's first entry (leaf 0)")
        items.append(_Item(index, path, item["inclusion"], root=root))
    if items[-1].root is not None and items[-1].root.version != checkpoint.trust_root:
        raise ProofError(
            "roots",
            f"end at version {items[-1].root.version}, but the checkpoint names trust root"
            f" version {checkpoint.trust_root}: a root is missing",
        )
    return items


def _envelopes(name: str, raw: object) -> list[_Item]:
    if not isinstance(raw, list) or not raw:
        raise ProofError(name, "must be a non-empty list")
    items: list[_Item] = []
    for number, item in enumerate(raw):
        path = f"{name}[{number}]"
        if not isinstance(item, Mapping) or set(item) != _ENTRY_FIELDS:
            raise ProofError(path, f"an entry has exactly the fields {sorted(_ENTRY_FIELDS)}")
        try:
            envelope = Envelope.from_json(item["envelope"])
        except LedgerError as e:
            raise ProofError(f"{path}.envelope", str(e)) from e
        index = _index(path, item["leafIndex"], items[-1].index if items else -1)
        items.append(_Item(index, path, item["inclusion"], envelope=envelope, chain=name))
    return items


def _walk(items: list[_Item], timeline: Timeline, checkpoint: Checkpoint) -> dict[str, list[Entry]]:
    """Check every item in log order: roots taken, envelopes opened, each one included."""
    chains: dict[str, list[Entry]] = {}
    for before, after in itertools.pairwise(items):
        if before.index == after.index:
            raise ProofError(after.path, f"places two things at leaf {after.index}")
    for item in items:
        if item.root is not None:
            try:
                timeline.admit(item.root, item.index)
            except LedgerError as e:
                raise ProofError(f"{item.path}.document", str(e)) from e
            leaf = leaf_hash(root_leaf(item.root))
        else:
            chain = chains.setdefault(item.chain, [])
            entry = _entry(item, timeline, chain[-1] if chain else None)
            chain.append(entry)
            leaf = bytes.fromhex(entry.hash)
        _included(item.path, leaf, item.index, item.inclusion, checkpoint)
    return chains


def _entry(item: _Item, timeline: Timeline, previous: Entry | None) -> Entry:
    path, envelope = f"{item.path}.envelope", item.envelope
    if envelope is None:
        raise ProofError(path, "is missing")
    try:
        entry = envelope.open(timeline.keys)
    except UnknownSignerError as e:
        raise ProofError(f"{path}.signatures[0].keyid", e.detail) from e
    except LedgerError as e:
        raise ProofError(path, f"{e} (payload, payloadType or signature changed)") from e
    problem = authority_problem(entry.topic, entry.signer, entry.event)
    if problem is not None:
        raise ProofError(f"{path}.signatures[0].keyid", problem)
    try:
        timeline.check_entry(entry, item.path)
    except LedgerError as e:
        raise ProofError(f"{path}.signatures[0].keyid", str(e)) from e
    try:
        check_link(previous, entry)
    except LedgerError as e:
        raise ProofError(path, str(e)) from e
    return entry


def _checkpoint(note: SignedNote, timeline: Timeline) -> None:
    mark = timeline.mark()  # the latest time among the proof's entries, and where
    try:
        witnessed = timeline.check_checkpoint(note)
        needed = timeline.governing(note.checkpoint.size).witnesses
    except LedgerError as e:
        raise ProofError("checkpoint", str(e)) from e
    if len(witnessed) < needed:
        raise ProofError(
            "checkpoint", f"{len(witnessed)} witness cosignatures; the root needs {needed}"
        )
    try:
        timeline.check_dated(note.checkpoint.size, witnessed, mark, needed)
    except DatedError as e:
        raise ProofError(e.where, str(e)) from e
    if timeline.violation is not None:
        raise ProofError(*timeline.violation)


def _event(entries: list[Entry] | None, certificate: Mapping[str, Any]) -> None:
    label = str(certificate.get("eventName") or "")
    if entries is None:
        if _EVENT_LABEL.search(label):
            raise ProofError(
                "event", f"the retirement names {label!r} but the event's record is missing"
            )
        return
    if not label.endswith(f"[event {entries[0].aggregate}]"):
        raise ProofError(
            "event", f"the retirement names {label!r}, not event {entries[0].aggregate}"
        )
    retired = [e for e in entries if e.topic == _EVENT_RETIRED]
    named = [e for e in retired if e.event.get("certificate") == certificate.get("id")]
    if not named:
        raise ProofError(
            "event", f"the event's signed retirements do not include {certificate.get('id')}"
        )
    facts = ("batch", "serial_start", "serial_end")
    claimed = (
        certificate.get("batch"),
        certificate.get("serialStart"),
        certificate.get("serialEnd"),
    )
    if tuple(named[0].event.get(name) for name in facts) != claimed:
        raise ProofError(
            "event",
            f"the event's entry for {certificate.get('id')} names another batch or serials than"
            " the retirement",
        )


def _rules(name: str, entries: list[Entry]) -> None:
    """Re-run every rule of the aggregate over its signed history, with the domain's code."""
    from ledger.domain.replay import decode, domain_event, replay_event

    state: Any = None
    for number, entry in enumerate(entries):
        try:
            event = domain_event(
                entry.topic, uuid.UUID(entry.aggregate), entry.version, decode(entry.event)
            )
            state = replay_event(state, event)
        except LedgerError as e:
            raise ProofError(f"{name}[{number}]", f"breaks the rules: {e}") from e
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as e:
            raise ProofError(f"{name}[{number}]", f"is not a valid {entry.topic}: {e!r}") from e


def _included(path: str, leaf: bytes, index: int, raw: object, checkpoint: Checkpoint) -> None:
    if not isinstance(raw, list):
        raise ProofError(f"{path}.inclusion", "must be a list of base64 hashes")
    hashes = []
    for position, text in enumerate(raw):
        try:
            value = base64.b64decode(str(text), validate=True)
        except ValueError as e:
            raise ProofError(f"{path}.inclusion[{position}]", "is not base64") from e
        if len(value) != 32 or base64.b64encode(value).decode() != text:
            raise ProofError(f"{path}.inclusion[{position}]", "is not a 32-byte hash")
        hashes.append(value)
    try:
        verify_inclusion(leaf, index, checkpoint.size, hashes, checkpoint.root)
    except LedgerError as e:
        raise ProofError(f"{path}.inclusion", str(e)) from e


def _certificate(claimed: object, entries: list[Entry]) -> None:
    derived = certificates(entries)
    last = entries[-1]
    if not derived or derived[-1].retirement_version != last.version:
        raise ProofError("entries", f"the last entry (version {last.version}) is not a retirement")
    expected = derived[-1].to_json()
    if not isinstance(claimed, Mapping):
        raise ProofError("certificate", "must be an object")
    for name in sorted(set(expected) | set(claimed)):
        if name not in claimed:
            raise ProofError(f"certificate.{name}", "is missing")
        if name not in expected:
            raise ProofError(f"certificate.{name}", "is not a certificate field")
        if claimed[name] != expected[name] or type(claimed[name]) is not type(expected[name]):
            raise ProofError(
                f"certificate.{name}",
                f"says {claimed[name]!r} but the signed events say {expected[name]!r}",
            )
