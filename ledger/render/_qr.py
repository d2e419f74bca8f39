"""QR codes of a certificate (segno), as a module matrix, inline SVG or PNG bytes.

Rules: error correction level M, so a printed code still reads with a small smudge; segno
loads only when a code is drawn.
"""

from __future__ import annotations

import io

__all__ = ["qr_matrix", "qr_png", "qr_svg"]


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR code of ``payload`` as rows of dark (True) and light modules, quiet zone excluded."""
    import segno

    code = segno.make(payload, error="m", micro=False)
    return [[bool(module) for module in row] for row in code.matrix]


def qr_svg(payload: str, scale: int = 3) -> str:
    """The QR code of ``payload`` as an inline ``<svg>`` element."""
    import segno

    code = segno.make(payload, error="m", micro=False)
    return str(code.svg_inline(scale=scale, title=payload))


def qr_png(payload: str, scale: int = 4) -> bytes:
    """The QR code of ``payload`` as PNG bytes."""
    import segno

    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
