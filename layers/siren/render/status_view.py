"""What the status templates read: components grouped and their uptime drawn as bars, incidents by day, and the
words for every status. Plain values made from a StatusSnapshot; the pages (siren.render.status_site) and the JSON
API (siren.render.status_api) both read them, so the two always agree on order, groups and ids.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

from markupsafe import Markup, escape

from siren.domain.status import (
    COMPONENT_STATUS_TEXT,
    ComponentStatus,
    ComponentView,
    Impact,
    Maintenance,
    MaintenanceStatus,
    PublicIncident,
    PublicStatus,
    StatusSnapshot,
    UptimeDay,
    worst,
)
from siren.render.text import display_day, display_time, iso_utc, utc

# Incident ids become S3 keys and file names: nothing that could climb a path, hide a suffix or need quoting.
_SAFE_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
# How many imperfect days a row of uptime bars names in its spoken summary (the rest are counted).
_SPOKEN_DAYS = 5

PUBLIC_STATUS_TEXT = {
    PublicStatus.INVESTIGATING: "Investigating",
    PublicStatus.IDENTIFIED: "Identified",
    PublicStatus.MONITORING: "Monitoring",
    PublicStatus.RESOLVED: "Resolved",
}
IMPACT_TEXT = {
    Impact.NONE: "No impact",
    Impact.MINOR: "Minor impact",
    Impact.MAJOR: "Major impact",
    Impact.CRITICAL: "Critical impact",
    Impact.MAINTENANCE: "Maintenance",
}
MAINTENANCE_STATUS_TEXT = {
    MaintenanceStatus.SCHEDULED: "Scheduled",
    MaintenanceStatus.IN_PROGRESS: "In progress",
    MaintenanceStatus.COMPLETED: "Completed",
}
# An impact is drawn in the colour of the component status that causes it.
IMPACT_COLOUR = {
    Impact.NONE: ComponentStatus.OPERATIONAL,
    Impact.MINOR: ComponentStatus.DEGRADED_PERFORMANCE,
    Impact.MAJOR: ComponentStatus.PARTIAL_OUTAGE,
    Impact.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
    Impact.MAINTENANCE: ComponentStatus.UNDER_MAINTENANCE,
}
# One-letter classes for bars: 20 components x 90 days must fit the index's 50 KB even when every day differs.
_BAR_CODES = {
    ComponentStatus.OPERATIONAL: "o",
    ComponentStatus.DEGRADED_PERFORMANCE: "d",
    ComponentStatus.PARTIAL_OUTAGE: "p",
    ComponentStatus.MAJOR_OUTAGE: "m",
    ComponentStatus.UNDER_MAINTENANCE: "u",
}


# -- text --------------------------------------------------------------------------------------------------
def percent(value: float) -> str:
    """A percentage rounded down to two decimals, trailing zeros dropped: 99.999 is '99.99', never '100'."""
    floored = math.floor(round(value * 100, 6)) / 100
    return f"{floored:.2f}".rstrip("0").rstrip(".")


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def when(at: datetime) -> Markup:
    """A time as people read it, marked up for machines (``<time datetime=...>``)."""
    moment = utc(at)
    return Markup('<time datetime="{}">{}</time>').format(iso_utc(moment), display_time(moment))


def paragraphs(text: str) -> Markup:
    """Escaped text as HTML paragraphs: a blank line starts a paragraph, a single newline becomes <br>."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = [block.strip() for block in re.split(r"\n[ \t]*\n", lines) if block.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in block.split("\n"))) for block in blocks
    )


def url_part(value: str) -> str:
    return quote(value, safe="")


def incident_path(incident_id: str) -> str:
    return f"incidents/{url_part(incident_id)}.html"


def require_safe_ids(incidents: Iterable[PublicIncident]) -> None:
    """Refuses an incident id that could not be a plain file name (Siren's are 'INC-20261126-2341-3f9c1a')."""
    for incident in incidents:
        if not _SAFE_ID.fullmatch(incident.id):
            raise ValueError(f"incident id {incident.id!r} cannot be a file name: only A-Z, a-z, 0-9 and '-'")


