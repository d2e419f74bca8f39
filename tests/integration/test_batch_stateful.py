"""Random command sequences against a plain in-memory model, on both backends (issue 3).

Invariants checked after every step: every unit is in exactly the state and account the model
says; issued = held + reserved + retired + exported; the batch replayed from the store equals
the live aggregate that ran the same commands in memory, also when every rule is re-checked on
replay; a refused command writes nothing.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from ledger import Ledger, LedgerError, SerialRange, Signer, TrustRoot
from ledger.domain import CreditBatch, UnitState

from conftest import Backend

SIZE = 60
EVENTS = st.sampled_from(["Forum", "Expo"])
_blocks = itertools.count()


def make_machine(
    ledger: Ledger, registry: Signer, accounts: list[Signer]
) -> type[RuleBasedStateMachine]:
    people = st.sampled_from(accounts)
    starts = st.integers(1, SIZE + 5)
    lengths = st.integers(0, 15)

    class BatchMachine(RuleBasedStateMachine):
        @initialize()
        def issue(self) -> None:
            first = next(_blocks) * 1000 + 1
            self.offset = first - 1
            holder = accounts[0].actor
            self.id = ledger.issue_batch(
                registry,
                instrument="ccer",
                vintage=2024,
                project="p",
                province="Shandong",
                methodology="m",
                serials=SerialRange(first, first + SIZE - 1),
                holder=holder,
            )
            self.live = ledger.batch(self.id)
            self.model: dict[int, tuple[str, str, str | None]] = {
                n: ("held", holder, None) for n in range(1, SIZE + 1)
            }

        def attempt(self, allowed: bool, signer: Signer, name: str, *args: Any, **kw: Any) -> None:
            version = len(ledger.history(self.id))
            try:
                getattr(ledger, name)(signer, self.id, *args, **kw)
            except LedgerError:
                assert not allowed, f"{name} refused but the model allows it"
                assert len(ledger.history(self.id)) == version
            else:
                assert allowed, f"{name} accepted but the model refuses it"
                live_kw = {k: v for k, v in kw.items()}
                getattr(self.live, name)(*args, by=signer.actor, **live_kw)

        def units(self, start: int, length: int) -> range:
            return range(start, start + length + 1)

        def span(self, start: int, length: int) -> SerialRange:
            return SerialRange(self.offset + start, self.offset + start + length)

        def all_are(self, units: range, by: str, states: set[str], purpose: Any = ...) -> bool:
            return all(
                n in self.model
                and self.model[n][0] in states
                and self.model[n][1] == by
                and (purpose is ... or self.model[n][2] == purpose)
                for n in units
            )

        def set(self, units: range, state: str, account: str, purpose: str | None) -> None:
            for n in units:
                self.model[n] = (state, account, purpose)

        @rule(by=people, to=people, start=starts, length=lengths, donate=st.booleans())
        def move(self, by: Signer, to: Signer, start: int, length: int, donate: bool) -> None:
            units = self.units(start, length)
            allowed = by != to and self.all_are(units, by.actor, {"held"})
            name = "donate" if donate else "transfer"
            self.attempt(allowed, by, name, self.span(start, length), to=to.actor)
            if allowed:
                self.set(units, "held", to.actor, None)

        @rule(by=people, start=starts, length=lengths, event=EVENTS)
        def reserve(self, by: Signer, start: int, length: int, event: str) -> None:
            units = self.units(start, length)
            allowed = self.all_are(units, by.actor, {"held"})
            self.attempt(allowed, by, "reserve", self.span(start, length), event_name=event)
            if allowed:
                self.set(units, "reserved", by.actor, event)

        @rule(by=people, start=starts, length=lengths, event=EVENTS)
        def release(self, by: Signer, start: int, length: int, event: str) -> None:
            units = self.units(start, length)
            allowed = self.all_are(units, by.actor, {"reserved"}, event)
            self.attempt(allowed, by, "release", self.span(start, length), event_name=event)
            if allowed:
                self.set(units, "held", by.actor, None)

        @rule(by=people, start=starts, length=lengths, event=st.none() | EVENTS)
        def retire(self, by: Signer, start: int, length: int, event: str | None) -> None:
            units = self.units(start, length)
            allowed = self.all_are(units, by.actor, {"held", "reserved"}) and all(
                self.model[n][0] == "held" or self.model[n][2] == event for n in units
            )
            self.attempt(
                allowed,
                by,
                "retire",
                self.span(start, length),
                beneficiary="b",
                reason="r",
                event_name=event,
            )
            if allowed:
                self.set(units, "retired", by.actor, event)

        @rule(by=people, start=starts, length=lengths)
        def export(self, by: Signer, start: int, length: int) -> None:
            units = self.units(start, length)
            allowed = self.all_are(units, by.actor, {"held"})
            self.attempt(
                allowed, by, "export", self.span(start, length), target_registry="verra", reason="r"
            )
            if allowed:
                self.set(units, "exported", by.actor, "verra")

        @invariant()
        def store_equals_model_and_live_state(self) -> None:
            stored: CreditBatch = ledger.batch(self.id)
            units = {}
            for lot in stored.lots():
                for n in range(lot.serials.start, lot.serials.end + 1):
                    units[n - self.offset] = (lot.state.value, lot.account, lot.purpose)
            assert units == self.model
            assert stored.lots() == self.live.lots()
            assert ledger.recheck(self.id).lots() == stored.lots()
            totals = [stored.units.total(state) for state in UnitState]
            assert sum(totals) == SIZE

    return BatchMachine


def test_random_command_sequences_conserve_units_and_replay_equals_live_state(
    backend: Backend, root: TrustRoot, registry: Signer, organiser: Signer, stranger: Signer
) -> None:
    clock = lambda: datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)  # noqa: E731
    with Ledger(backend.url, root, schema=backend.schema, clock=clock) as ledger:
        machine = make_machine(ledger, registry, [organiser, stranger])
        run_state_machine_as_test(
            machine, settings=settings(max_examples=15, stateful_step_count=20, deadline=None)
        )
        report = ledger.audit(root)  # every signature, link, log leaf and re-checked rule
        assert report.events >= 15 and report.aggregates >= 15
