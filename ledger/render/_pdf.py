"""A certificate as a PDF (reportlab): A4, Chinese and English, the CJK font embedded.

Rules: the same sections as the text and HTML forms; each proof's QR code is an image beside
it (8 pixels a module, so a reader or a test can decode it); the output is deterministic for
the same document (reportlab's invariant mode), so a PDF can be compared byte for byte.
reportlab loads only with this module, which :mod:`ledger.render` imports on first use.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ledger.render._document import CertificateDocument
from ledger.render._fonts import cjk_font
from ledger.render._labels import both
from ledger.render._layout import Section, sections, title
from ledger.render._qr import qr_png

__all__ = ["certificate_pdf"]

_QR_SIZE = 110.0


def certificate_pdf(doc: CertificateDocument) -> bytes:
    """The certificate as PDF bytes."""
    font = cjk_font().name
    styles = _styles(font)
    out = io.BytesIO()
    template = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{title(doc)} {doc.id}",
        author="ledger",
        invariant=True,
    )
    story: list[Flowable] = [Paragraph(_escape(title(doc)), styles["title"]), Spacer(1, 4 * mm)]
    for section in sections(doc):
        story += _section(section, styles, template.width)
    story += [Spacer(1, 6 * mm), Paragraph(_escape(both("verify_hint")), styles["small"])]
    template.build(story)
    return out.getvalue()


def _styles(font: str) -> dict[str, Any]:
    base = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22),
        "heading": ParagraphStyle(
            "heading", parent=base, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=3
        ),
        "cell": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
    }


def _section(section: Section, styles: dict[str, Any], width: float) -> list[Flowable]:
    cell = styles["cell"]
    rows = [*([section.header] if section.header else []), *section.rows]
    data = [[Paragraph(_escape(str(text)), cell) for text in row] for row in rows]
    room = width - (_QR_SIZE + 8 if section.qr else 0)
    columns = max(len(row) for row in rows) if rows else 1
    weights = section.weights or ((0.3, 0.7) if columns == 2 else (1 / columns,) * columns)
    widths = [room * weight for weight in weights]
    table = Table(data, colWidths=widths, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c8d6c8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if section.header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef5ee")))
    table.setStyle(TableStyle(style))
    body: Flowable = table
    if section.qr:
        body = Table([[table, _qr_code(section.qr)]], colWidths=[room + 8, _QR_SIZE])
        body.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [Paragraph(_escape(section.title), styles["heading"]), body]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _qr_code(payload: str) -> Flowable:
    """The QR code as a crisp bitmap (8 px a module, quiet zone of 4 modules)."""
    return Image(io.BytesIO(qr_png(payload, scale=8)), width=_QR_SIZE, height=_QR_SIZE)
