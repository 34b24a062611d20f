"""Who is on call: the pure calculator behind paging, ``siren oncall`` and the schedule views.

A schedule (:class:`siren.domain.policy.Schedule`) is a stack of rotation layers plus overrides. Each layer hands off
at its handoff's wall-clock time in the schedule's zone, every day or week (so a shift across a DST change is 23
or 25 hours long), or every ``length_hours`` of real time for a custom rotation; a restricted layer has nobody
outside its windows. Where several layers have someone, the last layer wins; an override wins over every layer.

Two readings, one model: :func:`on_call` answers for one instant, :func:`shifts` lays out a window. They share
the boundary arithmetic below, and the property tests check that they always agree.

Wall-clock times a DST change skips are read with the offset in force before the change (02:30 on the morning
clocks go forward is 03:30 new time); wall-clock times that happen twice are read as the first of the two.
All instants returned are aware datetimes in UTC. Arithmetic is done in UTC on purpose: Python compares and
subtracts two datetimes of the same tzinfo by their wall-clock fields, which is wrong across a DST change.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from siren.domain.policy import Restriction, Rotation, Schedule, ScheduleLayer, TargetKind

if TYPE_CHECKING:
    from siren.domain.policy import SirenConfig, Target

_DAY: Final = timedelta(days=1)
SHIFT_HORIZON: Final = timedelta(days=28)  # how far shift_at looks either side by default
_PERIOD: Final = {Rotation.DAILY: timedelta(days=1), Rotation.WEEKLY: timedelta(days=7)}


@dataclass(frozen=True, slots=True)
class Shift:
    """``user`` is on call from ``start`` (inclusive) to ``end`` (exclusive); aware datetimes in UTC."""

    user: str
    start: datetime
    end: datetime


def on_call(schedule: Schedule, at: datetime) -> str | None:
    """The user on call at the aware instant ``at``; None when nobody is."""
    moment = _utc(at, "at")
    zone = schedule.zone
    for override in reversed(schedule.overrides):
        if _instant(override.start, zone) <= moment < _instant(override.end, zone):
            return override.user
    for layer in reversed(schedule.layers):
        user = _layer_user_at(layer, zone, moment)
        if user is not None:
            return user
    return None


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call over [start, end), in order: layers and overrides applied, clipped to the window.

    Consecutive shifts of the same user are merged into one; the times nobody is on call are left out.
    """
    window_start, window_end = _utc(start, "start"), _utc(end, "end")
    if window_end <= window_start:
        return []
    zone = schedule.zone
    stack = [_layer_spans(layer, zone, window_start, window_end) for layer in schedule.layers]
    for override in schedule.overrides:
        span_start = max(_instant(override.start, zone), window_start)
        span_end = min(_instant(override.end, zone), window_end)
        stack.append([_Span(span_start, span_end, override.user)] if span_start < span_end else [])
    lookups = [_SpanLookup(spans) for spans in stack if spans]

    breakpoints = sorted({window_start, window_end, *(t for spans in stack for s in spans for t in (s.start, s.end))})
    result: list[Shift] = []
    for segment_start, segment_end in pairwise(breakpoints):
        user = next((u for lookup in reversed(lookups) if (u := lookup.user_at(segment_start)) is not None), None)
        if user is None:
            continue
        if result and result[-1].user == user and result[-1].end == segment_start:
            result[-1] = Shift(user, result[-1].start, segment_end)
        else:
            result.append(Shift(user, segment_start, segment_end))
    return result


def shift_at(schedule: Schedule, at: datetime, *, horizon: timedelta = SHIFT_HORIZON) -> Shift | None:
    """The (merged) shift that covers ``at``, looking no further than ``horizon`` either side.

    A shift that reaches the horizon is clipped to it: its end is then "not before", not the handoff.
    """
    moment = _utc(at, "at")
    return next(
        (shift for shift in shifts(schedule, moment - horizon, moment + horizon) if shift.start <= moment < shift.end),
        None,
    )


def resolve_targets(targets: Iterable[Target], config: SirenConfig, at: datetime) -> list[str]:
    """The users an escalation level pages at ``at``: each schedule's on-call user and each user, once, in order.

    A schedule with nobody on call at ``at`` adds nobody.
    """
    users: dict[str, None] = {}
    for target in targets:
        if target.kind is TargetKind.USER:
            users.setdefault(target.name)
        else:
            user = on_call(config.schedules[target.name], at)
            if user is not None:
                users.setdefault(user)
    return list(users)


