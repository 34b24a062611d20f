"""On-call shifts as an iCalendar (RFC 5545) feed, for ``siren oncall ical``.

Who is on call comes from the domain (:func:`siren.domain.oncall.shifts`, which applies layers, restrictions and
overrides and merges adjacent shifts of one person); this module only chooses the window and writes events.

A calendar app that subscribes to the feed matches events by UID, so the UID of a shift must not depend on when
the feed was exported. It is derived from the schedule, the person and the shift's real start: a shift already
running when the export begins is looked up to its start rather than clipped to "now" (see
:func:`exported_shifts`), and the end is left out of the UID, so a shift shortened by a later override keeps its
UID and the calendar updates it in place. Kept out of the Lambda layer: only the CLI writes calendars.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from icalendar import Calendar, Event

from siren.domain.oncall import SHIFT_HORIZON, Shift, shifts

if TYPE_CHECKING:
    from siren.domain.policy import Schedule, SirenConfig

PRODID: Final = "-//Siren//On-call shifts//EN"
# The namespace of every UID Siren writes in a calendar (drawn once, never to change): UIDs are name-based
# (uuid5), so one shift always gets one UID.
UID_NAMESPACE: Final = uuid.UUID("c282cc2e-15b4-44bb-b4cc-a71de63d1fc8")
# How far past the window a shift's end is looked for before it is shown as ending with the window.
END_LOOKAHEAD: Final = SHIFT_HORIZON


@dataclass(frozen=True, slots=True)
class ExportedShift:
    """A shift of one schedule; ``end_known`` is False when the handoff lies beyond what was computed and the
    shift is shown ending with the exported window instead."""

    schedule: str
    user: str
    start: datetime
    end: datetime
    end_known: bool

    @property
    def uid(self) -> str:
        return str(uuid.uuid5(UID_NAMESPACE, f"{self.schedule}/{self.user}/{self.start.isoformat()}"))


def exported_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[ExportedShift]:
    """The shifts of ``schedule`` that overlap [start, end), each from its real start.

    The domain clips shifts to the window it is asked about, so the window is widened backwards (doubling) until
    the first shift starts inside it, or the window reaches back before anyone can be on call (the schedule's
    earliest handoff or override): that start is then the handoff, not an artefact of the window.
    """
    window_start, window_end = start.astimezone(UTC), end.astimezone(UTC)
    earliest = _earliest_instant(schedule)
    lookback = SHIFT_HORIZON
    while True:
        reach_back = window_start - lookback
        found = shifts(schedule, reach_back, window_end + END_LOOKAHEAD)
        first = next((shift for shift in found if shift.end > window_start), None)
        if first is None or first.start > reach_back or reach_back <= earliest:
            break
        lookback *= 2
    overlapping = (shift for shift in found if shift.start < window_end and window_start < shift.end)
    return [_exported(schedule.name, shift, window_end) for shift in overlapping]


def calendar_shifts(
    config: SirenConfig, start: datetime, end: datetime, *, user: str | None = None, schedule: str | None = None
) -> list[ExportedShift]:
    """Every schedule's shifts over [start, end) (or one schedule's, or one person's across all), by start."""
    names = [schedule] if schedule is not None else list(config.schedules)
    found = [
        shift
        for name in names
        for shift in exported_shifts(config.schedules[name], start, end)
        if user is None or shift.user == user
    ]
    return sorted(found, key=lambda shift: (shift.start, shift.schedule))


def build_calendar(config: SirenConfig, found: list[ExportedShift], *, calendar_name: str, stamp: datetime) -> Calendar:
    """The VCALENDAR of ``found``: one VEVENT per shift, times in UTC, ``stamp`` (the export time) as DTSTAMP."""
    calendar = Calendar.new(
        prodid=PRODID,
        name=calendar_name,
        calscale="GREGORIAN",
        method="PUBLISH",
        # Calendar.new would draw a random UID: the feed's own UID stays put across exports, like its events'.
        uid=str(uuid.uuid5(UID_NAMESPACE, f"calendar/{calendar_name}")),
    )
    for shift in found:
        calendar.add_component(
            Event.new(
                uid=shift.uid,
                stamp=stamp.astimezone(UTC),
                start=shift.start,
                end=shift.end,
                summary=f"On call: {shift.schedule} ({shift.user})",
                description=_description(config, shift),
                categories=["on-call", shift.schedule],
            )
        )
    return calendar


def _description(config: SirenConfig, shift: ExportedShift) -> str:
    person = config.users.get(shift.user)
    zone = config.schedules[shift.schedule].zone
    local_start, local_end = shift.start.astimezone(zone), shift.end.astimezone(zone)
    lines = [
        f"{person.name if person else shift.user} is on call for {shift.schedule}.",
        f"From {local_start:%a %d %b %H:%M} to {local_end:%a %d %b %H:%M} {zone.key} time.",
    ]
    if not shift.end_known:
        lines.append("The shift goes on past the exported period; its handoff is not shown.")
    if person is not None and (contact := ", ".join(filter(None, (person.phone, person.email)))):
        lines.append(f"Contact: {contact}")
    return "\n".join(lines)


def _exported(schedule: str, shift: Shift, window_end: datetime) -> ExportedShift:
    # A shift still going at the end of what was computed has no known handoff: it ends with the exported window.
    end_known = shift.end < window_end + END_LOOKAHEAD
    return ExportedShift(schedule, shift.user, shift.start, shift.end if end_known else window_end, end_known)


def _earliest_instant(schedule: Schedule) -> datetime:
    """A UTC instant before which nobody is on call: a day before the earliest handoff or override start (the day
    covers any offset the zone has, without converting the naive local times here)."""
    local = [layer.handoff for layer in schedule.layers] + [override.start for override in schedule.overrides]
    if not local:
        return datetime.max.replace(tzinfo=UTC)
    return min(local).replace(tzinfo=UTC) - timedelta(days=1)
