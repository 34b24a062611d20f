"""Reading a moment that a person typed (``siren oncall --at``, a report's period)."""

from __future__ import annotations

from datetime import datetime


def aware_moment(text: str, *, unreadable: str, naive: str, error: type[Exception] = ValueError) -> datetime:
    """``text`` as an ISO 8601 time with its offset (``Z`` or ``+01:00``). A time without one is refused, not read
    in some zone: schedules, responders and reports are each in their own, and a guess would be silently wrong.
    ``unreadable`` and ``naive`` are the caller's messages for the two refusals, raised as ``error``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise error(unreadable) from None
    if moment.tzinfo is None:
        raise error(naive)
    return moment
