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
from ledger.domain import credit_batch as cb
from ledger.domain import event_neutralization as en
from ledger.domain import sink_project as sp

__all__ = ["REQUIRED_ROLE", "authority_problem"]

REQUIRED_ROLE = {
    cb.ISSUED: "registry",
    cb.TRANSFERRED: "account",
    cb.DONATED: "account",
    cb.SPLIT: "account",
    cb.RESERVED: "account",
    cb.RELEASED: "account",
    cb.RETIRED: "account",
    cb.EXPORTED: "account",
    sp.REGISTERED: "developer",
    sp.BOUND: "developer",
    sp.APPLICATION_FILED: "developer",
    sp.VALIDATED: "verifier",
    sp.MEASURED: "verifier",
    sp.REMOVALS_ISSUED: "registry",
    **{topic: "account" for topic in en.TOPICS if topic != en.EVALUATED},
    en.EVALUATED: "verifier",
}


def authority_problem(topic: str, key: PublicKey, event: Mapping[str, Any]) -> str | None:
    """Why ``key`` may not sign ``event`` of kind ``topic``, or None if it may."""
    role = REQUIRED_ROLE.get(topic)
    if role is None:
        return f"unknown event kind {topic!r}"
    if key.role != role:
        return f"{topic} needs a {role!r} key; key of {key.actor!r} has role {key.role!r}"
    if topic == cb.ISSUED and event.get("registry") != key.actor:
        return f"only registry {event.get('registry')!r} may issue its batches, not {key.actor!r}"
    return None
