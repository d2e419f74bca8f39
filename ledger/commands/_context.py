"""What every command group is given: the store and the clock.

Rules:
- Accounts are the actors with an ``account`` key in the store's key directory; units only go
  to known accounts.
- Dates a caller passes for milestones are never in the future of the injected clock (R10).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import attrs

from ledger.errors import InvalidInputError, NotFoundError
from ledger.store import Store

__all__ = ["Clock", "Context", "utc_now"]

Clock = Callable[[], datetime.datetime]


def utc_now() -> datetime.datetime:
    """The current time in UTC (the default clock)."""
    return datetime.datetime.now(datetime.UTC)


@attrs.frozen
class Context:
    """The store the commands write to and the clock they read the time from."""

    store: Store
    clock: Clock = utc_now

    def today(self) -> datetime.date:
        """Today's date by the injected clock."""
        return self.clock().date()

    def account(self, name: str) -> str:
        """``name`` if it is a known account; else NotFoundError naming R11.

        Units go only to accounts, so that every holder stays traceable (R11).
        """
        roles = sorted({key.role for key in self.store.keys if key.actor == name})
        if "account" in roles:
            return name
        if roles:
            raise NotFoundError(
                f"{name!r} is not an account (its keys have role {', '.join(roles)}); units go"
                " only to accounts",
                rule="R11",
            )
        raise NotFoundError(f"unknown account {name!r}: no account key for it", rule="R11")

    def past(self, on: datetime.date | None) -> datetime.date:
        """``on`` (default today) if it is not in the future (R10)."""
        today = self.today()
        if on is None:
            return today
        if on > today:
            raise InvalidInputError(f"date {on} is in the future (today is {today})", rule="R10")
        return on
