"""``ledger certificate`` and ``ledger site``: what people read (R11, R12).

Rules:
- ``certificate`` renders one certificate (``BATCH:VERSION``) or an event's neutralization
  certificate (the event's id) as PDF, HTML or text; ``site`` writes the public disclosure
  register as a static site with one page per event and per certificate and the proof files.
- Both only read the store: a missing database is exit 2, never a new empty store; an output
  file is never overwritten without ``--force``.
- The QR code carries the proof's digest (``ledger.render.proof_digest``), inside the URL of
  ``--url`` or ``LEDGER_CERTIFICATE_URL`` if set (``{digest}`` and ``{id}`` are filled in).
- reportlab, jinja2 and segno load only when these commands run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.cli._common import DATABASE, SCHEMA, DatabaseCommand, existing, fail, open_ledger, run
from ledger.cli._output import FORCE, refuse_existing, write_output

__all__ = ["COMMANDS"]

URL = click.option(
    "--url",
    envvar="LEDGER_CERTIFICATE_URL",
    default=None,
    help="URL template put in the QR code, e.g. https://registry.example/p/{digest}"
    " (default: $LEDGER_CERTIFICATE_URL; without it the code carries sha256:DIGEST).",
)


@click.command(cls=DatabaseCommand)
@DATABASE
@click.argument("certificate_id", metavar="ID")
@click.option(
    "--format", "form", type=click.Choice(["pdf", "html", "text"]), default="pdf", show_default=True
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None)
@FORCE
@URL
@SCHEMA
def certificate(
    database: str,
    certificate_id: str,
    form: str,
    out: Path | None,
    force: bool,
    url: str | None,
    schema: str | None,
) -> None:
    """Render certificate ID (BATCH:VERSION, or an event's id) as PDF, HTML or text.

    Without --out, HTML and text go to stdout, and a PDF too unless stdout is a terminal.
    """
    if out is not None:
        refuse_existing(out, force)
    elif form == "pdf" and sys.stdout.isatty():
        fail("a PDF is not shown on a terminal; name a file with --out FILE.pdf", 2)
    from ledger import render

    def act() -> bytes | str:
        with open_ledger(existing(database), schema=schema) as ledger:
            doc = render.certificate_document(ledger, certificate_id, url=url)
        if form == "pdf":
            return render.certificate_pdf(doc)
        return render.certificate_html(doc) if form == "html" else render.certificate_text(doc)

    data = run(act)
    if out is not None:
        write_output(out, data, force=force)
        click.echo(f"certificate written to {out}", err=True)
    elif isinstance(data, bytes):
        sys.stdout.buffer.write(data)
    else:
        click.echo(data, nl=False)


@click.command(cls=DatabaseCommand)
@DATABASE
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@FORCE
@URL
@SCHEMA
def site(database: str, out: Path, force: bool, url: str | None, schema: str | None) -> None:
    """Write the public disclosure register as a static site into the new folder OUT.

    One page per event and per certificate, each certificate page linking its proof file
    (written when a signed checkpoint covers it); open OUT/index.html.
    """
    from ledger import render

    def act() -> render.SiteReport:
        with open_ledger(existing(database), schema=schema) as ledger:
            return render.build_site(ledger, out, url=url, force=force)

    report = run(act)
    pending = f"; {_count(len(report.pending), 'proof')} pending" if report.pending else ""
    click.echo(
        f"site written to {out}: {_count(len(report.pages), 'page')},"
        f" {_count(len(report.proofs), 'proof file')}{pending}; open {out / 'index.html'}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


COMMANDS = (certificate, site)
