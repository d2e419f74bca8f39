"""Who may sign which event: the one place where a key's role is matched to an event kind.

Rules:
- Issuance (``ledger.credit-batch.issued.v1``) needs a ``registry`` key, and the issuing
  registry named in the event must be the key's actor: only a registry's operator issues.
- Every other credit-batch event needs an ``account`` key (the holder acts for its units; the
  domain checks that the actor holds them).
- The same check runs before an event is signed and whenever one is read or verified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.audit.keys import PublicKey
from ledger.domain import credit_batch as cb

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
