"""The leadership report as an email: a subject, a plain text body and an HTML body, from one Report.

Pure: no I/O and no clock; every time shown comes from the report, so the same report renders to the same bytes.

Mail clients set the rules for the HTML. Gmail and Outlook drop or rewrite style sheets and Outlook on Windows
draws with Word (no max-width, flex, or background images), so the layout is nested tables with inline styles only,
widths given both as attributes (Outlook) and as styles (everyone else), 640px at most. Charts are horizontal bars
made of table cells whose widths are percentages, each next to its figure in words, so a client that drops the
colours still says everything. Nothing is fetched: no images (blocked by default anyway), no fonts, no links to
resources, no script. Long lists are capped so the message stays well under the 102 KB past which Gmail clips it.

Service names, responders, action item titles and owners were typed by people or come from alarms: none is trusted.
The HTML is autoescaped by Jinja2 and every such text is put on one line and shortened first, in both bodies.

The bodies are templates/report/report.html.j2 and report.txt.j2; this module works out what they show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from siren.domain.reports import (
    MINUS,
    NO_DATA,
    DurationSummary,
    OffHours,
    PeriodMetrics,
    Report,
    change,
)
from siren.render.templates import template
from siren.render.text import display_day, display_time

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# How many rows a list shows before it sums up the rest: a report for a large organisation stays readable and
# under Gmail's clipping size.
MAX_SERVICES = 10
MAX_RESPONDERS = 15
MAX_OVERDUE = 50
_NAME_LIMIT = 60
_TITLE_LIMIT = 120

_SEVERITY_COLOURS = {"SEV1": "#b91c1c", "SEV2": "#c2410c", "SEV3": "#a16207", "SEV4": "#1d4ed8", "SEV5": "#475569"}
_DEFAULT_COLOUR = "#1d4ed8"
_MTTA_COLOUR = "#2563eb"
_MTTR_COLOUR = "#7c3aed"
_SERVICE_COLOUR = "#0f766e"
_OFF_HOURS_COLOUR = "#c2410c"
_WORKING_HOURS_COLOUR = "#93c5fd"
_TRACK_COLOUR = "#f4f4f5"
# Every figure here is "less is better": a rise is drawn red, a fall green, and the sign says it in words too.
_WORSE = "#b91c1c"
_BETTER = "#15803d"
_NEUTRAL = "#52525b"


# -- text ------------------------------------------------------------------------------------------------------
def _half_up(value: float) -> int:
    return math.floor(value + 0.5)


def humanize_duration(seconds: float | None) -> str:
    """'45 s', '4 min', '1 h 12 min', '2 d 3 h': two units at most, each rounded; NO_DATA for None."""
    if seconds is None:
        return NO_DATA
    if seconds < 59.5:
        return f"{max(_half_up(seconds), 0)} s"
    minutes = _half_up(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(_half_up(seconds / 3600), 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _one_line(text: str, limit: int = _NAME_LIMIT) -> str:
    """Untrusted text on one line (no control characters to break a column or a header) and at most ``limit``
    characters."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def _name(text: str) -> str:
    return _one_line(text) or "(none)"


def _share(part: int, whole: int) -> str:
    return f"{_half_up(100 * part / whole)}%" if whole else NO_DATA


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _off_hours_text(off_hours: OffHours) -> str:
    clock = f"{off_hours.start:%H:%M}\u2013{off_hours.end:%H:%M}" if off_hours.start != off_hours.end else ""
    weekend = "weekends" if off_hours.weekend else ""
    when = " and ".join(part for part in (clock, weekend) if part) or "never"
    return f"Off-hours: {when}, in each responder's own time zone."


def _tone(text: str) -> str:
    if text.startswith("+") or text == "new":
        return _WORSE
    if text.startswith(MINUS):
        return _BETTER
    return _NEUTRAL


# -- what the templates read -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Headline:
    label: str
    value: str
    previous: str
    change: str
    detail: str = ""

    @property
    def colour(self) -> str:
        return _tone(self.change)


@dataclass(frozen=True, slots=True)
class _Segment:
    width: int  # percent of the bar
    colour: str


@dataclass(frozen=True, slots=True)
class _Row:
    label: str
    segments: tuple[_Segment, ...]
    value: str
    note: str = ""
    label_colour: str = "#18181b"

    @property
    def rest(self) -> int:
        return 100 - sum(segment.width for segment in self.segments)


@dataclass(frozen=True, slots=True)
class _Chart:
    title: str
    rows: tuple[_Row, ...]
    caption: str = ""
    more: str = ""  # what the capped rows add up to
    legend: str = ""  # how to read the bars: the HTML only


@dataclass(frozen=True, slots=True)
class _Overdue:
    id: str
    title: str
    owner: str
    incident_id: str
    due: str
    late: str


