"""Emission factor tables: the shipped defaults and user tables (R6)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

import ledger
from ledger import InvalidInputError, NotFoundError
from ledger.accounting import FactorTable

DOCS = Path(__file__).parents[2] / "docs" / "emission-factors.md"


def test_every_shipped_factor_names_its_source_year_and_how_it_was_checked() -> None:
    factors = list(FactorTable.default())
    assert len(factors) == 12
    for factor in factors:
        assert factor.reference and 2019 <= factor.year <= 2025
        assert isinstance(factor.factor, Decimal) and factor.factor > 0
        assert factor.check, f"{factor.id} says nothing of its check"
    assert all(factor.checked for factor in factors), "an unchecked figure must not ship"
    assert "electricity-shandong-2023" not in {factor.id for factor in factors}


def test_the_docs_table_of_factors_equals_the_shipped_table() -> None:
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in DOCS.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and not line.startswith(("| id", "| ---"))
    ]
    documented = {row[0]: (Decimal(row[1]), row[2], int(row[3]), row[4] == "yes") for row in rows}
    shipped = {
        factor.id: (factor.factor, factor.unit, factor.year, factor.checked)
        for factor in FactorTable.default()
    }
    assert documented == shipped


def test_the_shipped_table_matches_its_published_schema() -> None:
    schema = json.loads((DOCS.parent / "schemas" / "emission-factors.v1.schema.json").read_text())
    shipped = json.loads(
        (Path(ledger.__file__).parent / "data" / "emission_factors.json").read_text()
    )
    jsonschema.validate(shipped, schema)
    with pytest.raises(jsonschema.ValidationError, match="'check' is a required property"):
        unexplained = {key: value for key, value in shipped["factors"][1].items() if key != "check"}
        jsonschema.validate({"factors": [unexplained]}, schema)


def test_the_taxi_factor_is_per_passenger_km_and_its_vehicle_km_twin_is_shipped() -> None:
    table = FactorTable.default()
    assert (table["taxi"].unit, table["taxi"].factor) == ("passenger-km", Decimal("0.14861"))
    assert (table["taxi-vehicle-km"].unit, table["taxi-vehicle-km"].factor) == (
        "vehicle-km",
        Decimal("0.20806"),
    )


def test_the_bjtu_transport_figures_describe_2019() -> None:
    table = FactorTable.default()
    assert table["rail-high-speed"].line(1000).kilograms == Decimal("30.48000")
    assert table["air-domestic"].year == table["rail-high-speed"].year == 2019


def test_a_user_table_overrides_defaults_by_id_and_adds_its_own(tmp_path: Path) -> None:
    path = tmp_path / "factors.json"
    path.write_text(
        json.dumps(
            {
                "factors": [
                    {
                        "id": "electricity-shandong-2022",
                        "source": "purchased-electricity",
                        "unit": "kWh",
                        "factor": "0.5000",
                        "year": 2022,
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
    assert table["electricity-shandong-2022"].factor == Decimal("0.5000")
    assert table["diesel-generator"].line(100).kilograms == Decimal("268.00")
    assert table["coach"].factor == Decimal("0.02776")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"factor": 0.5}, "factor must be decimal text"),
        ({"factor": "-0.5"}, r"^R6: factor 'x': factor must be zero or more"),
        ({"source": "fireworks"}, "bad emission factor entry"),
        ({"year": None}, "bad emission factor entry"),
        ({"checked": True}, "R6: factor 'x': a checked factor says in 'check' how"),
        ({"checked": "yes", "check": "t"}, "'checked' is true or false"),
        ({"chekced": True}, "R6: factor 'x': unknown field 'chekced'"),
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


@pytest.mark.parametrize("document", [[], {"factor": []}, {"factors": {}}])
def test_a_table_that_is_not_a_list_of_factors_is_refused(tmp_path: Path, document: object) -> None:
    path = tmp_path / "factors.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidInputError, match=r"R6: an emission factor table is \{\"factors\""):
        FactorTable.load(path)
