"""Two processes race for the same units or serials: the database lets exactly one win (issue 3).

Each round starts two fresh processes that open the same store and wait at a barrier, then both
try the same retirement (or overlapping issuances). The loser gets a LedgerError; the store
holds the winner's events only.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from ledger import KeyDirectory, Ledger, LedgerError, SerialRange, Signer

from conftest import Backend, issue

ROUNDS = 5


def _contender(job: dict[str, Any], barrier: Any, results: Any) -> None:
    signer = Signer.from_json(job["signer"])
    keys = KeyDirectory.from_json(job["keys"])
    with Ledger(job["url"], keys, schema=job["schema"]) as ledger:
        barrier.wait(timeout=30)
        try:
            if job["action"] == "retire":
                ledger.retire(
                    signer,
                    job["batch"],
                    SerialRange(*job["serials"]),
                    beneficiary="b",
                    reason=f"contender {job['name']}",
                )
            else:
                ledger.issue_batch(
                    signer,
                    instrument="ccer",
                    vintage=2024,
                    project=f"p-{job['name']}",
                    province="Shandong",
                    methodology="m",
                    serials=SerialRange(*job["serials"]),
                    holder=job["holder"],
                )
        except LedgerError as e:
            results.put((job["name"], f"refused: {type(e).__name__}: {e}"))
        else:
            results.put((job["name"], "won"))


def race(jobs: list[dict[str, Any]]) -> list[str]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [context.Process(target=_contender, args=(job, barrier, results)) for job in jobs]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in jobs]
    for process in processes:
        process.join(timeout=30)
    return [outcome for _, outcome in sorted(outcomes)]


def job(backend: Backend, keys: KeyDirectory, signer: Signer, **fields: Any) -> dict[str, Any]:
    return {
        "url": backend.url,
        "schema": backend.schema,
        "keys": keys.to_json(),
        "signer": signer.to_json(),
        **fields,
    }


def test_two_processes_retiring_the_same_units_leave_exactly_one_winner(
    backend: Backend, ledger: Ledger, keys: KeyDirectory, registry: Signer, organiser: Signer
) -> None:
    for round_ in range(ROUNDS):
        batch = issue(ledger, registry, organiser, round_ * 100 + 1, round_ * 100 + 100)
        start = round_ * 100 + 1
        jobs = [
            job(
                backend,
                keys,
                organiser,
                action="retire",
                batch=batch,
                name=name,
                serials=(start, start + 9 + offset),
            )
            for name, offset in (("a", 0), ("b", 5))
        ]
        outcomes = race(jobs)
        assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "won"], outcomes
        assert "R11" in "".join(outcomes) or "ConcurrencyError" in "".join(outcomes)
        assert len(ledger.history(batch)) == 2


def test_two_processes_issuing_overlapping_blocks_leave_exactly_one_winner(
    backend: Backend, ledger: Ledger, keys: KeyDirectory, registry: Signer, organiser: Signer
) -> None:
    for round_ in range(ROUNDS):
        base = 100_000 + round_ * 1000
        jobs = [
            job(
                backend,
                keys,
                registry,
                action="issue",
                holder=organiser.actor,
                name=name,
                serials=(base + shift, base + shift + 499),
            )
            for name, shift in (("a", 0), ("b", 250))
        ]
        outcomes = race(jobs)
        assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "won"], outcomes
        assert "R11: serials" in "".join(outcomes)
    blocks = backend.execute(
        "SELECT count(*) FROM "
        + (
            "ledger_serial_blocks"
            if backend.schema is None
            else f"{backend.schema}.ledger_serial_blocks"
        )
    )
    assert blocks[0][0] == ROUNDS
