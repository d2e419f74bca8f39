"""The append-only Merkle log of every stored envelope, kept with the events (SPEC 5).

Rules:
- Every stored event is a leaf: ``leaf_hash = SHA-256(0x00 || envelope bytes)`` (RFC 9162),
  appended in the same transaction as the event, in notification order, so log and store never
  disagree. Writers are serialized by the event table's lock (PostgreSQL) or SQLite's single
  writer; the primary key on the index and the unique (aggregate, version) are the final guard.
- Every adopted trust-root version is a leaf too (:mod:`ledger.audit.timeline`): its row names
  the aggregate ``trust-root`` and the root's version, and its document is kept beside the log,
  written in the same transaction as its leaf.
- Signed checkpoints (C2SP notes) are kept beside the log; nothing here is ever updated except
  a checkpoint gaining cosignature lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ledger.audit.merkle import leaf_hash
from ledger.audit.timeline import ROOT_LEAF, root_leaf
from ledger.audit.trust import TrustRoot

__all__ = ["LogStore"]


class LogStore:
    """The log, checkpoint and trust-root tables of one ledger database."""

    def __init__(self, engine: sa.Engine, schema: str | None) -> None:
        metadata = sa.MetaData(schema=schema)
        self.leaves = sa.Table(
            "ledger_log",
            metadata,
            sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
            sa.Column("aggregate", sa.Text, nullable=False),
            sa.Column("version", sa.BigInteger, nullable=False),
            sa.UniqueConstraint("aggregate", "version"),
        )
        self.checkpoints = sa.Table(
            "ledger_checkpoints",
            metadata,
            sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("note", sa.Text, nullable=False),
        )
        self.roots = sa.Table(
            "ledger_trust_roots",
            metadata,
            sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("document", sa.Text, nullable=False),
        )
        metadata.create_all(engine, checkfirst=True)

    def append(self, connection: sa.Connection, stored: Iterable[tuple[Any, int, bytes]]) -> None:
        """Append one leaf per stored (aggregate, version, envelope bytes), in order."""
        start = self.size(connection)
        rows = [
            {
                "leaf_index": start + n,
                "leaf_hash": leaf_hash(state),
                "aggregate": str(aggregate),
                "version": version,
            }
            for n, (aggregate, version, state) in enumerate(stored)
        ]
        if rows:
            connection.execute(self.leaves.insert(), rows)

    def size(self, connection: sa.Connection) -> int:
        """How many leaves the log has."""
        top = connection.execute(sa.select(sa.func.max(self.leaves.c.leaf_index))).scalar()
        return 0 if top is None else int(top) + 1

    def hashes(self, connection: sa.Connection, size: int | None = None) -> list[bytes]:
        """The leaf hashes, in order (the first ``size`` of them)."""
        query = sa.select(self.leaves.c.leaf_hash).order_by(self.leaves.c.leaf_index)
        if size is not None:
            query = query.where(self.leaves.c.leaf_index < size)
        return [bytes(row[0]) for row in connection.execute(query)]

    def rows(self, connection: sa.Connection) -> list[tuple[int, bytes, str, int]]:
        """Every leaf with its aggregate and version, in order."""
        c = self.leaves.c
        query = sa.select(c.leaf_index, c.leaf_hash, c.aggregate, c.version).order_by(c.leaf_index)
        return [(int(i), bytes(h), str(a), int(v)) for i, h, a, v in connection.execute(query)]

    def index_of(self, connection: sa.Connection, aggregate: str, version: int) -> int | None:
        """The leaf index of an event, if it is in the log."""
        c = self.leaves.c
        found = connection.execute(
            sa.select(c.leaf_index).where(c.aggregate == aggregate, c.version == version)
        ).scalar()
        return None if found is None else int(found)

    def save_checkpoint(self, connection: sa.Connection, size: int, note: str) -> None:
        """Keep a signed checkpoint (replacing the note of the same size, e.g. cosigned).

        One upsert, so two writers saving a note of the same size at once (two cosigners, or
        a checkpoint and a cosignature) do not collide on the primary key: the last one wins.
        """
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(self.checkpoints).values(tree_size=size, note=note)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[self.checkpoints.c.tree_size], set_={"note": note}
            )
        )

    def checkpoint_notes(self, connection: sa.Connection) -> list[tuple[int, str]]:
        """Every kept checkpoint note, by size."""
        c = self.checkpoints.c
        query = sa.select(c.tree_size, c.note).order_by(c.tree_size)
        return [(int(size), str(note)) for size, note in connection.execute(query)]

    def add_root(self, connection: sa.Connection, root: TrustRoot) -> None:
        """Append an adopted trust-root version to the log and keep its document."""
        data = root_leaf(root)
        connection.execute(
            self.leaves.insert().values(
                leaf_index=self.size(connection),
                leaf_hash=leaf_hash(data),
                aggregate=ROOT_LEAF,
                version=root.version,
            )
        )
        connection.execute(self.roots.insert().values(version=root.version, document=data.decode()))

    def root_documents(self, connection: sa.Connection) -> list[str]:
        """Every adopted trust root document, by version."""
        query = sa.select(self.roots.c.document).order_by(self.roots.c.version)
        return [str(row[0]) for row in connection.execute(query)]

    def root_rows(self, connection: sa.Connection) -> dict[int, str]:
        """Every kept trust root document by its version (as stored, to be checked)."""
        query = sa.select(self.roots.c.version, self.roots.c.document)
        return {int(version): str(document) for version, document in connection.execute(query)}
