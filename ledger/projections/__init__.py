"""Read models folded from the verified event stream (SPEC section 6)."""

from ledger.projections.certificates import Certificate, certificates

__all__ = ["Certificate", "certificates"]
