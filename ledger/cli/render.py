"""A retirement certificate as text a person reads (R11).

Rules: it says what was retired, for whom, and which signed log entries prove it; every line
comes from the certificate's JSON form, nothing else.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_certificate"]


def render_certificate(cert: dict[str, Any]) -> str:
    """The certificate ``cert`` (its JSON form) as a block of text ending in a newline."""
    lines = [
        f"RETIREMENT CERTIFICATE {cert['id']}",
        f"  retired     {cert['tonnes']} tCO2e = {cert['quantity']:,} units of"
        f" {cert['unit']} t, serials {cert['serialStart']}-{cert['serialEnd']}",
        f"  credits     {cert['instrument']}, vintage {cert['vintage']}, R8 priority rank"
        f" {cert['priorityRank']}",
        f"  project     {cert['project']} ({cert['province']}); methodology {cert['methodology']}",
        f"  registry    {cert['registry']}, batch {cert['batch']}",
        f"  for         {_for(cert)}",
        f"  reason      {cert['reason']}",
        f"  retired by  {cert['retiredBy']} at {cert['retiredAt']}",
        f"  held by     {', '.join(cert['holders'])}" + _donors(cert),
        f"  issued      {cert['issuedAt']}, log entry {cert['issuanceEntry']}",
        f"  proof       retirement log entry {cert['retirementEntry']};"
        f" `ledger proof DB {cert['batch']} {cert['retirementVersion']}`",
    ]
    if cert.get("sourceProject"):
        lines.insert(4, f"  sink        project {cert['sourceProject']} (R9)")
    return "\n".join(lines) + "\n"


def _for(cert: dict[str, Any]) -> str:
    named = [f"event {cert['eventName']}"] if cert.get("eventName") else []
    if cert.get("beneficiary"):
        named.append(f"beneficiary {cert['beneficiary']}")
    return "; ".join(named) or "-"


def _donors(cert: dict[str, Any]) -> str:
    return f"; donated by {', '.join(cert['donors'])}" if cert.get("donors") else ""
