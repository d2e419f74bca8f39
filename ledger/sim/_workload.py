"""One worker's seeded stream of commands, each logged before it runs and after it returns.

Rules:
- Every command is a line ``{"id", "op", "sigs"}`` in the worker's log before it runs (the
  signed events it would leave, :mod:`ledger.sim._signatures`), then a line ``{"id",
  "outcome"}`` when it returns: ``ack`` (it returned), ``refused`` (a LedgerError: it must
  have written nothing) or ``error`` (anything else: a bug, reported as a divergence). A
  command with no outcome line was cut short by a kill: it may or may not be in the history.
- The stream mixes valid commands, invalid ones (wrong actor, wrong role, revoked key, units in
  the wrong state, unknown ids) and limit-hitting ones (serials at the batch's end or at
  ``MAX_SERIAL``, future vintages, empty text): a command's validity is never decided here,
  only logged; races with the other workers decide the rest.
- When the run restarts the database server (``--pg-restarts``), a command that fails because
  its connection was lost is logged ``indeterminate`` (it may or may not have committed, like
  a command cut short by a kill), and the worker waits for the server before going on. Without
  restarts a lost connection is an ``error``, a divergence.
- The workload is a function of the seed (``random.Random``); the injected clock is set per
  command, so no check depends on the wall clock.
"""

from __future__ import annotations

import datetime
import json
import random
import traceback
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from ledger import FactorTable, KeyDirectory, Ledger, LedgerError, Organiser, SerialRange
from ledger.audit.keys import Signer
from ledger.audit.note import cosign
from ledger.domain._units import Lot, UnitState
from ledger.domain.parcels import Parcel
from ledger.domain.topics import Batch, Event, Sink
from ledger.domain.values import MAX_SERIAL
from ledger.sim._crash import POINT_OPS, KillSwitch
from ledger.sim._signatures import Sig, batch_move
from ledger.sim._world import ACCOUNTS, World

__all__ = ["Worker", "day", "disconnected"]

STARTS = datetime.datetime(2026, 5, 10, 9, tzinfo=datetime.UTC)
ENDS = datetime.datetime(2026, 5, 12, 18, tzinfo=datetime.UTC)
FACTOR = FactorTable.default()["electricity-shandong-2022"]
OPS = {
    "issue": 8,
    "transfer": 12,
    "donate": 3,
    "split": 5,
    "reserve": 6,
    "release": 4,
    "retire": 10,
    "export": 4,
    "event": 16,
    "sink": 9,
    "checkpoint": 3,
    "invalid": 5,
}


def day(month: int, dom: int = 1) -> datetime.datetime:
    """Noon UTC of a day in 2026 (the simulated calendar)."""
    return datetime.datetime(2026, month, dom, 12, tzinfo=datetime.UTC)


