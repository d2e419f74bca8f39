"""The one error tree of the ledger, rooted at :class:`LedgerError`.

Rules:
- Every error the library raises on purpose is a :class:`LedgerError`; third-party errors are
  wrapped with ``raise ... from e``.
- An error that enforces a rule of the SPEC names it: ``error.rule`` is ``"R11"`` (or another
  rule id) and the message starts with it, so ``grep R11`` finds the code, its tests and its
  errors.
- Where a built-in fits, the error also subclasses it (``ValueError``, ``PermissionError``,
  ``LookupError``), so generic callers can catch what they already know.
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "AuthorizationError",
    "ChainError",
    "ConcurrencyError",
    "DatedError",
    "ImportRowsError",
    "InvalidInputError",
    "LedgerError",
    "LogForkError",
    "LogProofError",
    "MalformedInputError",
    "NotFoundError",
    "NoteError",
    "ProofError",
    "RuleViolationError",
    "SignatureError",
    "StorageError",
    "TamperError",
    "TrustRootError",
    "UnknownSignerError",
]


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose.

    Attributes:
        rule: the SPEC rule id the error enforces (``"R11"``), or ``None``.
    """

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        self.rule = rule
        super().__init__(f"{rule}: {message}" if rule else message)


class InvalidInputError(LedgerError, ValueError):
    """A value is malformed: a reversed range, a zero quantity, an empty name."""


class MalformedInputError(InvalidInputError):
    """An input file or document breaks the strict input rules (docs/security.md).

    Not UTF-8, not strict JSON (a duplicate member, too deep, too long a number, NaN), or over a
    size limit. The message is one line: the source, then the problem.

    Attributes:
        source: what was read (a file name, ``"line 3"``).
        problem: what is wrong with it.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = source.replace("\n", "\\n")
        self.problem = problem
        super().__init__(f"{self.source} {problem}")


class RuleViolationError(LedgerError, ValueError):
    """A well-formed command that a business rule forbids (retiring a retired unit)."""


class AuthorizationError(LedgerError, PermissionError):
    """The acting key may not do this: wrong holder, wrong role, wrong registry."""


class NotFoundError(LedgerError, LookupError):
    """An aggregate, account or key that is not in the ledger."""


class StorageError(LedgerError):
    """The database failed or refused a write; nothing was written."""


class ConcurrencyError(StorageError):
    """Another writer changed the same aggregate first; re-read and run the command again."""


class TamperError(LedgerError):
    """Stored or presented data is not what was signed.

    Attributes:
        detail: the message without the location.
        aggregate: the aggregate id the bad event belongs to (as stored), if known.
        version: the aggregate version of the bad event (as stored), if known.
    """

    def __init__(
        self,
        message: str,
        *,
        aggregate: object | None = None,
        version: int | None = None,
        rule: str | None = None,
    ) -> None:
        self.detail = message
        self.aggregate = aggregate
        self.version = version
        where = f"aggregate {aggregate}" if aggregate is not None else ""
        where += f" version {version}" if version is not None else ""
        where += ": " if where else ""
        super().__init__(where + message, rule=rule)


class SignatureError(TamperError):
    """A signature does not verify, or the signed bytes are not canonical."""


class DatedError(SignatureError):
    """An entry's signed time is impossible: after a checkpoint covering it was cosigned.

    Attributes:
        where: the entry, as its reader names it (a log leaf, or a proof's JSON path).
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where


class UnknownSignerError(TamperError):
    """An event is signed by a key that the key directory does not know."""


class ChainError(TamperError):
    """The per-aggregate hash chain is broken: a missing, reordered or swapped event."""


class ProofError(LedgerError):
    """A retirement proof does not verify.

    Attributes:
        field: the JSON path of the first part of the proof that fails (``"keys[0].publicKey"``).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ImportRowsError(InvalidInputError):
    """One or more rows of an import are bad; nothing was written.

    Attributes:
        rows: ``(row number, message)`` for every bad row (the header is row 1).
    """

    def __init__(self, rows: list[tuple[int, str]]) -> None:
        self.rows = rows
        listed = "; ".join(f"row {n}: {m}" for n, m in rows)
        super().__init__(f"{len(rows)} bad row(s), nothing imported: {listed}")


class AuditError(LedgerError):
    """The store, its log or its checkpoints fail the audit."""


class TrustRootError(LedgerError):
    """A trust root, or a rotation to a new one, does not verify."""


class NoteError(LedgerError):
    """A checkpoint note or one of its signatures does not parse or verify."""


class LogProofError(LedgerError):
    """An inclusion or consistency proof does not verify."""


class LogForkError(LedgerError):
    """The store's log does not extend the latest checkpoint signed for it (SPEC 5a).

    Entries were deleted, replaced or reordered behind the ledger's back: it refuses to write
    until the store is restored, and ``ledger audit`` names what changed.
    """
