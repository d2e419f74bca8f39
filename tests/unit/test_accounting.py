"""Emission factor tables: the shipped defaults and user tables (R6)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ledger import InvalidInputError, NotFoundError
from ledger.accounting import FactorTable


def test_every_shipped_factor_names_its_source_year_and_whether_it_was_checked() -> None:
    factors = list(FactorTable.default())
    assert len(factors) == 12
    for factor in factors:
        assert factor.reference and 2021 <= factor.year <= 2025
        assert isinstance(factor.factor, Decimal) and factor.factor > 0
    assert FactorTable.default()["electricity-shandong-2023"].factor == Decimal("0.6191")


def test_a_user_table_overrides_defaults_by_id_and_adds_its_own(tmp_path: Path) -> None:
    path = tmp_path / "factors.json"
    path.write_text(
        json.dumps(
            {
                "factors": [
                    {
                        "id": "electricity-shandong-2023",
                        "source": "purchased-electricity",
                        "unit": "kWh",
                        "factor": "0.5000",
                        "year": 2023,
                        "reference": "green power contract",
                    },
                    {
                        "id": "diesel-generator",
                        "source": "fixed-combustion",
                        "unit": "L",
                        "factor": "2.68",
                        "year": 2024,
                        "reference": "supplier sheet",
                    },
                ]
            }
        )
    )
    table = FactorTable.load(path)
    assert table["electricity-shandong-2023"].factor == Decimal("0.5000")
    assert table["diesel-generator"].line(100).kilograms == Decimal("268.00")
    assert table["coach"].factor == Decimal("0.02776")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"factor": 0.5}, "factor must be decimal text"),
        ({"source": "fireworks"}, "bad emission factor entry"),
        ({"year": None}, "bad emission factor entry"),
    ],
)
def test_a_bad_user_factor_is_refused(
    tmp_path: Path, entry: dict[str, object], message: str
) -> None:
    base = {
        "id": "x",
        "source": "lodging",
        "unit": "night",
        "factor": "1",
        "year": 2024,
        "reference": "r",
    }
    path = tmp_path / "factors.json"
    path.write_text(json.dumps({"factors": [{**base, **entry}]}))
    with pytest.raises(InvalidInputError, match=message):
        FactorTable.load(path)


def test_an_unknown_factor_is_named() -> None:
    with pytest.raises(NotFoundError, match=r"R6: no emission factor 'teleport'"):
        FactorTable.default()["teleport"]
