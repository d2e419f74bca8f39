"""The log's stored interior nodes give the same RFC 9162 proofs as the leaves (issue 13).

Proofs read O(log n) stored nodes instead of every leaf hash; these tests hold them to the
in-memory definitions for every index and size of a log appended in uneven batches, and show a
log written before nodes were kept gets them on open.
"""

from __future__ import annotations

import sqlalchemy as sa

from ledger.audit.merkle import (
    consistency_path,
    consistency_proof,
    inclusion_path,
    inclusion_proof,
    root,
)
from ledger.store._merkle_log import LogStore


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
