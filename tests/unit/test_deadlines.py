"""R10 deadlines and the date arithmetic behind them."""

from __future__ import annotations

import datetime

import pytest

from ledger.domain.deadlines import Deadline, DeadlineState, add_months

D = datetime.date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 6, 30), 6, D(2026, 12, 30)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2026, 11, 15), 24, D(2028, 11, 15)),
    ],
)
def test_months_are_added_on_the_calendar_clamped_to_the_month_end(
    day: datetime.date, months: int, expected: datetime.date
) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("done", "today", "state"),
    [
        (D(2027, 5, 1), D(2030, 1, 1), DeadlineState.MET),
        (D(2027, 6, 1), D(2030, 1, 1), DeadlineState.MET),
        (D(2027, 6, 2), D(2030, 1, 1), DeadlineState.MISSED),
        (None, D(2027, 1, 1), DeadlineState.PENDING),
        (None, D(2027, 5, 2), DeadlineState.DUE_SOON),
        (None, D(2027, 6, 1), DeadlineState.DUE_SOON),
        (None, D(2027, 6, 2), DeadlineState.MISSED),
    ],
)
def test_a_deadline_is_met_pending_due_soon_or_missed(
    done: datetime.date | None, today: datetime.date, state: DeadlineState
) -> None:
    assert Deadline("application filed", D(2027, 6, 1), done).state(today) is state
