"""Re-checking one stored event against the command that should have made it (pure).

Rules:
- A signed event is lawful only if some command, run on a copy of the aggregate as it was just
  before the event, makes exactly that event: the same kind and the same fields. The copy is
  thrown away; the state before is never changed.
- Fields the command does not decide are not compared: the aggregate id (new on every
  registration) and the writer's wall-clock ``timestamp``.
- When the fields differ, the error names the rule of that event kind and the first field
  that differs; the command's own refusal (which names its rule) comes first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.errors import RuleViolationError

__all__ = ["fields_of", "made_by", "require_same"]

_NOT_COMPARED = frozenset({"originator_id", "timestamp"})


def fields_of(domain_event: Any) -> dict[str, Any]:
    """The fields of ``domain_event`` (its attributes, ``timestamp`` and actor included)."""
    return dict(vars(domain_event))


def made_by(probe: Aggregate) -> Any:
    """The one event the command just run on ``probe`` made."""
    made = probe.collect_events()
    if len(made) != 1:
        raise RuleViolationError(f"the command made {len(made)} events, not one")
    return made[0]


def require_same(made: Any, stored: Any, *, rule: str, kind: str) -> None:
    """Raise naming ``rule`` unless ``stored`` states what the command ``made``."""
    if type(made) is not type(stored):
        raise RuleViolationError(
            f"a {kind} event is not what the command makes ({type(made).__name__})", rule=rule
        )
    expected, actual = _compared(made), _compared(stored)
    for name in sorted(expected.keys() | actual.keys()):
        if expected.get(name) != actual.get(name):
            raise RuleViolationError(
                f"the {kind} event states {name}={actual.get(name)!r}; the command on the"
                f" record before it makes {name}={expected.get(name)!r}",
                rule=rule,
            )


def _compared(domain_event: Any) -> Mapping[str, Any]:
    return {k: v for k, v in fields_of(domain_event).items() if k not in _NOT_COMPARED}