def _width(value: float, largest: float) -> int:
    """A bar's share of the track, in whole percent; anything above zero shows at least a sliver."""
    if value <= 0 or largest <= 0:
        return 0
    return min(100, max(1, _half_up(100 * value / largest)))


def _headlines(current: PeriodMetrics, previous: PeriodMetrics) -> list[_Headline]:
    def count(label: str, now: int, before: int, detail: str = "") -> _Headline:
        return _Headline(label, str(now), str(before), change(now, before), detail)

    def duration(label: str, now: DurationSummary, before: DurationSummary, verb: str) -> _Headline:
        detail = (
            f"median {humanize_duration(now.median_s)} \u00b7 90th percentile {humanize_duration(now.p90_s)} "
            f"\u00b7 {now.count} {verb}"
            if now.count
            else f"none {verb}"
        )
        return _Headline(
            label,
            humanize_duration(now.mean_s),
            humanize_duration(before.mean_s),
            change(now.mean_s, before.mean_s),
            detail,
        )

    escalated_detail = (
        f"{_share(current.escalated_incidents, current.incidents)} of incidents" if current.incidents else ""
    )
    off_detail = f"{_share(current.off_hours_total, current.pages_total)} of pages" if current.pages_total else ""
    # A chat post notifies nobody in particular: not a page (siren.domain.pages), but said, so nothing is hidden.
    pages_detail = f"to {_plural(len(current.pages), 'responder')}" + (
        f"; {_plural(current.chat_posts, 'chat post')} apart" if current.chat_posts else ""
    )
    return [
        count("Incidents", current.incidents, previous.incidents),
        count("Escalated incidents", current.escalated_incidents, previous.escalated_incidents, escalated_detail),
        duration("Mean time to acknowledge", current.mtta, previous.mtta, "acknowledged"),
        duration("Mean time to resolve", current.mttr, previous.mttr, "resolved"),
        count("Pages", current.pages_total, previous.pages_total, pages_detail),
        count("Off-hours pages", current.off_hours_total, previous.off_hours_total, off_detail),
    ]


def _severity_chart(current: PeriodMetrics, previous: PeriodMetrics) -> _Chart:
    # Severities seen in either period: one that went to zero is news too.
    severities = sorted(set(current.by_severity) | set(previous.by_severity))
    largest = max(current.by_severity.values(), default=0)
    rows = []
    for severity in severities:
        now, before = current.by_severity.get(severity, 0), previous.by_severity.get(severity, 0)
        colour = _SEVERITY_COLOURS.get(severity, _DEFAULT_COLOUR)
        rows.append(
            _Row(
                _name(severity),
                (_Segment(_width(now, largest), colour),),
                str(now),
                f"{change(now, before)} (was {before})",
                colour,
            )
        )
    return _Chart("Incidents by severity", tuple(rows))


def _service_chart(current: PeriodMetrics) -> _Chart:
    services = list(current.by_service.items())
    shown, hidden = services[:MAX_SERVICES], services[MAX_SERVICES:]
    largest = max((count for _, count in shown), default=0)
    rows = tuple(
        _Row(
            _name(service),
            (_Segment(_width(count, largest), _SERVICE_COLOUR),),
            str(count),
            f"MTTA {humanize_duration(current.mtta_by_service[service].mean_s)} \u00b7 "
            f"MTTR {humanize_duration(current.mttr_by_service[service].mean_s)}",
        )
        for service, count in shown
    )
    more = ""
    if hidden:
        more = f"And {_plural(len(hidden), 'more service')} with {_plural(sum(c for _, c in hidden), 'incident')}."
    return _Chart("Incidents by service", rows, "Mean time to acknowledge (MTTA) and to resolve (MTTR).", more)


def _duration_chart(title: str, summaries: Mapping[str, DurationSummary], colour: str, verb: str) -> _Chart:
    largest = max((summary.mean_s or 0.0 for summary in summaries.values()), default=0.0)
    rows = []
    for severity, summary in summaries.items():
        if summary.count:
            note = (
                f"median {humanize_duration(summary.median_s)} \u00b7 p90 {humanize_duration(summary.p90_s)} "
                f"\u00b7 {summary.count} {verb}"
            )
        else:
            note = f"none {verb}"
        rows.append(
            _Row(
                _name(severity),
                (_Segment(_width(summary.mean_s or 0.0, largest), colour),),
                humanize_duration(summary.mean_s),
                note,
            )
        )
    return _Chart(
        title,
        tuple(rows),
        "Mean per severity, with the median and the 90th percentile (p90).",
        legend="The bars compare the means.",
    )


