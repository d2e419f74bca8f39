"""A history import lets each aggregate's state go after its last event, as the audit does."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from ledger import ImportRowsError, KeyDirectory, Ledger, SerialRange, Signer
from ledger.audit.trust import TrustRoot
from ledger.store import Replay

from conftest import Backend, checkpointed, issue


@pytest.fixture
def exported(
    tmp_path: Path,
    root: TrustRoot,
    registry: Signer,
    organiser: Signer,
    stranger: Signer,
    log_signer: Signer,
    witness: Signer,
) -> tuple[str, list[str]]:
    with Ledger(tmp_path / "source.db", root) as source:
        first = issue(source, registry, organiser, 1, 500)
        second = issue(source, registry, organiser, 501, 600)
        source.transfer(organiser, first, SerialRange(1, 100), to=stranger.actor)
        checkpointed(source, log_signer, witness)
        out = io.StringIO()
        source.export_history(out)
    return out.getvalue(), [str(second), str(first)]


class _Changing:
    """A seekable history whose lines are ``first`` on the first read, ``then`` after."""

    def __init__(self, first: str, then: str) -> None:
        self._texts = [first, then]
        self._reads = 0

    def seekable(self) -> bool:
        return True

    def seek(self, _: int) -> None:
        self._reads = 1

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts[self._reads].splitlines(keepends=True))


def test_an_import_forgets_each_aggregate_right_after_its_last_event(
    backend: Backend,
    exported: tuple[str, list[str]],
    root: TrustRoot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, finished_in_order = exported
    forgotten: list[str] = []
    forget = Replay.forget

    def spy(self: Replay, aggregate: str) -> None:
        forgotten.append(aggregate)
        forget(self, aggregate)

    monkeypatch.setattr(Replay, "forget", spy)
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        assert copy.import_history(io.StringIO(text)) == 3
        monkeypatch.undo()
        assert copy.audit(root).events == 3
    assert forgotten == finished_in_order


def test_an_event_after_the_last_version_the_first_read_found_imports_nothing(
    backend: Backend, exported: tuple[str, list[str]]
) -> None:
    text, (_, first) = exported
    lines = text.splitlines(keepends=True)
    transfer = next(n for n, line in enumerate(lines) if f'"{first}", "version": 2' in line)
    other = "00000000-0000-4000-8000-000000000000"
    changed = [*lines[:transfer], lines[transfer].replace(first, other), *lines[transfer + 1 :]]
    with Ledger(backend.url, KeyDirectory(), schema=backend.schema) as copy:
        with pytest.raises(
            ImportRowsError,
            match=rf"row {transfer + 1}: log entry 3, aggregate {first} version 2: the history"
            " changed while it was read",
        ):
            copy.import_history(_Changing("".join(changed), text))  # type: ignore[arg-type]
        assert copy.trust_roots() == []
    assert backend.execute("SELECT count(*) FROM {table}")[0][0] == 0


@pytest.mark.parametrize("spelling", ["upper-case id", "members reordered", "an extra blank"])
def test_an_event_line_spelled_apart_from_an_export_still_imports(
    exported: tuple[str, list[str]], backend: Backend, spelling: str
) -> None:
    text, (_, first) = exported
    lines = text.splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if f'"{first}", "version": 2' in line)
    line = lines[n]
    if spelling == "upper-case id":
        line = line.replace(f'"aggregate": "{first}"', f'"aggregate": "{first.upper()}"')
    elif spelling == "members reordered":
        body = json.loads(line)
        rest = json.dumps({k: v for k, v in body.items() if k not in ("kind", "version")})
        line = '{"kind": "event", "version": 2, ' + rest[1:] + "\n"
    else:
        line = line.replace('"version": 2,', '"version":  2,')
    lines[n] = line
    with backend.open(KeyDirectory()) as copy:
        copy.import_history(io.StringIO("".join(lines)))
        assert [event.version for event in copy.history(UUID(first))] == [1, 2]
