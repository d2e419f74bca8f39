"""The CJK font a PDF certificate embeds, so it renders the same on every reader.

Rules:
- ``LEDGER_CJK_FONT`` names a TrueType file (``.ttf``, or ``.ttc``: its first face) to use;
  otherwise the first of Debian's CJK packages found: ``fonts-wqy-microhei`` (preferred),
  ``fonts-wqy-zenhei``, ``fonts-droid-fallback``, ``fonts-arphic-uming``. The font is embedded
  as a subset (only the glyphs used).
- With none of them installed, the PDF falls back to reportlab's built-in CID font
  ``STSong-Light``, which is not embedded: readers must bring an Adobe-GB1 font. That is the
  documented fallback only; install ``fonts-wqy-microhei`` (``apt-get install
  fonts-wqy-microhei``) for a self-contained PDF.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

__all__ = ["CANDIDATES", "FALLBACK", "CjkFont", "cjk_font", "find_font_file"]

CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
FALLBACK = "STSong-Light"
_NAME = "LedgerCJK"


@attrs.frozen
class CjkFont:
    """A registered reportlab font: its name, and the file embedded (None: the CID fallback)."""

    name: str
    path: Path | None

    @property
    def embedded(self) -> bool:
        """True if the PDF carries the font itself."""
        return self.path is not None


def find_font_file() -> Path | None:
    """The TrueType CJK font file to embed, or None if there is none."""
    named = os.environ.get("LEDGER_CJK_FONT")
    if named:
        return Path(named)
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def cjk_font() -> CjkFont:
    """Register the CJK font with reportlab (once) and return it."""
    from reportlab.pdfbase import pdfmetrics

    path = find_font_file()
    if path is None:
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        if FALLBACK not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
        return CjkFont(FALLBACK, None)
    name = f"{_NAME}-{path.stem}"
    if name not in pdfmetrics.getRegisteredFontNames():
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
    return CjkFont(name, path)
