"""Read models folded from the verified event stream (SPEC section 6)."""

from ledger.audit.certificate import Certificate, certificates
from ledger.projections.provenance import Step, provenance

__all__ = ["Certificate", "Step", "certificates", "provenance"]
