"""What people read: PDF, HTML and text certificates with a QR code, and the register site."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import zxingcpp
from _shell import run
from pypdf import PdfReader

from ledger import Ledger
from ledger.audit import canonical_json
from ledger.render import (
    certificate_document,
    certificate_pdf,
    find_font_file,
    proof_digest,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("publish") / "demo"
    done = run("demo", "--dir", str(folder))
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="module")
def ids(demo: Path) -> dict[str, str]:
    certificate = json.loads((demo / "certificate.json").read_text())
    with Ledger(demo / "ledger.db") as ledger:
        event = certificate_document(ledger, certificate["id"]).event
    assert event is not None
    return {"certificate": certificate["id"], "event": event.id}


def _qr_codes(pdf: Path) -> list[str]:
    return [
        barcode.text
        for page in PdfReader(pdf).pages
        for image in page.images
        for barcode in zxingcpp.read_barcodes(image.image)
    ]


def test_the_event_certificate_pdf_reads_back_with_every_part_and_qr_codes_of_the_proof_digests(
    demo: Path, ids: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "event.pdf"
    done = run("certificate", demo / "ledger.db", ids["event"], "--out", out)
    assert done.returncode == 0, done.stderr
    text = "".join(page.extract_text() for page in PdfReader(out).pages).replace("\n", "")
    for part in (
        "大型活动碳中和证书",
        "Carbon Neutrality Certificate",
        "2026 Jinan Green Development Forum",
        "Jinan Municipal People's",
        "外购电力",
        "274.953",
        "shandong-carbon-inclusion-platform",
        "100001-100240",
        "CCERs donated",
        "third-party evaluation report JN-GDF-2026-01",
        "demo.ledger.local/shandong-events, size 26",
    ):
        assert part in text, part
    proof = json.loads((demo / "proof.json").read_text())
    digest = hashlib.sha256(canonical_json(proof)).hexdigest()
    codes = _qr_codes(out)
    assert len(codes) == 3
    assert f"sha256:{digest}" in codes


def test_the_pdf_embeds_its_cjk_font_so_it_renders_the_same_everywhere(
    demo: Path, ids: dict[str, str]
) -> None:
    if find_font_file() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no CJK font installed: .ci/run installs fonts-wqy-microhei")
        pytest.skip("no CJK TrueType font here (apt-get install fonts-wqy-microhei)")
    with Ledger(demo / "ledger.db") as ledger:
        pdf = certificate_pdf(certificate_document(ledger, ids["certificate"]))
    assert b"/FontFile2" in pdf
    assert pdf == certificate_pdf(
        certificate_document(Ledger(demo / "ledger.db"), ids["certificate"])
    )


def test_a_configured_url_carries_the_digest_in_the_qr_code(
    demo: Path, ids: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "one.pdf"
    url = "https://registry.example/proofs/{digest}?c={id}"
    done = run("certificate", demo / "ledger.db", ids["certificate"], "--out", out, "--url", url)
    assert done.returncode == 0, done.stderr
    (code,) = _qr_codes(out)
    proof = json.loads((demo / "proof.json").read_text())
    assert code.startswith(f"https://registry.example/proofs/{proof_digest(proof)}?c=")
    assert unquote(code.split("?c=")[1]) == ids["certificate"]


def test_the_html_certificate_escapes_its_text_and_carries_the_qr_as_inline_svg(
    demo: Path, ids: dict[str, str]
) -> None:
    done = run("certificate", demo / "ledger.db", ids["certificate"], "--format", "html")
    assert done.returncode == 0, done.stderr
    html = done.stdout
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html and "碳信用注销证书" in html and "100001-100240" in html
    assert "People&#39;s Government" in html


def test_the_text_certificate_names_the_digest_and_the_checkpoint(
    demo: Path, ids: dict[str, str]
) -> None:
    done = run("certificate", demo / "ledger.db", ids["certificate"], "--format", "text")
    proof = json.loads((demo / "proof.json").read_text())
    assert f"sha256:{proof_digest(proof)}" in done.stdout
    assert "R8 priority" in done.stdout


def test_a_certificate_file_is_never_overwritten_without_force(
    demo: Path, ids: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "c.html"
    out.write_text("mine")
    args = ("certificate", demo / "ledger.db", ids["certificate"], "--format", "html", "--out", out)
    refused = run(*args)
    assert (refused.returncode, refused.stderr) == (
        2,
        f"ledger: {out} exists; pass --force to overwrite it\n",
    )
    assert out.read_text() == "mine"
    assert run(*args, "--force").returncode == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_a_certificate_of_a_missing_store_or_an_unknown_id_is_one_line(
    demo: Path, tmp_path: Path
) -> None:
    missing = run("certificate", tmp_path / "nope.db", "x:1", "--format", "text")
    assert (missing.returncode, missing.stderr) == (
        2,
        f"ledger: no ledger database at {tmp_path / 'nope.db'}\n",
    )
    assert not (tmp_path / "nope.db").exists()
    bad = run("certificate", demo / "ledger.db", "not-an-id", "--format", "text")
    assert bad.returncode == 1 and len(bad.stderr.splitlines()) == 1, bad.stderr


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs += [value for name, value in attrs if name == "href" and value]


def test_the_register_site_has_a_page_per_event_and_certificate_and_every_link_resolves(
    demo: Path, ids: dict[str, str], tmp_path: Path
) -> None:
    site = tmp_path / "site"
    done = run("site", demo / "ledger.db", site)
    assert done.returncode == 0, done.stderr
    cert_page = site / "certificates" / f"{ids['certificate'].replace(':', '-')}.html"
    assert (site / "index.html").is_file() and cert_page.is_file()
    assert (site / "events" / f"{ids['event']}.html").is_file()
    assert len(list((site / "certificates").glob("*.html"))) == 3
    checked = 0
    for page in site.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for href in parser.hrefs:
            assert not urlparse(href).scheme, href
            assert (page.parent / href).resolve().is_file(), f"{page}: {href}"
            checked += 1
    assert checked >= 10
    assert "../proofs/" in cert_page.read_text(encoding="utf-8")
    proof = next((site / "proofs").glob("*.json"))
    verified = run("verify", proof, "--trust", demo / "root.json")
    assert verified.returncode == 0, verified.stderr
    index = (site / "index.html").read_text(encoding="utf-8")
    for part in ("CCERs donated", "inclusion-forest", "100001-100240", "2026-11-22", "met"):
        assert part in index


def test_the_site_refuses_a_folder_that_is_not_empty(demo: Path, tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("x")
    done = run("site", demo / "ledger.db", tmp_path)
    assert done.returncode == 1 and "not empty" in done.stderr


def test_the_site_loads_in_headless_chromium_and_a_screenshot_is_taken(
    demo: Path, tmp_path: Path
) -> None:
    chromium = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing under CI=true: .ci/run installs Debian's chromium")
        pytest.skip("no /usr/bin/chromium here (apt-get install chromium); CI installs it")
    site = tmp_path / "site"
    assert run("site", demo / "ledger.db", site).returncode == 0
    shot = tmp_path / "index.png"
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            (site / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
