"""A retirement certificate rendered as text (R11)."""

from __future__ import annotations

from ledger.cli.render import render_certificate

CERT = {
    "id": "b:3",
    "batch": "b",
    "registry": "national-ccer-registry",
    "instrument": "ccer",
    "vintage": 2025,
    "project": "Hebei wind farm CCER",
    "province": "Hebei",
    "methodology": "CM-001",
    "priorityRank": 4,
    "serialStart": 1000001,
    "serialEnd": 1001500,
    "quantity": 1500,
    "unit": "1",
    "tonnes": "1500",
    "eventName": None,
    "beneficiary": "Org",
    "reason": "offset",
    "holders": ["sponsor", "org"],
    "donors": ["sponsor"],
    "retiredBy": "org",
    "retiredAt": "2026-06-05T10:00:00+08:00",
    "issuedAt": "2026-04-01T10:00:00+08:00",
    "issuanceEntry": "aa",
    "retirementEntry": "bb",
    "retirementVersion": 3,
    "sourceProject": None,
}


def test_a_rendered_certificate_says_what_for_whom_and_which_entries_prove_it() -> None:
    text = render_certificate(CERT)
    assert text.splitlines()[:2] == [
        "RETIREMENT CERTIFICATE b:3",
        "  retired     1500 tCO2e = 1,500 units of 1 t, serials 1000001-1001500",
    ]
    assert "  for         beneficiary Org\n" in text
    assert "  held by     sponsor, org; donated by sponsor\n" in text
    assert "retirement log entry bb; `ledger proof DB b 3`" in text
    assert "sink" not in text


def test_a_sink_certificate_names_its_project_and_a_bare_one_says_so() -> None:
    text = render_certificate(CERT | {"sourceProject": "p-1", "beneficiary": None, "donors": []})
    assert "  sink        project p-1 (R9)\n" in text
    assert "  for         -\n" in text
    assert "donated" not in text