# -- components --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Bar:
    """Consecutive days that look alike, drawn as one flex item ``days`` bars wide (the separators are painted
    over it), so 20 components of 90 days stay a few kilobytes instead of 1,800 elements."""

    days: int
    status: ComponentStatus

    @property
    def code(self) -> str:
        return _BAR_CODES[self.status]


@dataclass(frozen=True, slots=True)
class ComponentRow:
    view: ComponentView
    bars: tuple[Bar, ...]
    summary: str  # the spoken summary of the bars (aria-label)
    uptime: str  # "99.95"


@dataclass(slots=True)
class Entry:
    """A component shown on its own (``name`` None) or a group of components under its name."""

    name: str | None
    group_id: str | None
    rows: list[ComponentRow] = field(default_factory=list)

    @property
    def status(self) -> ComponentStatus:
        return worst(row.view.status for row in self.rows)


def _day_title(day: UptimeDay) -> str:
    text = f"{day.day.isoformat()}: {percent(day.uptime * 100)}% uptime"
    if day.worst is not ComponentStatus.OPERATIONAL:
        text += f", {COMPONENT_STATUS_TEXT[day.worst].lower()}"
    return text


def _bars(days: Sequence[UptimeDay]) -> tuple[Bar, ...]:
    """Runs of days with the same worst status, as one bar each; the numbers are in the row's spoken summary."""
    runs: list[list[UptimeDay]] = []
    for day in days:
        if runs and runs[-1][0].worst == day.worst:
            runs[-1].append(day)
        else:
            runs.append([day])
    return tuple(Bar(len(run), run[0].worst) for run in runs)


def _bars_summary(view: ComponentView) -> str:
    days = view.uptime_days
    text = f"Uptime over the last {len(days)} days: {percent(view.uptime_percent)} %."
    imperfect = [day for day in reversed(days) if day.worst is not ComponentStatus.OPERATIONAL or day.uptime < 1.0]
    if not imperfect:
        return f"{text} No incidents."
    named = "; ".join(_day_title(day) for day in imperfect[:_SPOKEN_DAYS])
    more = f"; and {len(imperfect) - _SPOKEN_DAYS} more" if len(imperfect) > _SPOKEN_DAYS else ""
    return f"{text} Days with incidents, newest first: {named}{more}."


def _group_ids(views: Sequence[ComponentView]) -> dict[str, str]:
    """A stable id per group name, distinct from every component id (Statuspage groups are components too)."""
    taken = {view.component.id for view in views}
    ids: dict[str, str] = {}
    for view in views:
        name = view.component.group
        if name is None or name in ids:
            continue
        candidate = "group-" + (slug(name) or "components")
        while candidate in taken:
            candidate += "-group"
        taken.add(candidate)
        ids[name] = candidate
    return ids


def entries(views: Sequence[ComponentView]) -> list[Entry]:
    """Components in configuration order; a group stands where its first component stands."""
    group_ids = _group_ids(views)
    found: list[Entry] = []
    groups: dict[str, Entry] = {}
    for view in views:
        row = ComponentRow(view, _bars(view.uptime_days), _bars_summary(view), percent(view.uptime_percent))
        name = view.component.group
        if name is None:
            found.append(Entry(None, None, [row]))
            continue
        if name not in groups:
            groups[name] = Entry(name, group_ids[name])
            found.append(groups[name])
        groups[name].rows.append(row)
    return found


# -- incidents ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Day:
    day: date
    label: str
    incidents: tuple[PublicIncident, ...]


def history_days(history: Sequence[PublicIncident]) -> list[Day]:
    """Resolved incidents by the day they ended, newest day first."""
    by_day: dict[date, list[PublicIncident]] = {}
    for incident in history:
        by_day.setdefault(utc(incident.resolved_at or incident.updated_at).date(), []).append(incident)
    return [Day(day, display_day(day), tuple(by_day[day])) for day in sorted(by_day, reverse=True)]


class AffectedNames:
    """The names of the components an incident or a maintenance window affects, in its own order; ids no longer
    configured are left out."""

    def __init__(self, snapshot: StatusSnapshot) -> None:
        self._names = {view.component.id: view.component.name for view in snapshot.components}

    def __call__(self, item: PublicIncident | Maintenance) -> list[str]:
        return [self._names[cid] for cid in item.component_ids if cid in self._names]
