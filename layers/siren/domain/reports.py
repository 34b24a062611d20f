"""Leadership reports: one period's incidents, response times, on-call load and action items, against the period
of the same length just before it.

Pure: no I/O, and the clock is passed in (``now``, ``today``). The caller streams facts out of the store
(IncidentFacts, PageFacts, EscalationFacts, and the store's own ActionItemRecord) into a ReportBuilder, which
aggregates them as they come: it keeps counters and duration sketches per severity, per service and per responder,
never the incidents themselves, so a year of incidents takes the memory of a week's. Counts and means are exact;
medians and 90th percentiles come from DurationSketch (siren.domain.durations) and are within 1% of the exact ones.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from siren.domain.durations import DurationSketch
from siren.domain.records import ActionItemRecord
from siren.domain.times import aware_moment

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_PERIOD_DAYS = 3660  # ten years and change: "Nd" beyond this is a typo, not a report
NO_DATA = "\u2013"  # en dash: nothing to compare
MINUS = "\u2212"  # a real minus sign, as wide as the plus sign in a column of figures


class ReportError(ValueError):
    """A report cannot be made as asked (a period that cannot be parsed, is empty, or lies in the future)."""


def _moment(at: datetime) -> str:
    return at.isoformat(timespec="minutes")


# -- the period --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Period:
    """The half-open interval [start, end) of a report; both ends carry a time zone."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ReportError("a period's start and end need a time zone (an offset or an IANA zone)")
        if self.end < self.start:
            raise ReportError(f"the period ends ({_moment(self.end)}) before it starts ({_moment(self.start)})")
        if self.end == self.start:
            raise ReportError(f"the period is empty: it starts and ends at {_moment(self.start)}")

    @property
    def length(self) -> timedelta:
        """Elapsed time, in UTC: a period across a DST change is an hour longer or shorter on the wall clock."""
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def previous(self) -> Period:
        """The period of the same elapsed length that ends where this one starts, in this one's time zone."""
        start = (self.start.astimezone(UTC) - self.length).astimezone(self.start.tzinfo)
        return Period(start, self.start)

    @property
    def label(self) -> str:
        """'20-27 Nov 2026', '28 Nov - 4 Dec 2026', '28 Dec 2026 - 3 Jan 2027' or '27 Nov 2026' (with en dashes):
        the days it touches in the start's time zone (the end is exclusive, so a period ending at midnight stops
        the day before)."""
        first = self.start.date()
        last = (self.end.astimezone(self.start.tzinfo) - timedelta(microseconds=1)).date()
        if first == last:
            return f"{first.day} {_MONTHS[first.month - 1]} {first.year}"
        if (first.year, first.month) == (last.year, last.month):
            return f"{first.day}\u2013{last.day} {_MONTHS[last.month - 1]} {last.year}"
        if first.year == last.year:
            return f"{first.day} {_MONTHS[first.month - 1]} \u2013 {last.day} {_MONTHS[last.month - 1]} {last.year}"
        return (
            f"{first.day} {_MONTHS[first.month - 1]} {first.year} \u2013 "
            f"{last.day} {_MONTHS[last.month - 1]} {last.year}"
        )