class Worker:
    """Runs seeded commands against one ledger and logs each one.

    Args:
        ledger: the opened ledger (its clock reads ``clock``).
        world: the actors' signers.
        rng: the worker's seeded random source.
        name: the worker's name in command ids (``w1g0``).
        log: where command lines go (flushed after each line).
        clock: a one-element list holding the injected time.
        switch: the kill points of this process.
        batches: known batch ids (the setup's and earlier acknowledged issuances).
        run_dir: where import targets are created.
        import_file: an exported history to import (phase 2), or None.
        projector: whether this worker also keeps the read models current.
        server_restarts: whether the database server is restarted under the worker.
    """

    def __init__(
        self,
        ledger: Ledger,
        world: World,
        rng: random.Random,
        name: str,
        log: IO[str],
        clock: list[datetime.datetime],
        switch: KillSwitch,
        *,
        batches: list[str],
        run_dir: Path,
        import_file: Path | None = None,
        projector: bool = False,
        server_restarts: bool = False,
    ) -> None:
        self.ledger = ledger
        self.world = world
        self.rng = rng
        self.name = name
        self.log = log
        self.clock = clock
        self.switch = switch
        self.batches = [uuid.UUID(b) for b in batches]
        self.run_dir = run_dir
        self.import_file = import_file
        self.projector = projector
        self.server_restarts = server_restarts
        self.events: list[dict[str, Any]] = []
        self.projects: list[dict[str, Any]] = []
        self.count = 0
        self.errors = 0

    # The log ----------------------------------------------------------------------------

    def _write(self, record: dict[str, Any]) -> None:
        self.log.write(json.dumps(record, sort_keys=True) + "\n")
        self.log.flush()

    def do(
        self,
        op: str,
        sigs: list[Sig],
        action: Callable[[], Any],
        *,
        args: dict[str, Any] | None = None,
    ) -> tuple[bool, Any]:
        """Log, run and log the outcome of one command; (acknowledged, its result)."""
        ident = f"{self.name}c{self.count}"
        self.count += 1
        self._write({"id": ident, "op": op, "sigs": [list(s) for s in sigs], "args": args or {}})
        try:
            result = action()
        except Exception as e:
            if self.server_restarts and disconnected(e):
                self._write({"id": ident, "outcome": "indeterminate", "error": _line(e)})
                self.wait_for_server()
            elif isinstance(e, LedgerError):
                self._write(
                    {"id": ident, "outcome": "refused", "error": f"{type(e).__name__}: {e}"}
                )
            else:
                self.errors += 1
                self._write(
                    {
                        "id": ident,
                        "outcome": "error",
                        "error": f"{type(e).__name__}: {e}",
                        "traceback": traceback.format_exc(),
                    }
                )
            return False, None
        self._write({"id": ident, "outcome": "ack", "result": _plain(result)})
        return True, result

    # The stream -------------------------------------------------------------------------

    def run(self, commands: int, kill: tuple[int, str] | None = None) -> None:
        """Run ``commands`` seeded commands; arm the kill point ``kill[1]`` at ``kill[0]``."""
        ops = list(OPS)
        weights = [OPS[op] for op in ops]
        if self.projector:
            ops.append("project")
            weights.append(5)
        if self.import_file is not None:
            ops.append("import")
            weights.append(3)
        for index in range(commands):
            if kill is not None and index == kill[0]:
                self.switch.last_words = lambda point: self._write({"kill": point})
                self.switch.arm(kill[1])
            op = self.rng.choices(ops, weights)[0]
            if self.switch.armed is not None and self.rng.random() < 0.5:
                reaching = [o for o in POINT_OPS[self.switch.armed] if o in ops]
                op = self.rng.choice(reaching) if reaching else op
            try:
                getattr(self, f"op_{op}")()
            except Exception as e:  # a read outside a command lost its connection
                if not (self.server_restarts and disconnected(e)):
                    raise
                self.wait_for_server()

    def wait_for_server(self, seconds: float = 120.0) -> None:
        """Wait until the store answers again (the server restarting under the worker)."""
        import time

        end = time.monotonic() + seconds
        while True:
            try:
                self.ledger.store.max_notification_id()
                return
            except Exception as e:
                if not disconnected(e) or time.monotonic() > end:
                    raise
                time.sleep(0.2)

    # Helpers ----------------------------------------------------------------------------

    def tag(self) -> str:
        """A name no other command uses (the command's id)."""
        return f"sim-{self.name}c{self.count}"

    def account(self) -> str:
        return self.rng.choice(ACCOUNTS)

    def acting(self, actor: str) -> Signer:
        """Usually ``actor``'s key; sometimes another account's (wrong actor) or a revoked one."""
        draw = self.rng.random()
        if draw < 0.04 and self.world.revoked_keys:
            return self.rng.choice(self.world.revoked_keys)
        if draw < 0.12:
            return self.world.accounts[self.rng.choice(ACCOUNTS)]
        if draw < 0.14:
            return self.rng.choice([self.world.verifier, self.world.developer])
        if actor in self.world.accounts:
            return self.world.accounts[actor]
        return self.world.accounts[self.account()]

    def pick_lot(self, states: tuple[UnitState, ...]) -> tuple[uuid.UUID, Lot, Any] | None:
        """A random lot in one of ``states`` of a random known batch."""
        if not self.batches:
            return None
        batch_id = self.rng.choice(self.batches)
        try:
            batch = self.ledger.batch(batch_id)
        except LedgerError:
            return None
        lots = [lot for lot in batch.lots() if lot.state in states]
        if not lots:
            return None
        return batch_id, self.rng.choice(lots), batch

    def span(self, lot: Lot, batch: Any) -> tuple[int, int]:
        """A sub-range of ``lot``: usually inside it, sometimes past it or at the limits."""
        start, end = lot.serials.start, lot.serials.end
        draw = self.rng.random()
        if draw < 0.15:
            return start, end
        if draw < 0.85:
            a = self.rng.randint(start, end)
            return a, min(end, a + self.rng.choice([0, 2, 9, 40, 300]))
        if draw < 0.95:
            return self.rng.randint(start, end), end + self.rng.randint(1, 5)
        return self.rng.choice(
            [(batch.serials.end, MAX_SERIAL), (batch.serials.end + 1, batch.serials.end + 1)]
        )

    # Credit batches ---------------------------------------------------------------------

    def op_issue(self) -> None:
        registry = self.world.registries[self.rng.choice(sorted(self.world.registries))]
        signer = registry if self.rng.random() > 0.08 else self.acting("acct-0")
        start = 100_000 + self.rng.randrange(120) * 50
        length = self.rng.choice([1, 10, 50, 120])
        vintage = 2025 if self.rng.random() > 0.05 else 2027  # a future vintage is refused
        holder = self.account() if self.rng.random() > 0.05 else "nobody"
        project = self.tag()
        end = start + length - 1 if self.rng.random() > 0.03 else MAX_SERIAL
        instrument = self.rng.choice(["inclusion-forest", "inclusion-forest", "ccer", "cea"])

        def action() -> uuid.UUID:
            return self.ledger.issue_batch(
                signer,
                instrument=instrument,
                vintage=vintage,
                project=project,
                province="Shandong",
                methodology="sim",
                serials=SerialRange(start, end),
                holder=holder,
            )

        done, batch = self.do("issue", [(Batch.ISSUED, project)], action)
        if done:
            self.batches.append(batch)

    def _move(self, op: str, topic: str, states: tuple[UnitState, ...]) -> None:
        picked = self.pick_lot(states)
        if picked is None:
            return self.op_invalid()
        batch_id, lot, batch = picked
        a, b = self.span(lot, batch)
        signer = self.acting(lot.account)
        actor = signer.actor
        if op in ("transfer", "donate"):
            to = self.rng.choice([x for x in ACCOUNTS if x != lot.account] or ACCOUNTS)
            extra: object = to
            method = self.ledger.transfer if op == "transfer" else self.ledger.donate

            def action() -> Any:
                return method(signer, batch_id, SerialRange(a, b), to=to)

        elif op == "reserve":
            purpose = self.rng.choice(["Expo 2026", "Forum 2026", ""])
            extra = purpose

            def action() -> Any:
                return self.ledger.reserve(signer, batch_id, SerialRange(a, b), event_name=purpose)

        elif op == "release":
            purpose = str(lot.purpose) if self.rng.random() > 0.1 else "another event"
            extra = purpose

            def action() -> Any:
                return self.ledger.release(signer, batch_id, SerialRange(a, b), event_name=purpose)

        elif op == "retire":
            named = lot.purpose if lot.state is UnitState.RESERVED else None
            if self.rng.random() < 0.05:
                named = "Forum 2026"
            extra = named

            def action() -> Any:
                return self.ledger.retire(
                    signer,
                    batch_id,
                    SerialRange(a, b),
                    beneficiary="sim beneficiary",
                    reason="sim retirement",
                    event_name=named,
                )

        else:
            extra = "external-registry" if self.rng.random() > 0.1 else batch.registry

            def action() -> Any:
                return self.ledger.export(
                    signer,
                    batch_id,
                    SerialRange(a, b),
                    target_registry=extra,
                    reason="sim export",
                )

        self.do(op, [batch_move(topic, batch_id, actor, a, b, extra)], action, args={"lot": a})
        return None

    def op_transfer(self) -> None:
        self._move("transfer", Batch.TRANSFERRED, (UnitState.HELD,))

    def op_donate(self) -> None:
        self._move("donate", Batch.DONATED, (UnitState.HELD,))

    def op_reserve(self) -> None:
        self._move("reserve", Batch.RESERVED, (UnitState.HELD,))

    def op_release(self) -> None:
        self._move("release", Batch.RELEASED, (UnitState.RESERVED,))

    def op_retire(self) -> None:
        states = (UnitState.HELD, UnitState.RESERVED)
        if self.rng.random() < 0.1:
            states = (UnitState.RETIRED, UnitState.EXPORTED)  # a second retirement
        self._move("retire", Batch.RETIRED, states)

    def op_export(self) -> None:
        self._move("export", Batch.EXPORTED, (UnitState.HELD,))

    def op_split(self) -> None:
        picked = self.pick_lot((UnitState.HELD, UnitState.RESERVED, UnitState.RETIRED))
        if picked is None:
            return self.op_invalid()
        batch_id, lot, _ = picked
        at = self.rng.randint(lot.serials.start, lot.serials.end + 1)
        signer = self.acting(lot.account)
        self.do(
            "split",
            [(Batch.SPLIT, str(batch_id), signer.actor, str(at))],
            lambda: self.ledger.split(signer, batch_id, at),
        )
        return None

    # Events -----------------------------------------------------------------------------

    def op_event(self) -> None:
        if not self.events or (len(self.events) < 4 and self.rng.random() < 0.15):
            return self._register_event()
        event = self.rng.choice(self.events)
        steps = ("plan", "allocate", "account", "retire", "commit", "confirm", "done")
        step = steps[min(event["stage"], len(steps) - 1)]
        if step == "done" or self.rng.random() < 0.1:
            step = self.rng.choice(steps[:-1])
        getattr(self, f"_event_{step}")(event)
        return None

    def _register_event(self) -> None:
        organiser = self.account()
        signer = self.acting(organiser)
        name = self.tag()
        participants = self.rng.choice([300, 300, 300, 0, 5000])
        self.clock[0] = day(4)

        def action() -> uuid.UUID:
            return self.ledger.register_event(
                signer,
                kind="forum",
                name=name,
                organisers=[Organiser("Sim Co.", "enterprise")],
                venue="Jinan",
                starts=STARTS,
                ends=ENDS,
                participants=participants,
            )

        done, event_id = self.do("event-register", [(Event.REGISTERED, name)], action)
        if done:
            label = f"{name} [event {event_id}]"
            self.events.append(
                {"id": event_id, "organiser": signer.actor, "label": label, "stage": 0, "open": []}
            )

    def _event_step(
        self, event: dict[str, Any], op: str, topic: str, when: datetime.datetime, call: Any
    ) -> bool:
        signer = self.acting(event["organiser"])
        self.clock[0] = when
        sig = (topic, str(event["id"]), signer.actor)
        done, _ = self.do(op, [sig], lambda: call(signer))
        if done:
            event["stage"] += 1
        return done

    def _event_plan(self, event: dict[str, Any]) -> None:
        offsets = [{"instrument": "inclusion-forest", "province": "Shandong"}]
        self._event_step(
            event,
            "event-plan",
            Event.PLANNED,
            day(4) if self.rng.random() > 0.05 else day(7),
            lambda s: self.ledger.publish_plan(
                s,
                event["id"],
                boundary=["purchased-electricity"],
                estimates={},
                measures=[],
                offsets=offsets,
            ),
        )

    def _event_allocate(self, event: dict[str, Any]) -> None:
        picked = self.pick_lot((UnitState.HELD,))
        if picked is None:
            return
        batch_id, lot, _ = picked
        a = lot.serials.start
        b = min(lot.serials.end, a + self.rng.choice([0, 4, 9]))
        signer = self.acting(event["organiser"])
        self.clock[0] = day(5, 15)
        sigs = [
            batch_move(Batch.RESERVED, batch_id, signer.actor, a, b, event["label"]),
            (Event.ALLOCATED, str(event["id"]), signer.actor),
        ]
        reason = None if self.rng.random() < 0.7 else "sim deviation"
        done, _ = self.do(
            "event-allocate",
            sigs,
            lambda: self.ledger.allocate_offsets(
                signer, event["id"], batch_id, SerialRange(a, b), reason=reason
            ),
        )
        if done:
            event["open"].append((str(batch_id), a, b))
            if self.rng.random() < 0.6:
                event["stage"] += 1

    def _event_account(self, event: dict[str, Any]) -> None:
        kwh = self.rng.choice([1000, 4000, 9000])
        self._event_step(
            event,
            "event-account",
            Event.ACCOUNTED,
            day(5, 20) if self.rng.random() > 0.05 else day(5, 11),
            lambda s: self.ledger.account_emissions(s, event["id"], [FACTOR.line(Decimal(kwh))]),
        )

    def _event_retire(self, event: dict[str, Any]) -> None:
        signer = self.acting(event["organiser"])
        self.clock[0] = day(5, 25)
        sigs: list[Sig] = [
            batch_move(Batch.RETIRED, b, signer.actor, s, e, event["label"])
            for b, s, e in event["open"]
        ]
        sigs += [(Event.RETIRED, str(event["id"]), signer.actor)] * len(event["open"])
        done, _ = self.do(
            "event-retire", sigs, lambda: self.ledger.retire_offsets(signer, event["id"])
        )
        if done:
            event["open"] = []
            event["stage"] += 1

    def _event_commit(self, event: dict[str, Any]) -> None:
        self._event_step(
            event,
            "event-commit",
            Event.COMMITTED,
            day(6),
            lambda s: self.ledger.commit_neutrality(s, event["id"]),
        )

    def _event_confirm(self, event: dict[str, Any]) -> None:
        self._event_step(
            event,
            "event-confirm",
            Event.CONFIRMED,
            day(6, 2),
            lambda s: self.ledger.confirm_event(s, event["id"]),
        )

    # Sink projects ----------------------------------------------------------------------

    def op_sink(self) -> None:
        if not self.projects or (len(self.projects) < 4 and self.rng.random() < 0.3):
            return self._register_sink()
        project = self.rng.choice(self.projects)
        steps = ("bind", "file", "validate", "measure", "issue", "done")
        step = steps[min(project["stage"], len(steps) - 1)]
        if step == "done" or self.rng.random() < 0.1:
            step = self.rng.choice(steps[:-1])
        getattr(self, f"_sink_{step}")(project)
        return None

    def parcel(self) -> Parcel:
        """A parcel from a small shared grid: ids and areas that collide, overlap or touch."""
        ident = f"P-{self.rng.randrange(60)}"
        draw = self.rng.random()
        if draw < 0.2:
            return Parcel.of(ident)
        i, j = self.rng.randrange(8), self.rng.randrange(8)
        shift = "0.005" if draw < 0.45 else "0"
        x = Decimal("117.00") + Decimal(i) / 100 + Decimal(shift)
        y = Decimal("36.00") + Decimal(j) / 100
        d = Decimal("0.01")
        ring = [(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]
        points = ",".join(f"[{px},{py}]" for px, py in ring)
        text = '{"type":"Polygon","coordinates":[[' + points + "]]}"
        return Parcel.of(ident, text)

    def _register_sink(self) -> None:
        signer = self.world.developer if self.rng.random() > 0.08 else self.acting("acct-1")
        name = self.tag()
        count = self.rng.choice([1, 1, 2])

        def action() -> uuid.UUID:
            parcels = [self.parcel() for _ in range(count)]
            return self.ledger.register_sink_project(
                signer,
                name=name,
                ecosystem="forest",
                parcels=parcels,
                area_hectares=10,
                expected_removals=100,
                crediting_start=datetime.date(2026, 1, 1),
                crediting_end=datetime.date(2040, 1, 1),
            )

        self.clock[0] = day(3)
        done, project = self.do("sink-register", [(Sink.REGISTERED, name)], action)
        if done:
            self.projects.append({"id": project, "stage": 0})

    def _sink_step(
        self, project: dict[str, Any], op: str, topic: str, signer: Signer, call: Any
    ) -> None:
        sig = (topic, str(project["id"]), signer.actor)
        done, _ = self.do(op, [sig], lambda: call(signer))
        if done:
            project["stage"] += 1

    def _sink_bind(self, project: dict[str, Any]) -> None:
        if not self.events:
            return
        event = self.rng.choice(self.events)
        signer = self.world.developer if self.rng.random() > 0.1 else self.world.verifier
        self.clock[0] = day(4)
        self._sink_step(
            project,
            "sink-bind",
            Sink.BOUND,
            signer,
            lambda s: self.ledger.bind_sink_project(s, project["id"], event_id=event["id"]),
        )

    def _sink_file(self, project: dict[str, Any]) -> None:
        self.clock[0] = day(6)
        self._sink_step(
            project,
            "sink-file",
            Sink.APPLICATION_FILED,
            self.world.developer,
            lambda s: self.ledger.file_sink_application(s, project["id"]),
        )

    def _sink_validate(self, project: dict[str, Any]) -> None:
        self.clock[0] = day(7)
        signer = self.world.verifier if self.rng.random() > 0.1 else self.world.developer
        self._sink_step(
            project,
            "sink-validate",
            Sink.VALIDATED,
            signer,
            lambda s: self.ledger.validate_sink_project(s, project["id"]),
        )

    def _sink_measure(self, project: dict[str, Any]) -> None:
        self.clock[0] = day(7)
        self._sink_step(
            project,
            "sink-measure",
            Sink.MEASURED,
            self.world.verifier,
            lambda s: self.ledger.measure_sink_removals(s, project["id"], tonnes=50),
        )

    def _sink_issue(self, project: dict[str, Any]) -> None:
        self.clock[0] = day(8)
        registry = self.world.registries["reg-a"]
        start = 500_000 + self.rng.randrange(100) * 20
        size = self.rng.choice([10, 50, 60])  # 60 is more than measured
        holder = self.account()
        sig = (Sink.REMOVALS_ISSUED, str(project["id"]), registry.actor)

        def action() -> uuid.UUID:
            return self.ledger.issue_sink_removals(
                registry,
                project["id"],
                serials=SerialRange(start, start + size - 1),
                holder=holder,
                methodology="sim sink",
            )

        try:
            project_name = self.ledger.sink_project(project["id"]).name
        except LedgerError:
            return
        issued = (Batch.ISSUED, f"{project_name} (sink project {project['id']})")
        done, batch = self.do("sink-issue", [sig, issued], action)
        if done:
            self.batches.append(batch)
            project["stage"] += 1

    # Transparency, projections, imports, junk -------------------------------------------

    def op_checkpoint(self) -> None:
        done, note = self.do("checkpoint", [], lambda: self.ledger.sign_checkpoint(self.world.log))
        if not done:
            return
        moment = int(datetime.datetime.now(datetime.UTC).timestamp())
        self.do(
            "cosign",
            [],
            lambda: self.ledger.add_cosignature(cosign(note, self.world.witness, moment)).text(),
        )

    def op_project(self) -> None:
        from ledger.projections.check import READ_MODELS
        from ledger.projections.runner import ProjectionRunner

        make = self.rng.choice(READ_MODELS)
        page = self.rng.choice([1, 7, 50])

        def action() -> int:
            runner = ProjectionRunner(self.ledger.store, make(), self.ledger.store.schema)
            return runner.catch_up(page=page)

        self.do("project", [], action, args={"projection": make.__name__})

    def op_import(self) -> None:
        if self.import_file is None:
            return  # no history exported yet in this run: nothing to import
        target = self.run_dir / f"import-{self.tag()}.db"
        source = self.import_file

        def action() -> int:
            with Ledger(target, KeyDirectory()) as other:
                self.switch.importing = True
                try:
                    with source.open("rb") as lines:
                        return other.import_history(lines, trusted=self.world.root())
                finally:
                    self.switch.importing = False

        self.do("import", [], action, args={"target": str(target)})

    def op_invalid(self) -> None:
        """A command that must be refused: an unknown batch, a wrong role, bad input."""
        draw = self.rng.randrange(4)
        unknown = uuid.UUID(int=self.rng.getrandbits(128))
        signer = self.world.accounts[self.account()]
        if draw == 0:
            sig = batch_move(Batch.RETIRED, unknown, signer.actor, 1, 1, None)
            self.do(
                "invalid-retire",
                [sig],
                lambda: self.ledger.retire(
                    signer, unknown, SerialRange(1, 1), beneficiary="b", reason="r"
                ),
            )
        elif draw == 1:
            batch = self.rng.choice(self.batches) if self.batches else unknown
            sig = batch_move(Batch.TRANSFERRED, batch, self.world.verifier.actor, 1, 1, "acct-0")
            self.do(
                "invalid-transfer-by-verifier",
                [sig],
                lambda: self.ledger.transfer(
                    self.world.verifier, batch, SerialRange(1, 1), to="acct-0"
                ),
            )
        elif draw == 2:
            project = self.tag()
            self.do(
                "invalid-issue-bad-text",
                [(Batch.ISSUED, project)],
                lambda: self.ledger.issue_batch(
                    self.world.registries["reg-b"],
                    instrument="not-an-instrument",
                    vintage=2025,
                    project=project,
                    province="",
                    methodology="m",
                    serials=SerialRange(1, 2),
                    holder="acct-0",
                ),
            )
        else:
            self.do(
                "invalid-checkpoint-by-registry",
                [],
                lambda: self.ledger.sign_checkpoint(self.world.registries["reg-a"]),
            )


def disconnected(error: BaseException) -> bool:
    """True if ``error`` (or what it was raised from) is a lost database connection.

    A connection refused or closed by a restarting server, or a statement it ended (SQLSTATE
    classes 08 and 57), never a lost lock race (a deadlock is a refusal, not a disconnect).
    """
    import psycopg
    import sqlalchemy as sa

    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, sa.exc.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, psycopg.InterfaceError):
            return True
        if isinstance(seen, psycopg.OperationalError):
            state = seen.sqlstate
            if state is None or state[:2] in ("08", "57"):
                return True
        if "server closed the connection" in str(seen) or "connection is closed" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _line(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"


def _plain(value: Any) -> Any:
    """A JSON form of a command's result (ids as text, the rest by its ``str``)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)
