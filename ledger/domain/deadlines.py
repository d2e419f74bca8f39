"""R10 deadlines, reported as met, pending, due soon or missed against a given day.

Rules:
- A deadline is met when done on or before its due day, missed when done late or not done
  after its due day, due soon when not done and at most ``soon`` (default 30 days) away, and
  pending otherwise.
- "Within N months/years after a day" keeps the day of month; when that month is shorter, the
  last day of the month (29 February + 1 year = 28 February).
- The day to judge against is always passed in (an injected clock), never read here.
"""

from __future__ import annotations

import calendar
import datetime
import enum

import attrs

__all__ = ["SOON", "Deadline", "DeadlineState", "add_months"]

SOON = datetime.timedelta(days=30)


class DeadlineState(enum.StrEnum):
    """Where a deadline stands."""

    MET = "met"
    PENDING = "pending"
    DUE_SOON = "due soon"
    MISSED = "missed"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


@attrs.frozen
class Deadline:
    """One R10 deadline: what must be done, by when, and when it was done (if it was)."""

    what: str
    due: datetime.date
    done: datetime.date | None = None
    rule: str = "R10"

    def state(self, today: datetime.date, soon: datetime.timedelta = SOON) -> DeadlineState:
        """The deadline's state on ``today``."""
        if self.done is not None:
            return DeadlineState.MET if self.done <= self.due else DeadlineState.MISSED
        if today > self.due:
            return DeadlineState.MISSED
        if self.due - today <= soon:
            return DeadlineState.DUE_SOON
        return DeadlineState.PENDING
