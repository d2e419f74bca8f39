"""Read models folded from the verified event stream (SPEC section 6)."""

from ledger.projections.certificates import Certificate, certificates
from ledger.projections.provenance import Step, provenance

__all__ = ["Certificate", "Step", "certificates", "provenance"]