_DAYS = re.compile(r"(\d{1,9})d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_USAGE = "use 7d, 30d (any number of days), or FROM..TO with dates (2026-11-01..2026-11-30) or ISO times with an offset"


def _endpoint(text: str, tz: ZoneInfo, *, inclusive_date: bool) -> tuple[datetime, bool]:
    """A FROM or TO as a moment, and whether it was a date. A date is midnight in ``tz``; as TO it is inclusive,
    so it stands for the next midnight."""
    if _DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ReportError(f"{text!r} is not a date") from None
        if inclusive_date:
            day += timedelta(days=1)
        return datetime(day.year, day.month, day.day, tzinfo=tz), True
    unreadable = f"cannot read {text!r} as a date or an ISO time: {_USAGE}"
    naive = f"{text!r} needs a UTC offset, such as {text}Z or {text}+01:00"
    return aware_moment(text, unreadable=unreadable, naive=naive, error=ReportError), False


def parse_period(text: str, now: datetime, tz: ZoneInfo) -> Period:
    """``7d``/``30d`` (the N days up to ``now``) or ``FROM..TO``. FROM and TO are dates (YYYY-MM-DD, midnight in
    ``tz``, TO inclusive) or ISO times with an offset (TO exclusive). The period is returned in ``tz``.

    A period must lie in the past: a TO after today (a date) or after ``now`` (a time) is refused, as is a FROM at
    or after ``now``; a TO of today ends the period at ``now``, so "up to today" works on any day."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    given = text.strip()
    if days := _DAYS.fullmatch(given.lower()):
        count = int(days[1])
        if not 1 <= count <= MAX_PERIOD_DAYS:
            raise ReportError(f"a period of days is 1d to {MAX_PERIOD_DAYS}d (got {given})")
        end = now.astimezone(UTC)
        return Period((end - timedelta(days=count)).astimezone(tz), end.astimezone(tz))
    parts = given.split("..")
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise ReportError(f"cannot read the period {given!r}: {_USAGE}")
    from_text, to_text = (part.strip() for part in parts)
    start, _ = _endpoint(from_text, tz, inclusive_date=False)
    end, to_is_date = _endpoint(to_text, tz, inclusive_date=True)
    if end <= start:
        # Named as written: "ends (2026-11-20)" reads better than the exclusive midnight after it.
        raise ReportError(f"the period ends ({to_text}) before it starts ({from_text})")
    if to_is_date and end.date() - timedelta(days=1) > now.astimezone(tz).date():
        raise ReportError(f"the period ends ({to_text}) after today ({now.astimezone(tz).date().isoformat()})")
    if not to_is_date and end > now:
        raise ReportError(f"the period ends ({to_text}) after now ({_moment(now.astimezone(tz))})")
    if start >= now:
        raise ReportError(f"the period starts ({from_text}) after now ({_moment(now.astimezone(tz))})")
    return Period(start.astimezone(tz), min(end, now).astimezone(tz))


# -- facts ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IncidentFacts:
    id: str
    severity: str
    service: str
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class PageFacts:
    """One page sent to one person (sms, voice or email): siren.domain.pages.as_page says what is one."""

    at: datetime
    user: str
    time_zone: str  # the responder's own IANA zone: off-hours are theirs, not the report's
    incident_id: str
    channel: str


@dataclass(frozen=True, slots=True)
class EscalationFacts:
    """The highest escalation level an incident reached (1-based: 2 or more means it escalated)."""

    incident_id: str
    level: int


@dataclass(frozen=True, slots=True)
class OffHours:
    """When a page costs someone their evening, night or weekend, on their own clock.

    ``start`` > ``end`` wraps midnight (18:00 to 08:00: at or after 18:00, or before 08:00); otherwise the window
    is [start, end) within a day, and start == end means no off-hours by the clock (weekends still count)."""

    start: time = time(18, 0)
    end: time = time(8, 0)
    weekend: bool = True

    def includes(self, at: datetime, zone: ZoneInfo) -> bool:
        local = at.astimezone(zone)
        if self.weekend and local.weekday() >= 5:
            return True
        clock = local.time().replace(tzinfo=None)
        if self.start > self.end:
            return clock >= self.start or clock < self.end
        return self.start <= clock < self.end


def _zone(name: str) -> ZoneInfo:
    """The responder's zone; UTC when the name is not one (the configuration validates zones, so this only keeps a
    report from failing over one stale user record)."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """A duration metric over some incidents, in seconds; the figures are None when ``count`` is 0."""

    count: int
    mean_s: float | None
    median_s: float | None
    p90_s: float | None

    @classmethod
    def of(cls, sketch: DurationSketch) -> DurationSummary:
        return cls(sketch.count, sketch.mean, sketch.quantile(0.5), sketch.quantile(0.9))


EMPTY_SUMMARY = DurationSummary(0, None, None, None)


# -- the numbers of one period ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PeriodMetrics:
    """What a report says about one period. Mappings are ordered for display: severities by name, services and
    responders by count (largest first), then name."""

    period: Period
    off_hours: OffHours
    incidents: int
    by_severity: Mapping[str, int]
    by_service: Mapping[str, int]
    mtta: DurationSummary
    mttr: DurationSummary
    mtta_by_severity: Mapping[str, DurationSummary]
    mttr_by_severity: Mapping[str, DurationSummary]
    mtta_by_service: Mapping[str, DurationSummary]
    mttr_by_service: Mapping[str, DurationSummary]
    escalated_incidents: int
    pages: Mapping[str, int]  # responder -> pages sent to them in the period
    off_hours_pages: Mapping[str, int]  # responder -> those of them off-hours (responders with none are left out)
    chat_posts: int  # posts to the team's chat channel: not pages (nobody in particular is notified)
    # Action items are a backlog, not an event of the period: both are as of ``as_of`` (the report's day).
    open_action_items: int
    overdue_action_items: tuple[ActionItemRecord, ...]  # by due date, oldest first
    action_items_done: int  # completed within the period
    as_of: date

    @property
    def pages_total(self) -> int:
        return sum(self.pages.values())

    @property
    def off_hours_total(self) -> int:
        return sum(self.off_hours_pages.values())


def _by_count(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class ReportBuilder:
    """Aggregates one period's facts as they are streamed in; memory grows with the number of distinct
    severities, services and responders, not with incidents or pages."""

    __slots__ = (
        "_by_service",
        "_by_severity",
        "_chat_posts",
        "_escalated",
        "_mtta",
        "_mtta_by_service",
        "_mtta_by_severity",
        "_mttr",
        "_mttr_by_service",
        "_mttr_by_severity",
        "_off_hours",
        "_off_hours_pages",
        "_pages",
        "period",
    )

    def __init__(self, period: Period, off_hours: OffHours | None = None) -> None:
        self.period = period
        self._off_hours = off_hours or OffHours()
        self._by_severity: Counter[str] = Counter()
        self._by_service: Counter[str] = Counter()
        self._mtta = DurationSketch()
        self._mttr = DurationSketch()
        self._mtta_by_severity: dict[str, DurationSketch] = {}
        self._mttr_by_severity: dict[str, DurationSketch] = {}
        self._mtta_by_service: dict[str, DurationSketch] = {}
        self._mttr_by_service: dict[str, DurationSketch] = {}
        self._escalated = 0
        self._pages: Counter[str] = Counter()
        self._off_hours_pages: Counter[str] = Counter()
        self._chat_posts = 0

    def add_incident(self, facts: IncidentFacts) -> None:
        """Counts an incident opened in the period (others are ignored). Its time to acknowledge and to resolve
        count where they exist; a negative one (a clock skewed between writers) is left out of that metric only."""
        if not self.period.contains(facts.opened_at):
            return
        self._by_severity[facts.severity] += 1
        self._by_service[facts.service] += 1
        for until, overall, by_severity, by_service in (
            (facts.acknowledged_at, self._mtta, self._mtta_by_severity, self._mtta_by_service),
            (facts.resolved_at, self._mttr, self._mttr_by_severity, self._mttr_by_service),
        ):
            if until is None or (seconds := (until - facts.opened_at).total_seconds()) < 0:
                continue
            overall.add(seconds)
            by_severity.setdefault(facts.severity, DurationSketch()).add(seconds)
            by_service.setdefault(facts.service, DurationSketch()).add(seconds)

    def add_page(self, page: PageFacts) -> None:
        """Counts a page sent in the period (others are ignored), off-hours by the responder's own clock."""
        if not self.period.contains(page.at):
            return
        self._pages[page.user] += 1
        if self._off_hours.includes(page.at, _zone(page.time_zone)):
            self._off_hours_pages[page.user] += 1

    def add_chat_post(self, at: datetime) -> None:
        """Counts a post to the team's chat channel in the period, apart from pages."""
        if self.period.contains(at):
            self._chat_posts += 1

    def add_escalation(self, facts: EscalationFacts) -> None:
        """Counts an escalated incident (level 2 or more; lower levels are ignored).

        Contract: the caller gives at most ONE EscalationFacts per incident (its highest level), and only for
        incidents of this period. Nothing is kept per incident here, so a second fact for the same incident would
        count it twice: remembering ids would make memory grow with incidents, which this builder avoids."""
        if facts.level >= 2:
            self._escalated += 1

    def finish(self, actions: Iterable[ActionItemRecord], today: date) -> PeriodMetrics:
        """The period's metrics. ``actions`` are all action items (any incident, any age): the open and overdue
        ones are counted as of ``today``, the completed ones when completed within the period."""
        open_items = 0
        done_in_period = 0
        overdue: list[ActionItemRecord] = []
        for item in actions:
            if item.done_at is None:
                open_items += 1
                if item.is_overdue(today):
                    overdue.append(item)
            elif self.period.contains(item.done_at):
                done_in_period += 1
        overdue.sort(key=lambda item: (item.due, item.id))

        def summaries(sketches: dict[str, DurationSketch], order: Iterable[str]) -> dict[str, DurationSummary]:
            return {key: DurationSummary.of(sketches[key]) if key in sketches else EMPTY_SUMMARY for key in order}

        severities = dict(sorted(self._by_severity.items()))
        services = _by_count(self._by_service)
        return PeriodMetrics(
            period=self.period,
            off_hours=self._off_hours,
            incidents=sum(severities.values()),
            by_severity=severities,
            by_service=services,
            mtta=DurationSummary.of(self._mtta),
            mttr=DurationSummary.of(self._mttr),
            mtta_by_severity=summaries(self._mtta_by_severity, severities),
            mttr_by_severity=summaries(self._mttr_by_severity, severities),
            mtta_by_service=summaries(self._mtta_by_service, services),
            mttr_by_service=summaries(self._mttr_by_service, services),
            escalated_incidents=self._escalated,
            pages=_by_count(self._pages),
            off_hours_pages=_by_count(self._off_hours_pages),
            chat_posts=self._chat_posts,
            open_action_items=open_items,
            overdue_action_items=tuple(overdue),
            action_items_done=done_in_period,
            as_of=today,
        )


# -- the report ------------------------------------------------------------------------------------------------
def change(current: float | None, previous: float | None) -> str:
    """The change from ``previous`` to ``current`` in whole percent: '+25%', '-10%' (with MINUS), '0%'; 'new' when
    there was nothing before and is something now; NO_DATA (an en dash) when there is nothing to compare: no data
    now, or none either time."""
    if current is None:
        return NO_DATA
    if not previous:
        return "new" if current else NO_DATA
    percent = (current - previous) / previous * 100
    whole = math.floor(abs(percent) + 0.5)  # half away from zero, not to even: 2.5% reads as 3%
    if whole == 0:
        return "0%"
    return f"+{whole}%" if percent > 0 else f"{MINUS}{whole}%"


@dataclass(frozen=True, slots=True)
class Report:
    current: PeriodMetrics
    previous: PeriodMetrics
    generated_at: datetime
    title: str = "Siren incident report"

    change = staticmethod(change)

    @property
    def is_empty(self) -> bool:
        """Nothing happened in the current period: no incident opened and nobody paged."""
        return self.current.incidents == 0 and self.current.pages_total == 0