def _pages_chart(current: PeriodMetrics) -> _Chart:
    responders = list(current.pages.items())
    shown, hidden = responders[:MAX_RESPONDERS], responders[MAX_RESPONDERS:]
    largest = max((pages for _, pages in shown), default=0)
    rows = []
    for user, pages in shown:
        off = current.off_hours_pages.get(user, 0)
        total_width = _width(pages, largest)
        off_width = min(total_width, _width(off, largest))
        segments = (_Segment(off_width, _OFF_HOURS_COLOUR), _Segment(total_width - off_width, _WORKING_HOURS_COLOUR))
        rows.append(
            _Row(
                _one_line(user) or "(unknown)",
                segments,
                _plural(pages, "page"),
                f"{off} off-hours ({_share(off, pages)})",
            )
        )
    more = ""
    if hidden:
        more = f"And {_plural(len(hidden), 'more responder')} with {_plural(sum(p for _, p in hidden), 'page')}."
    legend = "Dark: off-hours pages; light: pages in working hours."
    return _Chart("Pages per responder", tuple(rows), _off_hours_text(current.off_hours), more, legend)


def _overdue(current: PeriodMetrics) -> list[_Overdue]:
    return [
        _Overdue(
            _one_line(item.id),
            _one_line(item.title, _TITLE_LIMIT),
            _name(item.owner),
            _one_line(item.incident_id),
            display_day(item.due),
            f"{_plural((current.as_of - item.due).days, 'day')} late",
        )
        for item in current.overdue_action_items[:MAX_OVERDUE]
    ]


def _actions_summary(current: PeriodMetrics) -> str:
    return (
        f"{current.open_action_items} open \u00b7 {len(current.overdue_action_items)} overdue \u00b7 "
        f"{current.action_items_done} done in this period (as of {display_day(current.as_of)})."
    )


def _subject(report: Report) -> str:
    current = report.current
    head = f"{_one_line(report.title, _TITLE_LIMIT)} {current.period.label}"
    if current.incidents == 0:
        return f"{head}: no incidents"
    return (
        f"{head}: {_plural(current.incidents, 'incident')}, MTTA {humanize_duration(current.mtta.mean_s)}, "
        f"MTTR {humanize_duration(current.mttr.mean_s)}"
    )


# -- plain text ------------------------------------------------------------------------------------------------
def _columns(rows: Sequence[Sequence[str]], right: frozenset[int], indent: str = "  ") -> list[str]:
    """Rows padded into aligned columns; the columns in ``right`` are right-aligned (figures)."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))] if rows else []
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _glance(headlines: Sequence[_Headline]) -> list[str]:
    """The headline figures as a table; the details go on lines of their own, so they do not widen the label
    column."""
    rows = [("", "This period", "Previous", "Change")]
    rows += [(h.label, h.value, h.previous, h.change) for h in headlines]
    table = _columns(rows, frozenset({1, 2, 3}), "")
    lines = [table[0]]
    for headline, line in zip(headlines, table[1:], strict=True):
        lines.append(line)
        if headline.detail:
            lines.append(f"  {headline.detail}")
    return lines


def _overdue_table(overdue: Sequence[_Overdue]) -> list[str]:
    header = ("Due", "Late", "Owner", "Incident", "Item")
    rows = [(item.due, item.late, item.owner, item.incident_id, f"{item.title} ({item.id})") for item in overdue]
    return _columns([header, *rows], frozenset())


def render_report(report: Report) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of ``report``; both bodies carry the same figures."""
    current, previous = report.current, report.previous
    headlines = _headlines(current, previous)
    charts: list[_Chart] = []
    if current.incidents:
        charts += [
            _severity_chart(current, previous),
            _service_chart(current),
            _duration_chart("Time to acknowledge", current.mtta_by_severity, _MTTA_COLOUR, "acknowledged"),
            _duration_chart("Time to resolve", current.mttr_by_severity, _MTTR_COLOUR, "resolved"),
        ]
    if current.pages_total:
        charts.append(_pages_chart(current))
    overdue = _overdue(current)
    subject = _subject(report)
    shared = {
        "title": _one_line(report.title, _TITLE_LIMIT),
        "current": current,
        "previous": previous,
        "empty": report.is_empty,
        "previous_incidents": _plural(previous.incidents, "incident"),
        "actions_summary": _actions_summary(current),
        "more_overdue": len(current.overdue_action_items) - len(overdue),
        "generated": display_time(report.generated_at),
    }
    text = template("report/report.txt.j2").render(
        shared,
        glance=_glance(headlines),
        charts=[
            (chart, _columns([(r.label, r.value, r.note) for r in chart.rows], frozenset({1}))) for chart in charts
        ],
        overdue=_overdue_table(overdue) if overdue else [],
    )
    html = template("report/report.html.j2").render(
        shared,
        subject=subject,
        headlines=headlines,
        charts=charts,
        overdue=overdue,
        track=_TRACK_COLOUR,
        worse=_WORSE,
    )
    return subject, text, html
