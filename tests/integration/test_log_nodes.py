"""The log's stored interior nodes give the same RFC 9162 proofs as the leaves (issue 13).

Proofs read O(log n) stored nodes instead of every leaf hash; these tests hold them to the
in-memory definitions for every index and size of a log appended in uneven batches, and show a
log written before nodes were kept gets them on open.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from ledger import database_url
from ledger.audit.keys import KeyDirectory
from ledger.audit.merkle import (
    consistency_path,
    consistency_proof,
    inclusion_path,
    inclusion_proof,
    leaf_hash,
    root,
)
from ledger.errors import LedgerError, StorageError
from ledger.store._merkle_log import LogStore

from conftest import Backend


def filled(engine: sa.Engine, batches: list[int]) -> tuple[LogStore, list[bytes]]:
    log = LogStore(engine, None)
    states: list[bytes] = []
    with engine.begin() as connection:
        for size in batches:
            fresh = [f"event {len(states) + n}".encode() for n in range(size)]
            log.append(connection, [("a", len(states) + n + 1, s) for n, s in enumerate(fresh)])
            states += fresh
        hashes = log.hashes(connection)
    return log, hashes


def test_proofs_from_stored_nodes_equal_proofs_from_the_leaves_at_every_size() -> None:
    engine = sa.create_engine("sqlite://")
    log, hashes = filled(engine, [1, 2, 3, 5, 8, 1, 13])
    with engine.connect() as connection:
        subtree = log.subtree(connection)
        for size in range(1, len(hashes) + 1):
            assert subtree(0, size) == root(hashes[:size])
            for index in range(size):
                assert inclusion_path(index, size, subtree) == inclusion_proof(index, hashes[:size])
            for first in range(1, size + 1):
                assert consistency_path(first, size, subtree) == consistency_proof(
                    first, hashes[:size]
                )


def test_paths_read_together_equal_the_proofs_from_the_leaves_at_every_size() -> None:
    engine = sa.create_engine("sqlite://")
    log, hashes = filled(engine, [1, 2, 3, 5, 8, 1, 13])
    with engine.connect() as connection:
        for size in range(1, len(hashes) + 1):
            paths = log.inclusion_paths(connection, [*range(size), 0], size)
            assert paths == {i: inclusion_proof(i, hashes[:size]) for i in range(size)}
            for first in range(1, size + 1):
                assert log.consistency_path(connection, first, size) == consistency_proof(
                    first, hashes[:size]
                )


def test_inclusion_paths_and_leaf_indices_read_the_same_on_each_backend(backend: Backend) -> None:
    engine = sa.create_engine(database_url(backend.url))
    try:
        log = LogStore(engine, backend.schema)
        states = [f"event {n}".encode() for n in range(600)]
        with engine.begin() as connection:
            log.append(connection, [("a", n + 1, state) for n, state in enumerate(states)])
        hashes = [leaf_hash(state) for state in states]
        with engine.connect() as connection:
            for size in (1, 2, 7, 64, 600):
                wanted = sorted({0, size // 3, size // 2, size - 1})
                paths = log.inclusion_paths(connection, wanted, size)
                assert paths == {i: inclusion_proof(i, hashes[:size]) for i in wanted}
            assert len(log.inclusion_paths(connection, range(600), 600)) == 600
            assert log.indices_of(connection, "a", [1, 600, 601]) == {1: 0, 600: 599}
    finally:
        engine.dispose()


def test_inclusion_paths_of_a_log_missing_a_stored_node_name_the_missing_node() -> None:
    engine = sa.create_engine("sqlite://")
    log, _ = filled(engine, [8])
    with engine.begin() as connection:
        connection.execute(log.nodes.delete().where(log.nodes.c.level == 2))
    with engine.connect() as connection, pytest.raises(StorageError, match="level 2, index 1"):
        log.inclusion_paths(connection, [0], 8)


def test_a_leaf_index_is_found_by_aggregate_and_version_and_roots_by_their_aggregate() -> None:
    engine = sa.create_engine("sqlite://")
    log, _ = filled(engine, [5])
    with engine.begin() as connection:
        log.append(connection, [("trust-root", 1, b"a root"), ("b", 1, b"b1")])
    with engine.connect() as connection:
        assert log.indices_of(connection, "a", [2, 4, 99]) == {2: 1, 4: 3}
        assert log.indices_of(connection, "b", range(1, 600)) == {1: 6}
        assert log.root_indices(connection) == {1: 5}


def test_a_log_written_before_nodes_were_kept_gets_them_when_opened() -> None:
    engine = sa.create_engine("sqlite://")
    log, hashes = filled(engine, [7, 6])
    with engine.begin() as connection:
        connection.execute(log.nodes.delete())
    reopened = LogStore(engine, None)
    with engine.connect() as connection:
        assert reopened.subtree(connection)(0, 13) == root(hashes)


def test_two_cosignatures_added_at_once_are_both_kept_and_none_twice() -> None:
    engine = sa.create_engine("sqlite://")
    log = LogStore(engine, None)
    note = "origin\n1\nAAAA\n\n\u2014 origin log-line\n"
    with engine.begin() as connection:
        log.save_checkpoint(connection, 1, note)
        stale = log.checkpoint_notes(connection)[0][1]  # what a second cosigner read
        log.add_signature(connection, 1, "\u2014 w1 first\n")
        assert stale == note  # the second cosigner's copy is now out of date...
        log.add_signature(connection, 1, "\u2014 w2 second\n")  # ...its line is still added
        log.add_signature(connection, 1, "\u2014 w1 first\n")
        kept = log.checkpoint_notes(connection)[0][1]
        assert log.add_signature(connection, 9, "\u2014 w1 first\n") is None
    assert kept == note + "\u2014 w1 first\n\u2014 w2 second\n"


def test_events_appended_in_uneven_saves_have_the_leaves_and_nodes_the_definitions_give(
    backend: Backend, keys: KeyDirectory
) -> None:
    with backend.open(keys) as ledger:
        store = ledger.store
        app = store._app
        batches = [1, 2, 3, 5, 1, 8]
        saved: list[bytes] = []
        for size in batches:
            events = [
                (uuid.uuid4(), 1, "t", f"event {len(saved) + n}".encode()) for n in range(size)
            ]
            with app.unit() as connection:
                ids = store.log.append_events(connection, events)
                if backend.name == "postgres":
                    assert ids is not None and len(ids) == size and ids == sorted(ids)
                else:
                    assert ids is None  # SQLite: the store inserts and appends in Python
                    store.log.append(connection, [(a, v, s) for a, v, _, s in events])
            saved += [s for _, _, _, s in events]
        with store.read() as connection:
            hashes = store.log.hashes(connection)
            assert hashes == [leaf_hash(s) for s in saved]
            subtree = store.log.subtree(connection)
            for size in range(1, len(hashes) + 1):
                assert subtree(0, size) == root(hashes[:size])
                for index in range(size):
                    assert inclusion_path(index, size, subtree) == inclusion_proof(
                        index, hashes[:size]
                    )


def test_a_server_side_append_over_a_missing_node_names_it_and_writes_nothing(
    backend: Backend, keys: KeyDirectory
) -> None:
    with backend.open(keys) as ledger:
        store, app = ledger.store, ledger.store._app
        events = [(uuid.uuid4(), 1, "t", f"e{n}".encode()) for n in range(3)]
        with app.unit() as connection:
            if store.log.append_events(connection, events) is None:
                store.log.append(connection, [(a, v, s) for a, v, _, s in events])
        with store.write() as connection:
            connection.execute(store.log.nodes.delete().where(store.log.nodes.c.level == 1))
        store.log._head = None  # another process's view: no frontier kept
        fresh = [(uuid.uuid4(), 1, "t", b"e3")]
        with (
            pytest.raises(LedgerError, match="no node at level 1, index 0"),
            app.unit() as connection,
        ):
            if store.log.append_events(connection, fresh) is None:
                store.log.append(connection, [(a, v, s) for a, v, _, s in fresh])
        with store.read() as connection:
            assert store.log.size(connection) == 3
        assert store.max_notification_id() == (3 if backend.name == "postgres" else 0)
