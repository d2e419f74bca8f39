"""Setting up a ledger from the shell: new keys and a signed trust root (SPEC section 8).

Rules:
- ``ledger key new ACTOR ROLE --out FILE`` writes a new private key file (mode 0600, never over
  an existing file) and prints its public key entry as one line of JSON.
- ``ledger root new`` writes a version-1 trust root of the keys given, signed by the operator
  keys given; it is written only if it verifies on its own (its operator threshold, at least 1,
  is met by distinct operator keys), so a root that ``ledger init`` would refuse is never written.
- Every root it writes has an open (unrevoked) ``log`` key for its origin and at least as many
  open ``witness`` keys as the cosignatures it asks for (``--witnesses``, 1 by default for a
  first root), so checkpoints under it can be signed and cosigned.
- ``ledger root new --from OLD`` writes the next version: OLD's keys (``--revoke KEYID`` closes a
  key's window now; keys are never dropped) plus the keys given; it is written only if it is a
  valid rotation (OLD's operator threshold and its own are both met).
- Errors are one line on stderr, exit code 1 (2 for unreadable input), and nothing written.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click

from ledger.audit import PublicKey, Signer, TrustRoot
from ledger.cli._common import fail, input_json, load_key
from ledger.cli._files import write_new_json
from ledger.errors import InvalidInputError, LedgerError

__all__ = ["COMMANDS", "key", "root"]

F = TypeVar("F", bound=Callable[..., Any])

_OUT = click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write (must not exist).",
)


@click.group()
def key() -> None:
    """Private signing keys (one actor, one role each)."""


@key.command("new")
@click.argument("actor")
@click.argument("role")
@_OUT
def key_new(actor: str, role: str, out: Path) -> None:
    """Write a new Ed25519 key for ACTOR in ROLE; print its public entry."""
    try:
        signer = Signer.generate(actor, role)
        _write_new(out, signer.to_json(), private=True)
    except LedgerError as e:
        fail(str(e))
    click.echo(json.dumps(signer.public.to_json()))


def _files(flag: str, name: str, help_text: str) -> Callable[[F], F]:
    return click.option(
        flag, name, multiple=True, type=click.Path(path_type=Path, dir_okay=False), help=help_text
    )


@click.group()
def root() -> None:
    """Trust roots: which keys speak for the ledger, and who may change that."""


@root.command("new")
@click.option("--origin", default=None, help="The log's origin line (version 1 only).")
@click.option("--threshold", default=None, type=int, help="Operator signatures needed.")
@click.option(
    "--witnesses",
    default=None,
    type=int,
    help="Witness cosignatures a proof needs (first root: 1; rotation: unchanged).",
)
@_files("--key", "keys", "A public key entry or a private key file to include (repeat).")
@_files(
    "--sign", "signs", "An operator's private key file that signs the root (repeat); included too."
)
@click.option(
    "--from",
    "previous_file",
    default=None,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The root in force: write its next version (a rotation).",
)
@click.option("--revoke", multiple=True, help="Key id whose window closes now (with --from).")
@_OUT
def root_new(
    origin: str | None, threshold: int | None, witnesses: int | None, keys: tuple[Path, ...],
    signs: tuple[Path, ...], previous_file: Path | None, revoke: tuple[str, ...], out: Path,
) -> None:  # fmt: skip
    """Write a signed trust root (version 1, or the next of --from); refuse one that fails."""
    try:
        signers = [load_key(path) for path in signs]
        added = [*(_public(input_json(path)) for path in keys), *(s.public for s in signers)]
        previous = TrustRoot.from_json(input_json(previous_file)) if previous_file else None
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        created = _next_root(previous, origin, threshold, witnesses, added, revoke, now)
        created = created.signed_by(*signers)
        if previous is None:
            created.verify_alone()
        else:
            previous.verify_successor(created)
        _require_log_and_witnesses(created)
        _write_new(out, created.to_json(), private=False)
    except LedgerError as e:
        fail(str(e))
    click.echo(
        f"trust root version {created.version} of {created.origin!r}:"
        f" {len(created.keys)} keys -> {out}"
    )


def _next_root(
    previous: TrustRoot | None, origin: str | None, threshold: int | None,
    witnesses: int | None, added: list[PublicKey], revoke: tuple[str, ...],
    now: datetime.datetime,
) -> TrustRoot:  # fmt: skip
    if previous is None:
        if origin is None or threshold is None or revoke:
            raise InvalidInputError("a first root needs --origin and --threshold (no --revoke)")
        return TrustRoot.create(
            version=1, origin=origin, issued_at=now, threshold=threshold,
            witnesses=1 if witnesses is None else witnesses, keys=_distinct(added),
        )  # fmt: skip
    if origin is not None and origin != previous.origin:
        raise InvalidInputError("a rotation keeps the log origin")
    unknown = set(revoke) - {k.keyid for k in previous.keys}
    if unknown:
        raise InvalidInputError(f"no key {sorted(unknown)[0]!r} in root {previous.version}")
    kept = [
        attrs.evolve(k, valid_until=now) if k.keyid in revoke and k.valid_until is None else k
        for k in previous.keys
    ]
    return TrustRoot.create(
        version=previous.version + 1, origin=previous.origin, issued_at=now,
        threshold=previous.threshold if threshold is None else threshold,
        witnesses=previous.witnesses if witnesses is None else witnesses,
        keys=_distinct([*kept, *added]),
    )  # fmt: skip


def _require_log_and_witnesses(root: TrustRoot) -> None:
    open_keys = [k for k in root.keys if k.valid_until is None]
    if not any(k.role == "log" and k.actor == root.origin for k in open_keys):
        raise InvalidInputError(
            f"a root needs a log key for its origin {root.origin!r} (--key LOG.pub.json)"
        )
    witnesses = {k.public_key for k in open_keys if k.role == "witness"}
    if len(witnesses) < root.witnesses:
        raise InvalidInputError(
            f"the root asks for {root.witnesses} witness cosignatures but has"
            f" {len(witnesses)} witness keys; add witness keys or lower --witnesses"
        )


def _public(data: Any) -> PublicKey:
    if isinstance(data, dict) and "seed" in data:
        return Signer.from_json(data).public
    return PublicKey.from_json(data)


def _distinct(keys: list[PublicKey]) -> list[PublicKey]:
    seen: dict[str, PublicKey] = {}
    for entry in keys:
        seen.setdefault(entry.keyid, entry)
    return list(seen.values())


def _write_new(path: Path, data: Any, *, private: bool) -> None:
    try:
        write_new_json(path, data, private=private)
    except OSError as e:
        fail(f"cannot write {path}: {e.strerror}", 2)


COMMANDS = (key, root)
