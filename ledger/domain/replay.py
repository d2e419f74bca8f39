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
- An aggregate's module is loaded when an event of its namespace is first replayed (loading it
  registers its kinds' topics), so the offline verifier loads only the aggregates it replays.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib
import inspect
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
from eventsourcing.domain import CanInitAggregate, _init_mentions_id
from eventsourcing.utils import get_topic, resolve_topic

from ledger.errors import InvalidInputError, LedgerError, TamperError

__all__ = ["decode", "domain_event", "replay_event"]

Recheck = Callable[[Any, Any], None]
#: Each namespace of signed kinds: the module of its aggregate and the aggregate's class name.
_MODULES = {
    "ledger.credit-batch.": ("ledger.domain.credit_batch", "CreditBatch"),
    "ledger.event.": ("ledger.domain.event_neutralization", "EventNeutralization"),
    "ledger.sink-project.": ("ledger.domain.sink_project", "SinkProject"),
}
_DECODERS: dict[str, Callable[[str], object]] = {
    "datetime_iso": datetime.datetime.fromisoformat,
    "decimal_str": Decimal,
    "uuid_hex": uuid.UUID,
}


def _kind(topic: str) -> tuple[type, Recheck] | None:
    """The aggregate class and rule re-check of ``topic``'s namespace, loaded on first use.

    Loading the module registers its kinds' topics, so a verifier replaying only credit
    batches never imports the other aggregates.
    """
    found = _KINDS.get(topic)
    if found is None:
        prefix = next((p for p in _MODULES if topic.startswith(p)), None)
        if prefix is None:
            return None
        name, aggregate = _MODULES[prefix]
        module = importlib.import_module(name)
        found = _KINDS[topic] = (getattr(module, aggregate), module.recheck)
    return found


#: :func:`_kind` of each topic seen (a module, once loaded, stays loaded).
_KINDS: dict[str, tuple[type, Recheck]] = {}
#: The field names of each dataclass event class seen.
_FIELDS: dict[type, frozenset[str]] = {}


def _fields(cls: type) -> frozenset[str]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = frozenset(field.name for field in dataclasses.fields(cls))
    return found


def decode(value: Any) -> Any:
    """``value`` with every tagged object ``{"_type_": NAME, "_data_": TEXT}`` decoded."""
    if isinstance(value, dict):
        return _decode_object(value)
    if isinstance(value, list):
        return [decode(item) if isinstance(item, _CONTAINERS) else item for item in value]
    return value


_CONTAINERS = (dict, list)


def _decode_object(value: dict[str, Any]) -> Any:
    """:func:`decode` of an object: only its containers are looked into."""
    if len(value) == 2 and "_type_" in value and "_data_" in value:
        decoder = _DECODERS.get(value["_type_"])
        if decoder is not None:
            return decoder(value["_data_"])
    return {
        key: decode(item) if isinstance(item, _CONTAINERS) else item for key, item in value.items()
    }


def domain_event(topic: str, aggregate: uuid.UUID, version: int, fields: dict[str, Any]) -> Any:
    """The domain event of kind ``topic`` with decoded ``fields``, upcast to its class version.

    Raises:
        TamperError: an unknown kind, wrong fields or class version, or a creating event that
            names another aggregate class than its kind's (replaying it would load that class).
    """
    found = _kind(topic)  # registers the topics of its namespace
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
    if "originator_topic" in state and found is not None:
        _check_originator(topic, state["originator_topic"], found[0])
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        expected = _fields(cls)
        if state.keys() != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise TamperError(
                f"a {topic} event has the wrong fields (missing {missing or 'none'}, unknown"
                f" {extra or 'none'})"
            )
    made: Any = object.__new__(cls)
    object.__setattr__(made, "__dict__", state)
    return made


def _check_originator(topic: str, named: object, aggregate: type) -> None:
    """A creating event must name its own kind's aggregate class, never another module's."""
    if named != get_topic(aggregate):
        raise TamperError(
            f"a {topic} event creates an aggregate of class {named!r}, not {get_topic(aggregate)!r}"
        )


def replay_event(before: Any, event: Any) -> Any:
    """Re-run the rules behind ``event`` on ``before`` (None at first) and apply it.

    Raises:
        RuleViolationError (or another LedgerError): naming the rule no command could pass.
        TamperError: an event of an unknown kind, or of another kind than its aggregate.
    """
    topic = str(getattr(type(event), "TOPIC", ""))
    found = _kind(topic)
    if found is None:
        raise TamperError(f"unknown event kind {topic!r}")
    kind, recheck = found
    if before is not None and not isinstance(before, kind):
        raise TamperError(f"a {topic} event on an aggregate of kind {type(before).__name__}")
    try:
        recheck(before, event)
        if before is None and type(event).mutate is _INIT_MUTATE:
            return _create(event, kind)
        return event.mutate(before)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as e:
        if isinstance(e, LedgerError):
            raise
        raise InvalidInputError(f"{topic}: not an event its rules can apply ({e!r})") from e


_INIT_MUTATE = CanInitAggregate.mutate


@attrs.frozen
class _Maker:
    """How ``CanInitAggregate.mutate`` builds an aggregate of one class, worked out once."""

    topic: str
    base: frozenset[str]
    init: frozenset[str]
    with_id: bool


#: The :class:`_Maker` of each aggregate class replayed.
_MAKERS: dict[type, _Maker] = {}


def _maker(kind: Any) -> _Maker:
    found = _MAKERS.get(kind)
    if found is None:
        base, init = (
            frozenset(inspect.signature(method).parameters)
            for method in (kind.__base_init__, kind.__init__)
        )
        with_id = kind in _init_mentions_id
        found = _MAKERS[kind] = _Maker(get_topic(kind), base, init, with_id)
    return found


def _create(event: Any, kind: Any) -> Any:
    """``event.mutate(None)`` of a creating event of aggregate class ``kind``, step by step.

    The same steps as ``CanInitAggregate.mutate`` (a blank ``kind``, its ``__base_init__`` and
    ``__init__`` called with the event's fields they name, then ``apply``), with the
    parameter names looked up once per class; an event naming another class than ``kind``
    takes the generic path.
    """
    maker = _maker(kind)
    fields: dict[str, Any] = event.__dict__
    if fields.get("originator_topic") != maker.topic:
        return event.mutate(None)
    made: Any = kind.__new__(kind)
    made.__base_init__(**{k: v for k, v in fields.items() if k in maker.base})
    kwargs = {k: v for k, v in fields.items() if k in maker.init}
    if maker.with_id:
        kwargs["id"] = fields["originator_id"]
    made.__init__(**kwargs)
    event.apply(made)
    return made
