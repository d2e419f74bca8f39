"""The digest of a proof and what a certificate's QR code carries.

Rules:
- A proof's digest is the SHA-256 of its RFC 8785 canonical JSON (``canonical_json``), in
  lowercase hex: the same for every file that holds the same proof, however it is indented.
- The QR code carries ``sha256:<digest>``, or, when a URL template is configured, that URL
  with ``{digest}`` (and ``{id}``, the certificate id) filled in; a template without
  ``{digest}`` gets ``#sha256=<digest>`` appended, so the digest is always in the code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ledger.audit import canonical_json

__all__ = ["proof_digest", "qr_payload"]


def proof_digest(proof: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the proof's canonical JSON (RFC 8785)."""
    return hashlib.sha256(canonical_json(proof)).hexdigest()


def qr_payload(digest: str, certificate_id: str, url: str | None = None) -> str:
    """What the QR code of a certificate carries: the digest, inside the URL if one is set."""
    if not url:
        return f"sha256:{digest}"
    if "{digest}" not in url:
        return f"{url}#sha256={digest}"
    return url.replace("{digest}", digest).replace("{id}", quote(certificate_id, safe=""))
