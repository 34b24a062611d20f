"""Text every rendering shares: times and days spelled the same way everywhere, whatever the process locale."""

from __future__ import annotations

from datetime import UTC, date, datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive time is taken to be UTC already."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def display_day(day: date) -> str:
    """'27 Nov 2026': month names are spelled here, not by the process locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def display_time(at: datetime) -> str:
    """'27 Nov 2026, 03:15 UTC'."""
    moment = utc(at)
    return f"{display_day(moment.date())}, {moment:%H:%M} UTC"


def iso_utc(at: datetime) -> str:
    """'2026-11-27T03:15:00Z': RFC 3339 in UTC, to the second (Atom, <time datetime>)."""
    return f"{utc(at):%Y-%m-%dT%H:%M:%SZ}"
