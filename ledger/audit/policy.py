"""Who may sign which event: the one place where a key's role is matched to an event kind.

Rules:
- Issuance (``ledger.credit-batch.issued.v1``) needs a ``registry`` key, and the issuing
  registry named in the event must be the key's actor: only a registry's operator issues.
- Sink projects: the ``developer`` registers, binds and files; a ``verifier`` validates and
  measures; a ``registry`` records issued removals.
- Events: the organiser (an ``account`` key) registers, plans, accounts, allocates, commits and
  confirms; a ``verifier`` key evaluates.
- Every other credit-batch event needs an ``account`` key (the holder acts for its units; the
  domain checks that the actor holds them).
- The same check runs before an event is signed and whenever one is read or verified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.audit.keys import PublicKey
from ledger.domain.topics import Batch, Event, Sink

__all__ = ["REQUIRED_ROLE", "authority_problem"]

REQUIRED_ROLE = {
    Batch.ISSUED: "registry",
    Batch.TRANSFERRED: "account",
    Batch.DONATED: "account",
    Batch.SPLIT: "account",
    Batch.RESERVED: "account",
    Batch.RELEASED: "account",
    Batch.RETIRED: "account",
    Batch.EXPORTED: "account",
    Sink.REGISTERED: "developer",
    Sink.BOUND: "developer",
    Sink.APPLICATION_FILED: "developer",
    Sink.VALIDATED: "verifier",
    Sink.MEASURED: "verifier",
    Sink.REMOVALS_ISSUED: "registry",
    **{topic: "account" for topic in Event.ALL if topic != Event.EVALUATED},
    Event.EVALUATED: "verifier",
}


def authority_problem(topic: str, key: PublicKey, event: Mapping[str, Any]) -> str | None:
    """Why ``key`` may not sign ``event`` of kind ``topic``, or None if it may."""
    role = REQUIRED_ROLE.get(topic)
    if role is None:
        return f"unknown event kind {topic!r}"
    if key.role != role:
        article = "an" if role[0] in "aeiou" else "a"
        return f"{topic} needs {article} {role!r} key; key of {key.actor!r} has role {key.role!r}"
    if topic == Batch.ISSUED and event.get("registry") != key.actor:
        return f"only registry {event.get('registry')!r} may issue its batches, not {key.actor!r}"
    return None
