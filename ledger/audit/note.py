r"""Checkpoints as C2SP signed notes, and witness cosignatures (SPEC 5).

Formats (c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature v1, Ed25519 only):
- checkpoint body: ``<origin>\n<tree size, decimal>\n<base64 root hash>\n``, then the one
  extension line this ledger writes, ``trust-root <version>\n``: the version of the latest
  trust root among the leaves it covers (SPEC 5a), so a proof cannot leave out a later root;
- a note is the body, an empty line, then signature lines ``— <name> <base64(keyid || sig)>``
  (U+2014 EM DASH, a space), each ending with a newline;
- log signature: key id ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``, Ed25519 over the
  body bytes;
- cosignature: key id ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``; the signature is an
  8-byte big-endian POSIX time followed by Ed25519 over
  ``cosignature/v1\ntime <time>\n`` + body.

Rules: the body must parse exactly (no other extension lines; the size is ASCII digits, below
2**64; the root version likewise, at least 1);
verifiers only count signature lines whose name and key id match a key they were given, and
ignore the rest.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.audit.keys import Signer
from ledger.errors import NoteError

__all__ = ["Checkpoint", "NoteError", "SignedNote", "cosign", "note_key_id", "sign_checkpoint"]

_DASH = "\u2014 "
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")  # ASCII digits, no leading zero, at most 20
_TRUST_ROOT = re.compile(r"trust-root ([1-9][0-9]{0,8})")
_LOG_ALG, _COSIGN_ALG = 0x01, 0x04


def note_key_id(name: str, public_key: bytes, algorithm: int = _LOG_ALG) -> bytes:
    """The 4-byte C2SP key id of an Ed25519 key under ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()[:4]


@attrs.frozen
class Checkpoint:
    """A tree head: the log's origin, its size and its root hash."""

    origin: str
    size: int
    root: bytes
    trust_root: int | None = None

    def body(self) -> str:
        """The checkpoint note body."""
        head = f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"
        return head if self.trust_root is None else head + f"trust-root {self.trust_root}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint body exactly."""
        lines = body.split("\n")
        if len(lines) not in (4, 5) or lines[-1] != "" or not lines[0]:
            raise NoteError(
                "a checkpoint body is exactly origin, size and root hash lines, and an optional"
                " trust-root line"
            )
        origin, size, root = lines[:3]
        trust_root = None
        if len(lines) == 5:
            found = _TRUST_ROOT.fullmatch(lines[3])
            if found is None:
                raise NoteError(f"unknown checkpoint extension line {lines[3][:60]!r}")
            trust_root = int(found.group(1))
        if not _SIZE.fullmatch(size) or int(size) >= 2**64:
            shown = repr(size) if len(size) <= 40 else f"of {len(size):,} characters"
            raise NoteError(f"checkpoint size {shown} is not a decimal number below 2**64")
        try:
            raw = base64.b64decode(root, validate=True)
        except ValueError as e:
            raise NoteError("checkpoint root hash is not base64") from e
        if len(raw) != 32 or base64.b64encode(raw).decode() != root:
            raise NoteError("checkpoint root hash is not 32 bytes of canonical base64")
        return cls(origin, int(size), raw, trust_root)


@attrs.frozen
class NoteSignature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The signature line, with its newline."""
        blob = base64.b64encode(self.key_id + self.signature).decode()
        return f"{_DASH}{self.name} {blob}\n"


@attrs.frozen
class SignedNote:
    """A checkpoint with its signature lines."""

    checkpoint: Checkpoint
    signatures: tuple[NoteSignature, ...]

    def text(self) -> str:
        """The note as text."""
        return self.checkpoint.body() + "\n" + "".join(s.line() for s in self.signatures)

    @classmethod
    def parse(cls, text: str) -> SignedNote:
        """Parse a signed checkpoint note."""
        body, separator, rest = text.partition("\n\n")
        if not separator or not rest.endswith("\n"):
            raise NoteError("a note is a body, an empty line and signature lines")
        signatures = tuple(_parse_line(line) for line in rest[:-1].split("\n"))
        return cls(Checkpoint.parse(body + "\n"), signatures)

    def verify_log(self, name: str, public_key: bytes) -> None:
        """Return None if the log key ``name`` signed this checkpoint, else raise NoteError."""
        key_id = note_key_id(name, public_key)
        body = self.checkpoint.body().encode()
        for found in self.signatures:
            if found.name == name and found.key_id == key_id:
                _verify(public_key, found.signature, body, f"log signature of {name}")
                return
        raise NoteError(f"the checkpoint carries no signature by log key {name}")

    def cosigned_at(self, name: str, public_key: bytes) -> int | None:
        """The time witness ``name`` cosigned this checkpoint, None if it did not; raise if bad."""
        key_id = note_key_id(name, public_key, _COSIGN_ALG)
        for found in self.signatures:
            if found.name == name and found.key_id == key_id:
                if len(found.signature) != 72:
                    raise NoteError(f"cosignature of {name} is not 72 bytes")
                (moment,) = struct.unpack(">Q", found.signature[:8])
                message = _cosigned_message(self.checkpoint, moment)
                _verify(public_key, found.signature[8:], message, f"cosignature of {name}")
                return int(moment)
        return None

    def with_signature(self, signature: NoteSignature) -> SignedNote:
        """This note with one more signature line."""
        return attrs.evolve(self, signatures=(*self.signatures, signature))


def sign_checkpoint(checkpoint: Checkpoint, log: Signer) -> SignedNote:
    """The checkpoint signed by the log key (whose actor is the log's origin)."""
    if log.actor != checkpoint.origin:
        raise NoteError(
            f"log key of {log.actor!r} cannot sign checkpoints of {checkpoint.origin!r}"
        )
    key_id = note_key_id(log.actor, log.raw_public_key)
    signature = log.sign(checkpoint.body().encode())
    return SignedNote(checkpoint, (NoteSignature(log.actor, key_id, signature),))


def cosign(note: SignedNote, witness: Signer, moment: int) -> NoteSignature:
    """A witness cosignature of ``note`` at POSIX time ``moment`` (tlog-cosignature v1)."""
    key_id = note_key_id(witness.actor, witness.raw_public_key, _COSIGN_ALG)
    signature = witness.sign(_cosigned_message(note.checkpoint, moment))
    return NoteSignature(witness.actor, key_id, struct.pack(">Q", moment) + signature)


def _cosigned_message(checkpoint: Checkpoint, moment: int) -> bytes:
    return f"cosignature/v1\ntime {moment}\n{checkpoint.body()}".encode()


def _parse_line(line: str) -> NoteSignature:
    if not line.startswith(_DASH):
        raise NoteError(f"signature line {line!r} does not start with an em dash")
    name, space, blob = line[len(_DASH) :].rpartition(" ")
    try:
        raw = base64.b64decode(blob, validate=True)
    except ValueError as e:
        raise NoteError(f"signature of {name!r} is not base64") from e
    if not space or not name or len(raw) < 5 or base64.b64encode(raw).decode() != blob:
        raise NoteError(f"signature line {line!r} is malformed")
    return NoteSignature(name, raw[:4], raw[4:])


def _verify(public_key: bytes, signature: bytes, message: bytes, what: str) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature as e:
        raise NoteError(f"{what} does not verify") from e
