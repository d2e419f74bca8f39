"""Signed events back into domain events, and the rules re-run over them (SPEC 5a).

Rules:
- A signed event's fields are its payload's ``event`` object with the tagged values decoded
  (``datetime_iso`` to an aware datetime, ``decimal_str`` to a Decimal, ``uuid_hex`` to a UUID),
  upcast to its class's version; its class is the one registered under its signed kind, and
  the fields must be exactly the class's (a missing or unknown field is a TamperError).
- :func:`replay_event` re-runs, for an event of any aggregate kind, the check that a command of
  that kind could have made it on the state before (each kind's ``recheck``), then applies it.
- Pure: no I/O, no storage. The store's audit, the import and the offline proof verifier all
  replay through here, so a rule lives in one place.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from eventsourcing.utils import resolve_topic

from ledger.domain import credit_batch, event_neutralization, sink_project
from ledger.errors import InvalidInputError, LedgerError, TamperError

__all__ = ["KINDS", "decode", "domain_event", "replay_event"]

Recheck = Callable[[Any, Any], None]
#: Each namespace of signed kinds: its aggregate class and the re-check of its rules.
_DECODERS: dict[str, Callable[[str], object]] = {
    "datetime_iso": datetime.datetime.fromisoformat,
    "decimal_str": Decimal,
    "uuid_hex": uuid.UUID,
}


def _kinds() -> dict[str, tuple[type, Recheck]]:
    """The aggregate class and the rule re-check of each namespace of signed kinds."""
    return {
        "ledger.credit-batch.": (credit_batch.CreditBatch, credit_batch.recheck),
        "ledger.event.": (event_neutralization.EventNeutralization, event_neutralization.recheck),
        "ledger.sink-project.": (sink_project.SinkProject, sink_project.recheck),
    }


KINDS = _kinds()


def decode(value: Any) -> Any:
    """``value`` with every tagged object ``{"_type_": NAME, "_data_": TEXT}`` decoded."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"} and value["_type_"] in _DECODERS:
            return _DECODERS[value["_type_"]](value["_data_"])
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def domain_event(topic: str, aggregate: uuid.UUID, version: int, fields: dict[str, Any]) -> Any:
    """The domain event of kind ``topic`` with decoded ``fields``, upcast to its class version."""
    try:
        cls = resolve_topic(topic)
    except Exception as e:  # eventsourcing raises TopicError, a plain Exception subclass
        raise TamperError(f"unknown event kind {topic!r}") from e
    state = dict(fields)
    state["originator_id"] = aggregate
    state["originator_version"] = version
    from_version = state.pop("class_version", 1)
    newest = getattr(cls, "class_version", 1)
    if isinstance(from_version, bool) or not isinstance(from_version, int):
        raise TamperError(f"a {topic} event's class_version {from_version!r} is not an integer")
    if not 1 <= from_version <= newest:
        raise TamperError(f"a {topic} event's class_version {from_version} is not 1..{newest}")
    while from_version < newest:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
    if dataclasses.is_dataclass(cls):
        expected = {field.name for field in dataclasses.fields(cls)}
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise TamperError(
                f"a {topic} event has the wrong fields (missing {missing or 'none'}, unknown"
                f" {extra or 'none'})"
            )
    made: Any = object.__new__(cls)
    object.__setattr__(made, "__dict__", state)
    return made


def replay_event(before: Any, event: Any) -> Any:
    """Re-run the rules behind ``event`` on ``before`` (None at first) and apply it.

    Raises:
        RuleViolationError (or another LedgerError): naming the rule no command could pass.
        TamperError: an event of an unknown kind, or of another kind than its aggregate.
    """
    topic = str(getattr(type(event), "TOPIC", ""))
    prefix = next((p for p in KINDS if topic.startswith(p)), None)
    if prefix is None:
        raise TamperError(f"unknown event kind {topic!r}")
    kind, recheck = KINDS[prefix]
    if before is not None and not isinstance(before, kind):
        raise TamperError(f"a {topic} event on an aggregate of kind {type(before).__name__}")
    try:
        recheck(before, event)
        return event.mutate(before)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as e:
        if isinstance(e, LedgerError):
            raise
        raise InvalidInputError(f"{topic}: not an event its rules can apply ({e!r})") from e
