"""An independent, brute-force reading of the vendors' schedules: who is on call at an instant.

Written from the vendors' documented shapes, without the importer's or Siren's arithmetic, so that the recorded
exports' final schedules (rendered by :func:`render`) and Siren's answers on the imported config can be checked
against each other. Slow on purpose: every turn boundary is counted from the rotation's start, every restriction
window is tried on every recent local day.

Semantics (the vendors' documented behaviour): turns of whole days (PagerDuty) or daily/weekly rotations
(Opsgenie) hand off at the same local time each day, across DST; hourly turns count real time; a restriction is a
window of local wall-clock time; overrides win over every layer (PagerDuty: the later-starting override where two
overlap); PagerDuty's first listed layer wins over the later ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

_DAY = timedelta(days=1)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _local(naive: datetime, zone: ZoneInfo) -> datetime:
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _turn(start: datetime, length: timedelta, wall: bool, zone: ZoneInfo, at: datetime) -> int:
    """The index of the turn covering ``at`` (counting boundaries one by one from the rotation's start)."""
    if not wall:
        return (at - start) // length
    local_start = start.astimezone(zone).replace(tzinfo=None)
    index = 0
    while _local(local_start + (index + 1) * length, zone) <= at:
        index += 1
    return index


def _in_window(at: datetime, zone: ZoneInfo, start: time, length: timedelta, on_day: Callable[[int], bool]) -> bool:
    today = at.astimezone(zone).date()
    for back in range(9):
        day = today - back * _DAY
        if on_day(day.weekday()):
            opens = datetime.combine(day, start)
            if _local(opens, zone) <= at < _local(opens + length, zone):
                return True
    return False


# ---- PagerDuty ----------------------------------------------------------------------------------------------


def pagerduty_on_call(schedule: dict[str, Any], overrides: Sequence[dict[str, Any]], at: datetime) -> str | None:
    """The PagerDuty user id on call at ``at``."""
    zone = ZoneInfo(schedule["time_zone"])
    covering = [o for o in overrides if parse(o["start"]) <= at < parse(o["end"])]
    if covering:
        return str(max(covering, key=lambda o: parse(o["start"]))["user"]["id"])
    for layer in schedule["schedule_layers"]:  # the first listed layer wins
        if at < parse(layer["start"]) or (layer["end"] and at >= parse(layer["end"])):
            continue
        if layer["restrictions"] and not any(_pd_restricted_in(r, zone, at) for r in layer["restrictions"]):
            continue
        length = timedelta(seconds=layer["rotation_turn_length_seconds"])
        index = _turn(parse(layer["rotation_virtual_start"]), length, not length % _DAY, zone, at)
        users = layer["users"]
        return str(users[index % len(users)]["user"]["id"])
    return None


def _pd_restricted_in(restriction: dict[str, Any], zone: ZoneInfo, at: datetime) -> bool:
    start = time.fromisoformat(restriction["start_time_of_day"])
    length = timedelta(seconds=restriction["duration_seconds"])
    if restriction["type"] == "daily_restriction":
        return _in_window(at, zone, start, length, lambda weekday: True)
    iso_day = restriction["start_day_of_week"]
    return _in_window(at, zone, start, length, lambda weekday: weekday + 1 == iso_day)


# ---- Opsgenie -----------------------------------------------------------------------------------------------


def opsgenie_on_call(schedule: dict[str, Any], overrides: Sequence[dict[str, Any]], at: datetime) -> set[str]:
    """The Opsgenie user ids on call at ``at`` (every rotation that has someone: Opsgenie pages them all)."""
    zone = ZoneInfo(schedule["timezone"])
    covering = [o for o in overrides if parse(o["startDate"]) <= at < parse(o["endDate"])]
    if covering:
        return {str(max(covering, key=lambda o: parse(o["startDate"]))["user"]["id"])}
    people: set[str] = set()
    for rotation in schedule["rotations"]:
        if at < parse(rotation["startDate"]) or (rotation.get("endDate") and at >= parse(rotation["endDate"])):
            continue
        if rotation.get("timeRestriction") and not _og_restricted_in(rotation["timeRestriction"], zone, at):
            continue
        unit = {"hourly": timedelta(hours=1), "daily": _DAY, "weekly": 7 * _DAY}[rotation["type"]]
        length = unit * rotation.get("length", 1)
        index = _turn(parse(rotation["startDate"]), length, rotation["type"] != "hourly", zone, at)
        participant = rotation["participants"][index % len(rotation["participants"])]
        if participant["type"] == "user":
            people.add(participant["id"])
    return people


def _og_restricted_in(restriction: dict[str, Any], zone: ZoneInfo, at: datetime) -> bool:
    if restriction["type"] == "time-of-day":
        window = restriction["restriction"]
        start, end = time(window["startHour"], window["startMin"]), time(window["endHour"], window["endMin"])
        length = datetime.combine(datetime.min, end) - datetime.combine(datetime.min, start)
        length = length if length > timedelta(0) else length + _DAY
        return _in_window(at, zone, start, length, lambda weekday: True)
    for window in restriction["restrictions"]:
        first, last = _WEEKDAYS.index(window["startDay"]), _WEEKDAYS.index(window["endDay"])
        opens = timedelta(days=first, hours=window["startHour"], minutes=window["startMin"])
        closes = timedelta(days=last, hours=window["endHour"], minutes=window["endMin"])
        length = (closes - opens) % (7 * _DAY) or 7 * _DAY
        start = time(window["startHour"], window["startMin"])
        if _in_window(at, zone, start, length, _on(first)):
            return True
    return False


def _on(first: int) -> Callable[[int], bool]:
    return lambda weekday: weekday == first


# ---- rendering a final schedule -----------------------------------------------------------------------------


def render(
    on_call: Callable[[datetime], str | None], since: datetime, until: datetime, step: timedelta
) -> list[tuple[datetime, datetime, str]]:
    """(start, end, user) entries over [since, until), stepping ``step`` (every boundary must fall on a step)."""
    entries: list[tuple[datetime, datetime, str]] = []
    moment = since
    while moment < until:
        user = on_call(moment)
        if user is not None:
            if entries and entries[-1][2] == user and entries[-1][1] == moment:
                entries[-1] = (entries[-1][0], moment + step, user)
            else:
                entries.append((moment, moment + step, user))
        moment += step
    return entries
