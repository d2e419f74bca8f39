"""Retirement proofs: one self-contained JSON file anyone verifies offline (SPEC 5).

A proof (format ``ledger.retirement-proof.v1``, docs/proof-format.md) holds the certificate;
the signed envelopes of the batch's history from issuance up to the retirement, each with its
leaf index and RFC 9162 inclusion proof; the signed (and cosigned) checkpoint they are proven
against; and the chain of trust roots that authorizes every key. :func:`verify_proof` checks,
with nothing but the file and a trusted root:

- exact fields and the format id;
- the root chain: in increasing version order without gaps, holding the trusted root
  unchanged, each later root a valid rotation (thresholds of distinct keys);
- the checkpoint: signed by the root's log key for the root's origin, with at least the
  root's number of witness cosignatures;
- every envelope: canonical, signed inside its key's window by its actor's key in the role its
  kind needs, chained to the one before, and included in the checkpoint's tree (the leaf hash
  is recomputed from the envelope, never read from the file);
- the certificate: equal, field by field, to the one re-derived from the signed events;
- ``event`` (when the retirement was for a registered event): the event's own signed chain,
  each entry included in the checkpoint, naming this certificate among its retirements; its
  last entry tells whether the event's neutrality is confirmed.

The first failure raises :class:`~ledger.errors.ProofError` naming the JSON path that fails.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ledger.audit.certificate import Certificate, certificates
from ledger.audit.chain import check_link
from ledger.audit.envelope import Entry, Envelope, entry_hash
from ledger.audit.keys import KeyDirectory
from ledger.audit.merkle import verify_inclusion
from ledger.audit.note import Checkpoint, SignedNote
from ledger.audit.policy import authority_problem
from ledger.audit.trust import TrustRoot, verify_chain
from ledger.domain import topics
from ledger.errors import LedgerError, ProofError, UnknownSignerError

__all__ = ["FORMAT", "build_proof", "verify_proof"]

FORMAT = "ledger.retirement-proof.v1"
_FIELDS = {"format", "certificate", "entries", "checkpoint", "roots", "event"}
_EVENT_RETIRED = topics.Event.RETIRED
_EVENT_LABEL = re.compile(r"\[event [0-9a-f-]{36}\]$")
_ENTRY_FIELDS = {"envelope", "leafIndex", "inclusion"}


def build_proof(
    certificate: Certificate,
    placed: Sequence[tuple[Entry, int, Sequence[bytes]]],
    checkpoint: SignedNote,
    roots: Sequence[TrustRoot],
    event: Sequence[tuple[Entry, int, Sequence[bytes]]] = (),
) -> dict[str, Any]:
    """The proof of ``certificate`` from its history placed in the log (entry, index, path)."""
    return {
        "event": {"entries": _placed(event)} if event else None,
        "format": FORMAT,
        "certificate": certificate.to_json(),
        "entries": _placed(placed),
        "checkpoint": checkpoint.text(),
        "roots": [root.to_json() for root in roots],
    }


def _placed(placed: Sequence[tuple[Entry, int, Sequence[bytes]]]) -> list[dict[str, Any]]:
    return [
        {
            "envelope": entry.envelope.to_json(),
            "leafIndex": index,
            "inclusion": [base64.b64encode(h).decode() for h in path],
        }
        for entry, index, path in placed
    ]


def verify_proof(proof: object, trusted: TrustRoot) -> None:
    """Return None if ``proof`` verifies; raise :class:`ProofError` naming what fails.

    Args:
        proof: the parsed JSON of a proof file (read it strictly: ``ledger verify`` does).
        trusted: the trust root you already trust (required: a proof's own roots prove
            nothing about which ledger made it).
    """
    if not isinstance(proof, Mapping) or set(proof) != _FIELDS:
        raise ProofError("(top level)", f"a proof has exactly the fields {sorted(_FIELDS)}")
    if proof["format"] != FORMAT:
        raise ProofError("format", f"unknown format {proof['format']!r}; expected {FORMAT!r}")
    root = _roots(proof["roots"], trusted)
    checkpoint = _checkpoint(proof["checkpoint"], root)
    keys = root.directory()
    entries = _entries("entries", proof["entries"], keys, checkpoint)
    _certificate(proof["certificate"], entries)
    _event(proof["event"], proof["certificate"], keys, checkpoint)


def _event(
    raw: object, certificate: Mapping[str, Any], keys: KeyDirectory, checkpoint: Checkpoint
) -> None:
    label = str(certificate.get("eventName") or "")
    if raw is None:
        if _EVENT_LABEL.search(label):
            raise ProofError(
                "event", f"the retirement names {label!r} but the event's record is missing"
            )
        return
    if not isinstance(raw, Mapping) or set(raw) != {"entries"}:
        raise ProofError("event", 'must be null or exactly {"entries": [...]}')
    entries = _entries("event.entries", raw["entries"], keys, checkpoint)
    if not label.endswith(f"[event {entries[0].aggregate}]"):
        raise ProofError(
            "event", f"the retirement names {label!r}, not event {entries[0].aggregate}"
        )
    retired = [e for e in entries if e.topic == _EVENT_RETIRED]
    if not any(e.event.get("certificate") == certificate.get("id") for e in retired):
        raise ProofError(
            "event", f"the event's signed retirements do not include {certificate.get('id')}"
        )


def _roots(raw: object, trusted: TrustRoot) -> TrustRoot:
    if not isinstance(raw, list) or not raw:
        raise ProofError("roots", "must be a non-empty list of trust roots")
    chain = []
    for index, document in enumerate(raw):
        try:
            chain.append(TrustRoot.from_json(document))
        except LedgerError as e:
            raise ProofError(f"roots[{index}]", str(e)) from e
    try:
        return verify_chain(trusted, chain)
    except LedgerError as e:
        raise ProofError("roots", str(e)) from e


def _checkpoint(raw: object, root: TrustRoot) -> Checkpoint:
    try:
        note = SignedNote.parse(str(raw)) if isinstance(raw, str) else None
        if note is None:
            raise ProofError("checkpoint", "must be a signed note (text)")
        if note.checkpoint.origin != root.origin:
            raise ProofError("checkpoint", f"origin is not the trust root's {root.origin!r}")
        logs = [k for k in root.with_role("log") if k.actor == root.origin]
        _first_success([lambda k=k: note.verify_log(k.actor, k.public_key) for k in logs])
        witnessed = {
            k.public_key
            for k in root.with_role("witness")
            if note.cosigned_at(k.actor, k.public_key) is not None
        }
    except ProofError:
        raise
    except LedgerError as e:
        raise ProofError("checkpoint", str(e)) from e
    if len(witnessed) < root.witnesses:
        raise ProofError(
            "checkpoint", f"{len(witnessed)} witness cosignatures; the root needs {root.witnesses}"
        )
    return note.checkpoint


def _first_success(attempts: Sequence[Any]) -> None:
    errors: list[LedgerError] = []
    for attempt in attempts:
        try:
            attempt()
            return
        except LedgerError as e:
            errors.append(e)
    raise errors[0] if errors else ProofError("checkpoint", "the trust root has no log key")


def _entries(name: str, raw: object, keys: KeyDirectory, checkpoint: Checkpoint) -> list[Entry]:
    if not isinstance(raw, list) or not raw:
        raise ProofError(name, "must be a non-empty list")
    entries: list[Entry] = []
    last_index = -1
    for index, item in enumerate(raw):
        path = f"{name}[{index}]"
        if not isinstance(item, Mapping) or set(item) != _ENTRY_FIELDS:
            raise ProofError(path, f"an entry has exactly the fields {sorted(_ENTRY_FIELDS)}")
        entry = _entry(f"{path}.envelope", item["envelope"], keys, entries[-1] if entries else None)
        leaf_index = item["leafIndex"]
        if (
            isinstance(leaf_index, bool)
            or not isinstance(leaf_index, int)
            or leaf_index <= last_index
        ):
            raise ProofError(f"{path}.leafIndex", "must be an integer above the previous entry's")
        _included(path, entry, leaf_index, item["inclusion"], checkpoint)
        entries.append(entry)
        last_index = leaf_index
    return entries


def _entry(path: str, item: object, keys: KeyDirectory, previous: Entry | None) -> Entry:
    try:
        envelope = Envelope.from_json(item)
        entry = envelope.open(keys)
    except UnknownSignerError as e:
        raise ProofError(f"{path}.signatures[0].keyid", e.detail) from e
    except LedgerError as e:
        raise ProofError(path, f"{e} (payload, payloadType or signature changed)") from e
    problem = authority_problem(entry.topic, entry.signer, entry.event)
    if problem is not None:
        raise ProofError(f"{path}.signatures[0].keyid", problem)
    try:
        check_link(previous, entry)
    except LedgerError as e:
        raise ProofError(path, str(e)) from e
    return entry


def _included(path: str, entry: Entry, index: int, raw: object, checkpoint: Checkpoint) -> None:
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
    leaf = bytes.fromhex(entry_hash(entry.envelope.to_bytes()))
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