def first_responders(severity: str, config: SirenConfig, at: datetime) -> list[str]:
    """Who an incident of ``severity`` opened at ``at`` is paged to first: its escalation policy's first level and,
    for the severities that mobilize them, the incident commander and the communications lead. None without a
    policy (a configuration that pages nobody for it)."""
    try:
        levels = config.policy_for_severity(severity).levels
    except LookupError:
        levels = ()
    targets = list(levels[0].targets) if levels else []
    roles = config.roles
    if roles is not None and severity in roles.severities:
        targets.extend(target for target in (roles.commander, roles.comms) if target is not None)
    return resolve_targets(targets, config, at)


# ---- one layer --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Span:
    start: datetime
    end: datetime
    user: str


class _SpanLookup:
    """Who a layer has at an instant, from its sorted, non-overlapping spans."""

    def __init__(self, spans: Sequence[_Span]) -> None:
        self._spans = spans
        self._starts = [span.start for span in spans]

    def user_at(self, moment: datetime) -> str | None:
        index = bisect_right(self._starts, moment) - 1
        if index >= 0 and moment < self._spans[index].end:
            return self._spans[index].user
        return None


class _Handoffs:
    """The instants a layer's shifts start at: shift ``k`` runs from ``boundary(k)`` to ``boundary(k + 1)``."""

    def __init__(self, layer: ScheduleLayer, zone: ZoneInfo) -> None:
        self._layer = layer
        self._zone = zone
        self.first = _instant(layer.handoff, zone)
        self._length = None if layer.length_hours is None else timedelta(hours=layer.length_hours)

    def boundary(self, index: int) -> datetime:
        if self._layer.rotation is Rotation.CUSTOM:
            assert self._length is not None, "custom rotations have a length (validated)"
            return self.first + index * self._length
        return _instant(self._layer.handoff + index * _PERIOD[self._layer.rotation], self._zone)

    def index_at(self, moment: datetime) -> int | None:
        """The shift that covers ``moment``; None before the first handoff."""
        if moment < self.first:
            return None
        if self._length is not None:
            return (moment - self.first) // self._length
        # The wall-clock estimate is off by at most one shift near a DST change: step to the exact one.
        local = moment.astimezone(self._zone).replace(tzinfo=None)
        index = max((local - self._layer.handoff) // _PERIOD[self._layer.rotation], 0)
        while self.boundary(index + 1) <= moment:
            index += 1
        while index > 0 and self.boundary(index) > moment:
            index -= 1
        return index

    def user(self, index: int) -> str:
        participants = self._layer.participants
        return participants[index % len(participants)]


def _layer_user_at(layer: ScheduleLayer, zone: ZoneInfo, moment: datetime) -> str | None:
    handoffs = _Handoffs(layer, zone)
    index = handoffs.index_at(moment)
    if index is None:
        return None
    if layer.restrict is not None and not any(
        start <= moment < end for start, end in _windows(layer.restrict, zone, moment, moment)
    ):
        return None
    return handoffs.user(index)


def _layer_spans(layer: ScheduleLayer, zone: ZoneInfo, start: datetime, end: datetime) -> list[_Span]:
    handoffs = _Handoffs(layer, zone)
    index = handoffs.index_at(start) or 0
    spans: list[_Span] = []
    while (shift_start := handoffs.boundary(index)) < end:
        span_start, span_end = max(shift_start, start), min(handoffs.boundary(index + 1), end)
        if span_start < span_end:
            spans.append(_Span(span_start, span_end, handoffs.user(index)))
        index += 1
    if layer.restrict is None:
        return spans
    windows = _merged(_windows(layer.restrict, zone, start, end))
    return [
        _Span(max(span.start, window_start), min(span.end, window_end), span.user)
        for span in spans
        for window_start, window_end in windows
        if window_start < span.end and span.start < window_end
    ]


def _windows(
    restrictions: Sequence[Restriction], zone: ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Every restriction window that can touch [start, end] (unsorted, may overlap), as UTC instants."""
    # A window starts on a local day and lasts at most 24 hours (a little more or less across DST).
    day = start.astimezone(zone).date() - 2 * _DAY
    last_day = end.astimezone(zone).date() + _DAY
    while day <= last_day:
        for restriction in restrictions:
            if any(weekday.number == day.weekday() for weekday in restriction.days):
                window = _window(restriction, day, zone)
                if window[0] < window[1]:  # a window that a DST change swallows has no time
                    yield window
        day += _DAY


def _window(restriction: Restriction, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    end_day = day if restriction.end > restriction.start else day + _DAY
    return (
        _instant(datetime.combine(day, restriction.start), zone),
        _instant(datetime.combine(end_day, restriction.end), zone),
    )


def _merged(windows: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for window_start, window_end in sorted(windows):
        if merged and window_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], window_end))
        else:
            merged.append((window_start, window_end))
    return merged


# ---- time -------------------------------------------------------------------------------------------------


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as a UTC instant (see the module docstring for skipped and repeated times)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), got {moment.isoformat()}")
    return moment.astimezone(UTC)
