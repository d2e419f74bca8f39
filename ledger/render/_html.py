"""HTML pages (jinja2): a certificate, and the pages of the public register site.

Rules: every value is escaped (autoescape on); the QR code is an inline SVG, so a page is one
self-contained file; jinja2 loads only when a page is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ledger.render._document import CertificateDocument
from ledger.render._labels import both
from ledger.render._layout import Link, sections, title
from ledger.render._qr import qr_svg

if TYPE_CHECKING:
    import jinja2

__all__ = ["certificate_html", "page"]

_ENV: list[jinja2.Environment] = []


def _environment() -> jinja2.Environment:
    if not _ENV:
        import jinja2
        from markupsafe import Markup

        env = jinja2.Environment(
            loader=jinja2.PackageLoader("ledger.render", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        env.globals["qr_svg"] = lambda payload: Markup(qr_svg(payload))
        env.tests["link"] = lambda value: isinstance(value, Link)
        _ENV.append(env)
    return _ENV[0]


def page(template: str, **context: Any) -> str:
    """Render ``template`` (under ledger/render/templates) with ``context``."""
    context.setdefault("nav", [])
    context.setdefault("footer", both("verify_hint"))
    return _environment().get_template(template).render(**context)


def certificate_html(
    doc: CertificateDocument,
    *,
    proof_links: Mapping[str, str] | None = None,
    nav: Sequence[tuple[str, str]] = (),
) -> str:
    """The certificate as one HTML page (UTF-8), with each proof's QR code inline.

    Args:
        doc: the certificate document.
        proof_links: certificate id -> href of its proof file, shown as a download link.
        nav: (href, text) links shown at the top.
    """
    return page(
        "sections.html.j2",
        page_title=f"{title(doc)} {doc.id}",
        sections=sections(doc),
        proof_links=dict(proof_links or {}),
        download=both("download"),
        nav=list(nav),
    )
