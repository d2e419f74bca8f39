"""Spreadsheets the command line writes never turn a user's text into a formula."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from ledger.cli._sheets import write_xlsx


def test_a_beneficiary_that_looks_like_a_formula_stays_text_in_the_workbook(
    tmp_path: Path,
) -> None:
    out = tmp_path / "register.xlsx"
    rows = [['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "plain", 3]]
    write_xlsx(out, [("register", ["beneficiary", "a", "b", "c", "d", "n"], rows)], force=False)
    sheet = load_workbook(out).active
    assert sheet is not None
    cells = next(sheet.iter_rows(min_row=2, values_only=False))
    assert [c.data_type for c in cells[:5]] == ["s"] * 5
    assert [c.value for c in cells] == rows[0]
