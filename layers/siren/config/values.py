"""Readers of the values several sections share: names, contacts, time zones, local times."""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from siren.config.fields import SERVICE_NAME, Field
from siren.domain.validation import EMAIL, shown

if TYPE_CHECKING:
    from siren.domain.policy import SirenConfig

_REFERENCE_SECTIONS: Final = {
    "user": "users",
    "schedule": "schedules",
    "escalation policy": "escalation_policies",
    "service": "services",
}

E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")


_MINUTES_A_DAY: Final = 24 * 60


def check_name(entry: Field, name: str, kind: str) -> None:
    if not SERVICE_NAME.fullmatch(name):
        entry.problem(
            f'{kind} names are lowercase letters, digits, "-" and "_", starting with a letter or digit'
            f" (got {shown(name)})",
            at_key=True,
        )


def read_references(given: Field, kind: str) -> tuple[str, ...] | None:
    if not given.exists:
        return None
    names: list[str] = []
    for item in given.items():
        name = item.string()
        if name is not None:
            item.refers_to(kind, name)
            names.append(name)
    return tuple(names)


def check_references(root: Field, config: SirenConfig) -> None:
    known: dict[str, Mapping[str, object]] = {
        "user": config.users,
        "schedule": config.schedules,
        "escalation policy": config.escalation_policies,
        "service": config.services,
    }
    for kind, name, where in root.references:
        names = known[kind]
        if name not in names:
            close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.65)
            hint = f'did you mean "{close[0]}"?' if close else f"not in {_REFERENCE_SECTIONS[kind]}"
            where.problem(f"unknown {kind} {shown(name)} ({hint})")


def read_phone(given: Field) -> str | None:
    value = given.value
    if isinstance(value, int) and not isinstance(value, bool):
        given.problem(f'must be a phone number in quotes, such as "+{value}" (YAML reads it unquoted as a number)')
        return None
    phone = given.string()
    if phone is not None and not E164.fullmatch(phone):
        given.problem(
            f'must be an E.164 phone number: "+", the country code and the number, no spaces (got {shown(phone)})'
        )
        return None
    return phone


def read_email(given: Field) -> str | None:
    email = given.string()
    if email is not None and not EMAIL.fullmatch(email):
        given.problem(f"must be an email address such as alice@example.com (got {shown(email)})")
        return None
    return email


def read_time_zone(given: Field, *, required: bool = False) -> str | None:
    if required and not given.exists:
        given.problem('required: an IANA time zone such as "America/New_York"')
        return None
    name = given.string()
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        given.problem(f'must be an IANA time zone such as "America/New_York" or "UTC" (got {shown(name)})')
        return None
    return name


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return False
    return True


def read_clock_time(given: Field) -> time | None:
    if not given.exists:
        return None
    text = given.string()
    if text is None:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        given.problem(f'must be a time of day such as "18:00" (got {shown(text)})')
        return None


def read_local_datetime(given: Field) -> datetime | None:
    """A wall-clock date-time: "2026-01-05T09:00" (YAML may have made a datetime or a date of it already)."""
    if not given.exists:
        return None
    value = given.value
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        given.problem(f'must be a local date-time such as "2026-01-05T09:00" (got {shown(given.value)})')
        return None
    if value.tzinfo is not None:
        given.problem("must be a local date-time without an offset: it is read in the schedule's time_zone")
        return None
    return value


def read_time_of_day(given: Field) -> time | None:
    value = given.value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MINUTES_A_DAY:
        hours, minutes = divmod(value, 60)
        given.problem(
            f'must be a time of day in quotes, such as "{hours:02}:{minutes:02}" (YAML reads it unquoted as the'
            f" number {value})"
        )
        return None
    text = given.string()
    if text is None:
        return None
    try:
        moment = time.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is not None:
        given.problem(f'must be a time of day such as "09:00" (got {shown(text)})')
        return None
    return moment
