"""On-call schedules: rotation layers, the windows a restricted layer covers, and overrides."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from siren.domain.policy.serialization import KEY, PolicyPart


class Rotation(enum.StrEnum):
    DAILY = "daily"  # hands off at the handoff's local time every day (a shift is 23 or 25 hours across DST)
    WEEKLY = "weekly"  # the same, every 7 days
    CUSTOM = "custom"  # every length_hours hours of real elapsed time


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday 0 to Sunday 6, as :meth:`datetime.date.weekday`."""
        return list(Weekday).index(self)


ROTATION_HOURS: Final[Mapping[Rotation, int]] = {Rotation.DAILY: 24, Rotation.WEEKLY: 168}


@dataclass(frozen=True, slots=True)
class Restriction(PolicyPart):
    """A window of local time, starting on each of ``days``, during which a restricted layer has someone.

    A window whose end is not after its start ends on the next day ("22:00" to "06:00"); start == end is 24 hours.
    """

    start: time
    end: time
    days: tuple[Weekday, ...] = tuple(Weekday)


@dataclass(frozen=True, slots=True)
class ScheduleLayer(PolicyPart):
    """A rotation: ``participants`` take turns, one shift each, from ``handoff`` on."""

    name: str
    rotation: Rotation
    handoff: datetime  # naive: a wall-clock time in the schedule's time zone, the start of the first shift
    participants: tuple[str, ...]  # user ids, in turn order
    length_hours: int | None = None  # custom rotations only
    restrict: tuple[Restriction, ...] | None = None  # None: the layer covers all the time


@dataclass(frozen=True, slots=True)
class Override(PolicyPart):
    """``user`` replaces whoever is on call from ``start`` (inclusive) to ``end`` (exclusive)."""

    user: str
    start: datetime  # naive, local to the schedule's time zone
    end: datetime


@dataclass(frozen=True, slots=True)
class Schedule(PolicyPart):
    """Layers in order, later ones over earlier ones where they have someone; overrides over every layer."""

    name: str = field(metadata=KEY)
    time_zone: str  # IANA; handoffs, restrictions and overrides are wall-clock times here
    layers: tuple[ScheduleLayer, ...] = ()
    overrides: tuple[Override, ...] = ()  # a later override wins over an earlier one where they overlap

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)
