"""A seeded, crash-injecting workload simulator and its auditor (issue 15).

``python -m ledger.sim`` runs a seeded workload (issuances, transfers, splits, reservations,
retirements, exports, events through their lifecycle, sink projects over overlapping and
touching parcels, valid, invalid and limit-hitting commands, a trust-root rotation) in several
processes against one store, kills some of them with SIGKILL at chosen points, and then checks
from the signed history alone that nothing was half-written or lost (:mod:`ledger.sim._auditor`).
Any divergence is printed with the seed that reproduces it.

Rules:
- Nothing here is imported by the library or by ``ledger verify``: the simulator is a tool
  around the public API (and a few internal hooks to place its kill points).
- The workload is a function of the seed: the same seed makes the same commands in the same
  order in each worker (processes interleave differently from run to run; the checks hold for
  every interleaving).
"""

from __future__ import annotations

from ledger.sim._run import Figures, RunConfig, run_seed

__all__ = ["Figures", "RunConfig", "run_seed"]
