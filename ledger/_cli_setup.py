"""Setting up a ledger from the shell: new keys and a signed trust root (SPEC section 8).

Rules:
- ``ledger key new ACTOR ROLE --out FILE`` writes a new private key file (mode 0600, never over
  an existing file) and prints its public key entry as one line of JSON.
- ``ledger root new`` writes a version-1 trust root of the keys given, signed by the operator
  keys given; it is written only if it verifies on its own (its operator threshold is met by
  distinct operator keys), so a root that ``ledger init`` would refuse is never written.
- Errors are one line on stderr, exit code 1 (2 for unreadable input), and nothing written.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

import click

from ledger._cli_ops import fail
from ledger.audit.keys import PublicKey, Signer
from ledger.audit.trust import TrustRoot
from ledger.errors import LedgerError

__all__ = ["key", "root"]

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


@click.group()
def root() -> None:
    """Trust roots: which keys speak for the ledger, and who may change that."""


@root.command("new")
@click.option("--origin", required=True, help="The log's origin line (a name like a host).")
@click.option("--threshold", required=True, type=int, help="Operator signatures needed.")
@click.option("--witnesses", default=0, type=int, help="Witness cosignatures a proof needs.")
@click.option(
    "--key",
    "keys",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A public key entry or a private key file to include (repeat).",
)
@click.option(
    "--sign",
    "signs",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="An operator's private key file that signs the root (repeat); included too.",
)
@_OUT
def root_new(
    origin: str,
    threshold: int,
    witnesses: int,
    keys: tuple[Path, ...],
    signs: tuple[Path, ...],
    out: Path,
) -> None:
    """Write a signed version-1 trust root; refuse one that would not verify."""
    try:
        signers = [Signer.from_json(_read(path)) for path in signs]
        public = _distinct([*(_public(_read(path)) for path in keys), *(s.public for s in signers)])
        created = TrustRoot.create(
            version=1,
            origin=origin,
            issued_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0),
            threshold=threshold,
            witnesses=witnesses,
            keys=public,
        ).signed_by(*signers)
        created.verify_alone()
        _write_new(out, created.to_json(), private=False)
    except LedgerError as e:
        fail(str(e))
    click.echo(f"trust root version 1 of {origin!r}: {len(public)} keys -> {out}")


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}", 2)


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
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    except OSError as e:
        fail(f"cannot write {path}: {e.strerror}", 2)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
