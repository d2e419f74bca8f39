"""What people read: certificates as text, HTML and PDF with a QR code, and the register site.

Use::

    from ledger.render import certificate_document, certificate_pdf, certificate_html

    with Ledger("ledger.db") as ledger:
        doc = certificate_document(ledger, "BATCH:VERSION")  # or an event's id
    Path("certificate.pdf").write_bytes(certificate_pdf(doc))

Rules:
- A certificate shows the event, its organisers, emissions by source, the units retired by
  registry and serial range with their R8 rank and any deviation with its reason, the
  verifier's evaluation or the organiser's commitment, the R10 deadlines, and for each
  retirement the checkpoint it is proven in and a QR code carrying the proof's digest
  (:func:`proof_digest`: SHA-256 of the proof's RFC 8785 canonical JSON), inside a URL if
  one is configured (:func:`qr_payload`). Labels are Chinese and English.
- Names load on first use (PEP 562): importing this package loads neither reportlab, jinja2
  nor segno; each loads when the first PDF, page or QR code is made.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.render._digest import proof_digest, qr_payload
    from ledger.render._document import (
        CertificateDocument,
        EventPart,
        Retirement,
        Seal,
        certificate_document,
    )
    from ledger.render._fonts import CjkFont, cjk_font, find_font_file
    from ledger.render._html import certificate_html
    from ledger.render._pdf import certificate_pdf
    from ledger.render._qr import qr_png, qr_svg
    from ledger.render._site import SiteReport, build_site
    from ledger.render._text import certificate_text

_LAZY = {
    "CertificateDocument": "ledger.render._document",
    "CjkFont": "ledger.render._fonts",
    "EventPart": "ledger.render._document",
    "Retirement": "ledger.render._document",
    "Seal": "ledger.render._document",
    "SiteReport": "ledger.render._site",
    "build_site": "ledger.render._site",
    "certificate_document": "ledger.render._document",
    "certificate_html": "ledger.render._html",
    "certificate_pdf": "ledger.render._pdf",
    "certificate_text": "ledger.render._text",
    "cjk_font": "ledger.render._fonts",
    "find_font_file": "ledger.render._fonts",
    "proof_digest": "ledger.render._digest",
    "qr_payload": "ledger.render._digest",
    "qr_png": "ledger.render._qr",
    "qr_svg": "ledger.render._qr",
}

__all__ = [
    "CertificateDocument",
    "CjkFont",
    "EventPart",
    "Retirement",
    "Seal",
    "SiteReport",
    "build_site",
    "certificate_document",
    "certificate_html",
    "certificate_pdf",
    "certificate_text",
    "cjk_font",
    "find_font_file",
    "proof_digest",
    "qr_payload",
    "qr_png",
    "qr_svg",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'ledger.render' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
