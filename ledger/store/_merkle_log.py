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
- The interior nodes of every complete, aligned subtree are stored as leaves complete them, in
  the same transaction (``ledger_log_nodes``: level >= 1, index), so an inclusion or
  consistency proof reads O(log n) nodes instead of every leaf (:meth:`LogStore.subtree`);
  :meth:`LogStore.inclusion_paths` reads the nodes of many paths in a few queries.
- PostgreSQL: the event inserts and their leaves and nodes are one server-side function call
  (:meth:`LogStore.append_events`, ``ledger_append_v2``), so the serial section every writer
  shares (the event table's lock, held to commit) is one round trip plus the commit. It hashes
  as :mod:`ledger.audit.merkle` does (SHA-256 with the 0x00 / 0x01 prefixes) and reads the
  left siblings it combines from the stored leaves and nodes, inside the table lock.
- Reads a proof makes are indexed: a leaf by (aggregate, version), the trust-root leaves by
  their aggregate, nodes by (level, index), the checkpoint by the largest size.
  Proofs built from them are checked by their verifier against a signed root; checkpoints
  are signed, and the audit and the write guard check, from the leaves themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from ledger.audit.merkle import Subtree, consistency_path, inclusion_path, leaf_hash, node_hash
from ledger.audit.timeline import ROOT_LEAF, root_leaf
from ledger.audit.trust import TrustRoot
from ledger.errors import StorageError

__all__ = ["LogStore"]

T = TypeVar("T")
_PART = 500  # parameters per IN list
_ONE_STATEMENT = 64  # leaves appended with their nodes in one statement (bind parameters)
_APPEND = "ledger_append_v2"  # the server-side append (PostgreSQL); a new body gets a new name
_LOCK_READ = "ledger_lock_read_v3"  # the aggregate lock and the read of its new events, at once
_APPEND_BODY = r"""
CREATE OR REPLACE FUNCTION {function}(
    p_aggregates uuid[], p_versions bigint[], p_topics text[], p_states bytea[]
) RETURNS SETOF bigint LANGUAGE plpgsql AS $body$
DECLARE
    n bigint; k int; i bigint; lvl int; cur bytea; lft bytea; made bigint;
BEGIN
    PERFORM pg_notify({channel}, '');
    LOCK TABLE {events} IN EXCLUSIVE MODE;
    SELECT leaf_index + 1 INTO n FROM {leaves} ORDER BY leaf_index DESC LIMIT 1;
    n := coalesce(n, 0);
    FOR k IN 1 .. coalesce(cardinality(p_states), 0) LOOP
        INSERT INTO {events} (originator_id, originator_version, topic, state)
        VALUES (p_aggregates[k], p_versions[k], p_topics[k], p_states[k]) RETURNING id INTO made;
        RETURN NEXT made;
        i := n + k - 1;
        cur := sha256(decode('00', 'hex') || p_states[k]);
        INSERT INTO {leaves} (leaf_index, leaf_hash, aggregate, version)
        VALUES (i, cur, p_aggregates[k]::text, p_versions[k]);
        lvl := 0;
        WHILE i % 2 = 1 LOOP
            lft := NULL;
            IF lvl = 0 THEN
                SELECT leaf_hash INTO lft FROM {leaves} WHERE leaf_index = i - 1;
            ELSE
                SELECT node_hash INTO lft FROM {nodes} WHERE level = lvl AND node_index = i - 1;
            END IF;
            IF lft IS NULL THEN
                RAISE EXCEPTION 'the log has no node at level %, index %', lvl, i - 1;
            END IF;
            cur := sha256(decode('01', 'hex') || lft || cur);
            lvl := lvl + 1;
            i := i / 2;
            INSERT INTO {nodes} (level, node_index, node_hash) VALUES (lvl, i, cur);
        END LOOP;
    END LOOP;
END
$body$;
CREATE OR REPLACE FUNCTION {lock_read}(
    p_key bigint, p_aggregate uuid, p_after bigint, p_wait text
) RETURNS TABLE (v bigint, t text, s bytea, got boolean) LANGUAGE plpgsql VOLATILE AS $body$
DECLARE
    held boolean := true;
    was text := current_setting('lock_timeout');
BEGIN
    BEGIN
        PERFORM set_config('lock_timeout', p_wait, true);
        PERFORM pg_advisory_xact_lock(p_key);
    EXCEPTION WHEN lock_not_available THEN
        held := false;
    END;
    PERFORM set_config('lock_timeout', was, true);
    -- a new statement, so a new snapshot: it sees what the lock's last holder committed
    RETURN QUERY SELECT e.originator_version, e.topic, e.state, held FROM {events} e
    WHERE e.originator_id = p_aggregate AND e.originator_version > p_after
    ORDER BY e.originator_version;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::bigint, NULL::text, NULL::bytea, held;
    END IF;
END
$body$;
"""


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
        self.nodes = sa.Table(
            "ledger_log_nodes",
            metadata,
            sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("node_index", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("node_hash", sa.LargeBinary, nullable=False),
        )
        self.roots = sa.Table(
            "ledger_trust_roots",
            metadata,
            sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("document", sa.Text, nullable=False),
        )
        metadata.create_all(engine, checkfirst=True)
        self._head: tuple[int, bytes | None, tuple[tuple[int, bytes], ...]] | None = None
        c, top = self.leaves.c, sa.func.max(self.leaves.c.leaf_index)
        self._top_query = (
            sa.select(c.leaf_index, c.leaf_hash).order_by(c.leaf_index.desc()).limit(1)
        )
        k = self.checkpoints.c
        self._head_query = (
            sa.select(k.tree_size, k.note, sa.select(top).scalar_subquery())
            .order_by(k.tree_size.desc())
            .limit(1)
        )
        with engine.begin() as connection:
            self._backfill(connection)

    def _backfill(self, connection: sa.Connection) -> None:
        """Store the nodes of a log written before nodes were kept (once)."""
        if connection.execute(sa.select(self.nodes.c.level).limit(1)).first() is not None:
            return
        hashes = self.hashes(connection)
        if len(hashes) > 1:
            self._add_nodes(connection, 0, hashes)

    def append(self, connection: sa.Connection, stored: Iterable[tuple[Any, int, bytes]]) -> None:
        """Append one leaf per stored (aggregate, version, envelope bytes), in order.

        One query finds the log's size and last leaf; the frontier (the complete subtrees
        the next leaf joins) is the one this store computed at its last append when that
        append's size and last leaf are still the log's (committed leaves never change), and
        is read from the stored nodes otherwise.
        """
        items = list(stored)
        if not items:
            return
        start, last = self._top(connection)
        hashes = [leaf_hash(state) for _, _, state in items]
        rows = [
            {"leaf_index": start + n, "leaf_hash": h, "aggregate": str(a), "version": v}
            for n, ((a, v, _), h) in enumerate(zip(items, hashes, strict=True))
        ]
        head = self._head
        stack = list(head[2]) if head is not None and head[:2] == (start, last) else None
        if stack is None:
            stack = self._frontier(connection, start)
        stack, made = _nodes(start, hashes, stack)
        if made and len(rows) <= _ONE_STATEMENT and connection.dialect.name == "postgresql":
            # one round trip while the event table is locked: the leaves ride in a CTE
            leaves = self.leaves.insert().values(rows).cte("new_leaves")
            connection.execute(self.nodes.insert().values(made).add_cte(leaves))
        else:
            connection.execute(self.leaves.insert(), rows)
            if made:
                connection.execute(self.nodes.insert(), made)
        self._head = (start + len(hashes), hashes[-1], tuple(stack))

    #: The call that locks an aggregate and reads its events after a version (PostgreSQL).
    lock_read_call: str | None = None

    def install_append(self, engine: sa.Engine, events: str, channel: str) -> None:
        """Create the server-side append and lock-read (PostgreSQL only) if they are missing.

        ``events``: the event table's name (schema-qualified if need be), ``channel``: the
        NOTIFY channel; both are the recorder's own names, checked to be plain identifiers.
        Every name is quoted as SQLAlchemy quotes it (a mixed-case schema is not folded to
        another schema's table). The bodies hold no backslash literal, so they compile whatever
        ``standard_conforming_strings`` says.
        Writers starting at once take turns (an advisory lock), so none sees a half-made one.
        """
        if engine.dialect.name != "postgresql":
            return
        quote = engine.dialect.identifier_preparer
        if not all(part.isidentifier() for part in [*events.split("."), channel]):
            raise StorageError(f"unexpected event table {events!r} or channel {channel!r}")
        self._append_call = (
            f"SELECT * FROM {self._function(quote, _APPEND)}(CAST(%(a)s AS uuid[]),"
            " CAST(%(v)s AS bigint[]), CAST(%(t)s AS text[]), CAST(%(s)s AS bytea[]))"
        )
        self.lock_read_call = (
            f"SELECT * FROM {self._function(quote, _LOCK_READ)}(%(k)s, %(a)s, %(after)s, %(wait)s)"
        )
        body = _APPEND_BODY.format(
            function=self._function(quote, _APPEND),
            lock_read=self._function(quote, _LOCK_READ),
            channel="'" + channel.lower() + "'",
            events=".".join(quote.quote(part) for part in events.split(".")),
            leaves=quote.format_table(self.leaves),
            nodes=quote.format_table(self.nodes),
        )
        with engine.begin() as connection:
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7450661251938510)")
            exists = connection.exec_driver_sql(
                "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE p.proname = %(f)s AND n.nspname = coalesce(%(s)s, current_schema())",
                {"f": _LOCK_READ, "s": self.leaves.schema},
            ).first()
            if exists is None:
                connection.connection.cursor().execute(body)  # no parameters: % stays as is

    def _function(self, quote: Any, name: str) -> str:
        name = quote.quote(name)
        return name if self.leaves.schema is None else f"{quote.quote(self.leaves.schema)}.{name}"

    def append_events(
        self,
        connection: sa.Connection,
        stored: Sequence[tuple[Any, int, str, bytes]],
        *,
        commit: bool = False,
    ) -> list[int] | None:
        """Insert events (aggregate, version, topic, state) with their leaves: their ids.

        One call of the server-side append (PostgreSQL, see :meth:`install_append`): the NOTIFY,
        the event table's lock, the inserts and the nodes the leaves complete. None where there
        is no such function (SQLite): the caller inserts and :meth:`append` s as before.
        ``commit``: the transaction ends with this call, so its COMMIT is sent with it (one
        round trip): the event table's lock is not held while the reply
        travels back and the writer waits for a core to send the COMMIT.
        """
        call = getattr(self, "_append_call", None)
        if call is None or connection.dialect.name != "postgresql":
            return None
        params = {
            "a": [a for a, _, _, _ in stored],
            "v": [v for _, v, _, _ in stored],
            "t": [t for _, _, t, _ in stored],
            "s": [s for _, _, _, s in stored],
        }
        self._head = None  # the frontier is the server's now; read it again if need be
        _conforming(connection)
        if not commit:
            return [int(row[0]) for row in connection.exec_driver_sql(call, params)]
        return _call_and_commit(connection, call, params)

    def _top(self, connection: sa.Connection) -> tuple[int, bytes | None]:
        """The log's size and its last leaf hash (None when empty)."""
        found = connection.execute(self._top_query).first()
        return (0, None) if found is None else (int(found[0]) + 1, bytes(found[1]))

    def _add_nodes(self, connection: sa.Connection, start: int, hashes: list[bytes]) -> None:
        """Store the nodes that leaves ``start ..`` (``hashes``) complete."""
        _, made = _nodes(start, hashes, self._frontier(connection, start))
        if made:
            connection.execute(self.nodes.insert(), made)

    def _frontier(self, connection: sa.Connection, size: int) -> list[tuple[int, bytes]]:
        """The complete subtrees of the first ``size`` leaves, left to right (level, hash)."""
        found, position = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                found.append((level, self._node(connection, level, position >> level)))
                position += 1 << level
        return found

    def _node(self, connection: sa.Connection, level: int, index: int) -> bytes:
        if level == 0:
            query = sa.select(self.leaves.c.leaf_hash).where(self.leaves.c.leaf_index == index)
        else:
            c = self.nodes.c
            query = sa.select(c.node_hash).where(c.level == level, c.node_index == index)
        found = connection.execute(query).scalar()
        if found is None:
            raise StorageError(f"the log has no node at level {level}, index {index}")
        return bytes(found)

    def subtree(self, connection: sa.Connection) -> Subtree:
        """RFC 9162 MTH of any leaf range, from the stored nodes (for building proofs)."""
        return self._subtree(connection, {})

    def _subtree(self, connection: sa.Connection, known: dict[tuple[int, int], bytes]) -> Subtree:
        """MTH of any range from the stored nodes in ``known`` (each one missing is read)."""
        cache: dict[tuple[int, int], bytes] = {}

        def mth(start: int, end: int) -> bytes:
            if (start, end) not in cache:
                aligned = _aligned(start, end)
                if aligned is not None:
                    if aligned not in known:
                        known[aligned] = self._node(connection, *aligned)
                    cache[start, end] = known[aligned]
                else:
                    k = 1 << ((end - start - 1).bit_length() - 1)
                    cache[start, end] = node_hash(mth(start, start + k), mth(start + k, end))
            return cache[start, end]

        return mth

    def inclusion_paths(
        self, connection: sa.Connection, indices: Iterable[int], size: int
    ) -> dict[int, list[bytes]]:
        """The RFC 9162 inclusion path of each leaf index in the tree of ``size`` leaves.

        The stored nodes every path needs (O(log n) per index) are found first, without
        reading, and then read in a few queries, so the cost is O(indices x log n) rows and a
        handful of round trips, whatever the log's size.

        Raises:
            LogProofError: an index is outside the tree.
        """
        wanted = sorted(set(indices))

        def paths(subtree: Subtree) -> dict[int, list[bytes]]:
            return {index: inclusion_path(index, size, subtree) for index in wanted}

        return self._read_ahead(connection, paths)

    def consistency_path(self, connection: sa.Connection, first: int, size: int) -> list[bytes]:
        """The RFC 9162 consistency proof from ``first`` to ``size`` leaves, in one read.

        Raises:
            LogProofError: not 0 < first <= size.
        """
        return self._read_ahead(connection, lambda subtree: consistency_path(first, size, subtree))

    def _read_ahead(self, connection: sa.Connection, make: Callable[[Subtree], T]) -> T:
        """``make(subtree)``, its stored nodes found by a dry run and read in a few queries."""
        needed: set[tuple[int, int]] = set()

        def plan(start: int, end: int) -> bytes:
            needed.update(_pieces(start, end))
            return b""

        make(plan)
        return make(self._subtree(connection, self._nodes(connection, needed)))

    def _nodes(
        self, connection: sa.Connection, wanted: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        """The stored hashes at (level, index) ``wanted`` that exist, in a few queries.

        One statement per few hundred hashes, each an indexed search per level (a row-value
        IN would scan the nodes on SQLite), sent as driver SQL: building it as an expression
        cost more than running it. Only integer parameters are bound; nothing is formatted in.
        """
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        quote = connection.dialect.identifier_preparer.format_table
        found: dict[tuple[int, int], bytes] = {}
        for pairs in _chunks(sorted(set(wanted))):
            levels: dict[int, list[int]] = {}
            for level, index in pairs:
                levels.setdefault(level, []).append(index)
            parts, params = [], []
            for level, indices in levels.items():
                marks = ", ".join([mark] * len(indices))
                if level == 0:
                    sql = f"SELECT 0, leaf_index, leaf_hash FROM {quote(self.leaves)}"
                    parts.append(f"{sql} WHERE leaf_index IN ({marks})")
                else:
                    sql = f"SELECT level, node_index, node_hash FROM {quote(self.nodes)}"
                    parts.append(f"{sql} WHERE level = {mark} AND node_index IN ({marks})")
                    params.append(level)
                params += indices
            rows = connection.exec_driver_sql(" UNION ALL ".join(parts), tuple(params))
            found.update({(int(lv), int(i)): bytes(h) for lv, i, h in rows})
        return found

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

    def rows(
        self, connection: sa.Connection, start: int = 0, limit: int | None = None
    ) -> list[tuple[int, bytes, str, int]]:
        """Every leaf with its aggregate and version, in order (``limit`` from ``start`` on)."""
        c = self.leaves.c
        query = sa.select(c.leaf_index, c.leaf_hash, c.aggregate, c.version).order_by(c.leaf_index)
        if start:
            query = query.where(c.leaf_index >= start)
        if limit is not None:
            query = query.limit(limit)
        return [(int(i), bytes(h), str(a), int(v)) for i, h, a, v in connection.execute(query)]

    def index_of(self, connection: sa.Connection, aggregate: str, version: int) -> int | None:
        """The leaf index of an event, if it is in the log."""
        c = self.leaves.c
        found = connection.execute(
            sa.select(c.leaf_index).where(c.aggregate == aggregate, c.version == version)
        ).scalar()
        return None if found is None else int(found)

    def indices_of(
        self, connection: sa.Connection, aggregate: str, versions: Iterable[int]
    ) -> dict[int, int]:
        """The leaf index of each of ``versions`` of ``aggregate`` that is in the log."""
        c, found = self.leaves.c, {}
        for part in _chunks(sorted(set(versions))):
            query = sa.select(c.version, c.leaf_index).where(
                c.aggregate == aggregate, c.version.in_(part)
            )
            found.update({int(v): int(i) for v, i in connection.execute(query)})
        return found

    def root_indices(self, connection: sa.Connection) -> dict[int, int]:
        """The leaf index of every adopted trust-root version (one indexed read)."""
        c = self.leaves.c
        query = sa.select(c.version, c.leaf_index).where(c.aggregate == ROOT_LEAF)
        return {int(v): int(i) for v, i in connection.execute(query)}

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

    def add_signature(self, connection: sa.Connection, size: int, line: str) -> str | None:
        """Append one signature line to the note of ``size``, unless it is there; the new note.

        One conditional update (compare and set on the note's text), retried on a lost race,
        so two cosigners at once keep both lines. None if there is no note of that size.
        """
        c = self.checkpoints.c
        for _ in range(20):
            old = connection.execute(sa.select(c.note).where(c.tree_size == size)).scalar()
            if old is None:
                return None
            if line in str(old).split("\n\n", 1)[-1].splitlines(keepends=True):
                return str(old)
            new = str(old) + line
            done = connection.execute(
                self.checkpoints.update().where(c.tree_size == size, c.note == old).values(note=new)
            )
            if done.rowcount == 1:
                return new
        raise StorageError(f"the checkpoint of size {size} kept changing; try again")

    def latest_checkpoint(self, connection: sa.Connection) -> tuple[int, str] | None:
        """The latest kept checkpoint (size, note), if any."""
        c = self.checkpoints.c
        query = sa.select(c.tree_size, c.note).order_by(c.tree_size.desc()).limit(1)
        found = connection.execute(query).first()
        return None if found is None else (int(found[0]), str(found[1]))

    def latest_checkpoint_and_size(self, connection: sa.Connection) -> tuple[int, str, int] | None:
        """The latest kept checkpoint's size and note with the log's size (one query), if any."""
        found = connection.execute(self._head_query).first()
        if found is None:
            return None
        return int(found[0]), str(found[1]), 0 if found[2] is None else int(found[2]) + 1

    def checkpoint_notes(self, connection: sa.Connection) -> list[tuple[int, str]]:
        """Every kept checkpoint note, by size."""
        c = self.checkpoints.c
        query = sa.select(c.tree_size, c.note).order_by(c.tree_size)
        return [(int(size), str(note)) for size, note in connection.execute(query)]

    def add_root(self, connection: sa.Connection, root: TrustRoot) -> None:
        """Append an adopted trust-root version to the log and keep its document."""
        data, start = root_leaf(root), self.size(connection)
        connection.execute(
            self.leaves.insert().values(
                leaf_index=start,
                leaf_hash=leaf_hash(data),
                aggregate=ROOT_LEAF,
                version=root.version,
            )
        )
        self._add_nodes(connection, start, [leaf_hash(data)])
        connection.execute(self.roots.insert().values(version=root.version, document=data.decode()))

    def root_documents(self, connection: sa.Connection) -> list[str]:
        """Every adopted trust root document, by version."""
        query = sa.select(self.roots.c.document).order_by(self.roots.c.version)
        return [str(row[0]) for row in connection.execute(query)]

    def root_rows(self, connection: sa.Connection) -> dict[int, str]:
        """Every kept trust root document by its version (as stored, to be checked)."""
        query = sa.select(self.roots.c.version, self.roots.c.document)
        return {int(version): str(document) for version, document in connection.execute(query)}


def _conforming(connection: sa.Connection) -> None:
    """Turn ``standard_conforming_strings`` on for this session if the server has it off.

    psycopg writes a list of bytes (the append's ``bytea[]``) escaped for the session's setting
    as it knows it; with the setting off the stored states were escaped text, not the bytes
    signed. Only this session changes, and only where the setting is off (a legacy server).
    """
    raw = connection.connection.driver_connection
    info = getattr(raw, "info", None)
    if info is not None and info.parameter_status("standard_conforming_strings") != "on":
        connection.exec_driver_sql("SET standard_conforming_strings = on")


def _call_and_commit(connection: sa.Connection, call: str, params: dict[str, Any]) -> list[int]:
    """Run ``call`` and COMMIT in one round trip (one message); the ids it returned.

    The transaction is over afterwards (SQLAlchemy's own commit then finds nothing to do); a
    failure rolls it all back and is raised as SQLAlchemy raises driver errors.
    """
    import psycopg

    raw = connection.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise StorageError("the server-side append needs psycopg 3")
    try:
        cursor = psycopg.ClientCursor(raw)  # bound here: two statements in one message
        cursor.execute(call + "; COMMIT", params)
        return [int(row[0]) for row in cursor.fetchall()]
    except psycopg.Error as e:
        raise sa.exc.DBAPIError.instance(call, params, e, psycopg.Error) from e


def _aligned(start: int, end: int) -> tuple[int, int] | None:
    """(level, index) of the stored node that is exactly leaves ``start .. end``, if any."""
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        return n.bit_length() - 1, start // n
    return None


def _pieces(start: int, end: int) -> list[tuple[int, int]]:
    """The stored nodes whose hashes make up MTH(leaves ``start .. end``), left to right."""
    aligned = _aligned(start, end)
    if aligned is not None:
        return [aligned]
    k = 1 << ((end - start - 1).bit_length() - 1)
    return [*_pieces(start, start + k), *_pieces(start + k, end)]


def _chunks(items: list[T]) -> list[list[T]]:
    """``items`` in parts small enough for one statement's parameters (SQLite: 32,766)."""
    return [items[n : n + _PART] for n in range(0, len(items), _PART)]


def _nodes(
    start: int, hashes: list[bytes], stack: list[tuple[int, bytes]]
) -> tuple[list[tuple[int, bytes]], list[dict[str, Any]]]:
    """The new frontier and the node rows that leaves ``start ..`` (``hashes``) complete.

    ``stack``: the frontier of the first ``start`` leaves (level, hash), left to right.
    """
    stack, made = list(stack), []
    for offset, hashed in enumerate(hashes):
        count = start + offset + 1
        stack.append((0, hashed))
        while count % 2 == 0:
            (level, right), (_, left) = stack.pop(), stack.pop()
            parent = node_hash(left, right)
            index = (start + offset + 1) // (2 << level) - 1
            made.append({"level": level + 1, "node_index": index, "node_hash": parent})
            stack.append((level + 1, parent))
            count //= 2
    return stack, made
