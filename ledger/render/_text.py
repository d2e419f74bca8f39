"""A certificate document as plain text (UTF-8, Chinese and English)."""

from __future__ import annotations

from ledger.render._document import CertificateDocument
from ledger.render._labels import both
from ledger.render._layout import sections, title

__all__ = ["certificate_text"]


def certificate_text(doc: CertificateDocument) -> str:
    """The certificate as text ending in a newline."""
    lines = [title(doc), "=" * 60]
    for section in sections(doc):
        lines += ["", section.title]
        if section.header:
            lines.append("  " + " | ".join(section.header))
        lines += ["  " + " | ".join(map(str, row)) for row in section.rows]
    lines += ["", both("verify_hint")]
    return "\n".join(lines) + "\n"
