"""Retirement proofs: one self-contained JSON file anyone verifies offline (SPEC 5).

A proof holds the certificate, the signed envelopes of the batch's history from issuance up to
and including the retirement, and the public keys that signed them. :func:`verify_proof`
checks, with nothing but the file (and optionally a trusted key file):

- the exact set of fields and the format id;
- every key: its id is the SHA-256 of its public key, it is used, and (with ``trusted``) pinned;
- every envelope: canonical, signed by its actor's key in the role the event kind needs;
- the hash chain from version 1 to the retirement, of one aggregate;
- the certificate: equal, field by field, to the one re-derived from the signed events.

The first failure raises :class:`~ledger.errors.ProofError` naming the JSON path that fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledger.audit.chain import check_link
from ledger.audit.envelope import Entry, Envelope
from ledger.audit.keys import KeyDirectory, PublicKey
from ledger.audit.policy import authority_problem
from ledger.errors import LedgerError, ProofError, UnknownSignerError
from ledger.projections.certificates import Certificate, certificates

__all__ = ["FORMAT", "build_proof", "verify_proof"]

FORMAT = "ledger.retirement-proof.v0"
_FIELDS = {"format", "certificate", "entries", "keys"}


def build_proof(certificate: Certificate, history: Sequence[Entry]) -> dict[str, Any]:
    """The proof of ``certificate``; ``history`` is its batch's, from issuance to retirement."""
    keys: dict[str, PublicKey] = {entry.signer.keyid: entry.signer for entry in history}
    return {
        "format": FORMAT,
        "certificate": certificate.to_json(),
        "entries": [entry.envelope.to_json() for entry in history],
        "keys": [key.to_json() for key in keys.values()],
    }


def verify_proof(proof: object, trusted: KeyDirectory | None = None) -> None:
    """Return None if ``proof`` verifies; raise :class:`ProofError` naming what fails.

    Args:
        proof: the parsed JSON of a proof file.
        trusted: if given, every key in the proof must be in it (same actor, role and key).
    """
    if not isinstance(proof, Mapping) or set(proof) != _FIELDS:
        raise ProofError("(top level)", f"a proof has exactly the fields {sorted(_FIELDS)}")
    if proof["format"] != FORMAT:
        raise ProofError("format", f"unknown format {proof['format']!r}; expected {FORMAT!r}")
    keys = _keys(proof["keys"], trusted)
    entries = _entries(proof["entries"], keys)
    _all_used(proof["keys"], entries)
    _certificate(proof["certificate"], entries)


def _keys(raw: object, trusted: KeyDirectory | None) -> KeyDirectory:
    if not isinstance(raw, list) or not raw:
        raise ProofError("keys", "must be a non-empty list")
    keys = KeyDirectory()
    for index, item in enumerate(raw):
        try:
            key = PublicKey.from_json(item)
        except LedgerError as e:
            raise ProofError(f"keys[{index}]", str(e)) from e
        if key.keyid in {known.keyid for known in keys}:
            raise ProofError(f"keys[{index}]", "lists the same key twice")
        if trusted is not None and key not in trusted:
            raise ProofError(f"keys[{index}]", f"key of {key.actor!r} is not in the trusted keys")
        keys.add(key)
    return keys


def _entries(raw: object, keys: KeyDirectory) -> list[Entry]:
    if not isinstance(raw, list) or not raw:
        raise ProofError("entries", "must be a non-empty list")
    entries: list[Entry] = []
    for index, item in enumerate(raw):
        entries.append(_entry(f"entries[{index}]", item, keys, entries[-1] if entries else None))
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


def _all_used(raw_keys: list[Mapping[str, Any]], entries: list[Entry]) -> None:
    used = {entry.signer.keyid for entry in entries}
    for index, item in enumerate(raw_keys):
        if item["keyid"] not in used:
            raise ProofError(f"keys[{index}]", "is not used by any entry")


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
