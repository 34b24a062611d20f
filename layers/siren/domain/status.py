"""The customer status page's model: components, public incidents, maintenance, and what they add up to.

Pure: no I/O, the clock is passed in. What is public is built here from what people wrote (public updates,
public titles) and from the configuration (components, severity -> impact); nothing from an alarm (its name,
reason, ARN, account) and nothing about responders ever enters these types, so no renderer can leak it.

Statuses and impacts use Atlassian Statuspage's vocabulary, so the JSON API is read by existing widgets.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from siren.domain.shapes import IncidentLike


class ComponentStatus(enum.StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"


# Worse is higher. Maintenance ranks below any outage: an outage during maintenance is still an outage.
_RANK = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}

COMPONENT_STATUS_TEXT = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentStatus.PARTIAL_OUTAGE: "Partial outage",
    ComponentStatus.MAJOR_OUTAGE: "Major outage",
    ComponentStatus.UNDER_MAINTENANCE: "Under maintenance",
}


def worst(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    return max(statuses, key=_RANK.__getitem__, default=ComponentStatus.OPERATIONAL)


class Impact(enum.StrEnum):
    """An incident's impact (Statuspage's ``impact``), from the worst component status it causes."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    MAINTENANCE = "maintenance"  # only as the page's overall indicator


_IMPACT_OF_STATUS = {
    ComponentStatus.OPERATIONAL: Impact.NONE,
    ComponentStatus.UNDER_MAINTENANCE: Impact.MAINTENANCE,
    ComponentStatus.DEGRADED_PERFORMANCE: Impact.MINOR,
    ComponentStatus.PARTIAL_OUTAGE: Impact.MAJOR,
    ComponentStatus.MAJOR_OUTAGE: Impact.CRITICAL,
}


def impact_of(status: ComponentStatus) -> Impact:
    return _IMPACT_OF_STATUS[status]


class PublicStatus(enum.StrEnum):
    """The status of a public incident, set by the person who writes a public update."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class MaintenanceStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


# What a public incident says before anyone has written a public update: neutral, and nothing from the alarm.
DEFAULT_PUBLIC_TITLE = "Service disruption"
DEFAULT_PUBLIC_BODY = "We are investigating reports of a problem. We will post an update as soon as we know more."


@dataclass(frozen=True, slots=True)
class Component:
    """A part of the product customers know by name (config ``status_page.components``)."""

    id: str  # config key: lowercase letters, digits, "-" and "_"
    name: str
    description: str = ""
    group: str | None = None  # a group's display name; components of one group are shown together
    services: tuple[str, ...] = ()  # the Siren services whose incidents affect this component


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    at: datetime
    status: PublicStatus
    body: str


@dataclass(frozen=True, slots=True)
class PublicIncident:
    """The public face of an incident. ``id`` is Siren's incident id (it says nothing but the opening time)."""

    id: str
    title: str  # a person's public title, or DEFAULT_PUBLIC_TITLE
    status: PublicStatus
    impact: Impact
    component_ids: tuple[str, ...]
    component_status: ComponentStatus  # what this incident does to its components while unresolved
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    updates: tuple[PublicUpdate, ...]  # newest first; never empty (a default update stands in for none)

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


@dataclass(frozen=True, slots=True)
class Maintenance:
    id: str
    title: str
    component_ids: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    body: str = ""
    created_at: datetime | None = None

    def status(self, now: datetime) -> MaintenanceStatus:
        if now < self.starts_at:
            return MaintenanceStatus.SCHEDULED
        if now < self.ends_at:
            return MaintenanceStatus.IN_PROGRESS
        return MaintenanceStatus.COMPLETED


@dataclass(frozen=True, slots=True)
class ComponentOverride:
    """A status set by hand (``siren status component C partial_outage``); ``operational`` clears it."""

    component_id: str
    status: ComponentStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class UptimeDay:
    day: date
    uptime: float  # 0.0 .. 1.0
    worst: ComponentStatus  # the worst status seen that day (from incidents)


@dataclass(frozen=True, slots=True)
class ComponentView:
    component: Component
    status: ComponentStatus
    uptime_days: tuple[UptimeDay, ...]  # oldest first, UPTIME_DAYS of them, ending today (UTC)
    uptime_percent: float  # over those days, 0..100
    # When the component first appeared on the published page (Statuspage's ``created_at``): kept from one publish
    # to the next, so clients see a stable date, not the time of each publish.
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Everything the status site shows, at one instant. Renderers read only this."""

    page_name: str
    page_url: str  # the public base URL, e.g. https://status.example.com (no trailing slash)
    generated_at: datetime
    components: tuple[ComponentView, ...]  # in config order
    indicator: Impact  # the page's overall indicator (none, minor, major, critical, maintenance)
    description: str  # "All Systems Operational", "Partial System Outage", ...
    unresolved: tuple[PublicIncident, ...]  # newest first
    history: tuple[PublicIncident, ...]  # resolved within HISTORY_DAYS, newest first
    maintenances: tuple[Maintenance, ...]  # scheduled and in progress, soonest first
    time_zone: str = "UTC"
    # The subscribe form's action (siren.domain.subscribe_form.subscribe_action, checked), or None: no form.
    subscribe_url: str | None = None

    @property
    def incidents(self) -> tuple[PublicIncident, ...]:
        return self.unresolved + self.history


UPTIME_DAYS = 90
HISTORY_DAYS = 90
# Statuspage's weighting: a minute of major outage is a minute down, a minute of partial outage 0.3 of one;
# degraded performance and maintenance are not downtime.
_DOWNTIME_WEIGHT = {ComponentStatus.MAJOR_OUTAGE: 1.0, ComponentStatus.PARTIAL_OUTAGE: 0.3}


# -- computing ----------------------------------------------------------------------------------------------
def component_statuses(
    components: Sequence[Component],
    unresolved: Iterable[PublicIncident],
    overrides: Mapping[str, ComponentOverride],
    maintenances: Iterable[Maintenance],
    now: datetime,
) -> dict[str, ComponentStatus]:
    """Each component's status now: the worst of its unresolved incidents' impact, maintenance in progress, and
    a status set by hand."""
    found: dict[str, list[ComponentStatus]] = {component.id: [] for component in components}
    for incident in unresolved:
        for component_id in incident.component_ids:
            found.get(component_id, []).append(incident.component_status)
    for window in maintenances:
        if window.status(now) is MaintenanceStatus.IN_PROGRESS:
            for component_id in window.component_ids:
                found.get(component_id, []).append(ComponentStatus.UNDER_MAINTENANCE)
    for component_id, override in overrides.items():
        found.get(component_id, []).append(override.status)
    return {component_id: worst(statuses) for component_id, statuses in found.items()}


def overall(statuses: Iterable[ComponentStatus]) -> tuple[Impact, str]:
    """The page's indicator and headline, as Statuspage words them."""
    chosen = list(statuses)
    if any(status is ComponentStatus.MAJOR_OUTAGE for status in chosen):
        return Impact.CRITICAL, "Major System Outage"
    if any(status is ComponentStatus.PARTIAL_OUTAGE for status in chosen):
        return Impact.MAJOR, "Partial System Outage"
    if any(status is ComponentStatus.DEGRADED_PERFORMANCE for status in chosen):
        return Impact.MINOR, "Minor Service Outage"
    if any(status is ComponentStatus.UNDER_MAINTENANCE for status in chosen):
        return Impact.MAINTENANCE, "Service Under Maintenance"
    return Impact.NONE, "All Systems Operational"


def uptime_days(
    component_id: str, incidents: Iterable[PublicIncident], now: datetime, days: int = UPTIME_DAYS
) -> tuple[UptimeDay, ...]:
    """Per UTC day, the share of the day the component was up (Statuspage's weighting), oldest first."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    downtime = {first + timedelta(days=offset): 0.0 for offset in range(days)}
    worst_seen = {day: ComponentStatus.OPERATIONAL for day in downtime}
    for incident in incidents:
        if component_id not in incident.component_ids:
            continue
        start = incident.created_at.astimezone(UTC)
        end = (incident.resolved_at or now).astimezone(UTC)
        weight = _DOWNTIME_WEIGHT.get(incident.component_status, 0.0)
        day = max(start.date(), first)
        while day <= min(end.date(), today):
            day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            overlap = min(end, day_start + timedelta(days=1)) - max(start, day_start)
            if overlap > timedelta(0):
                downtime[day] += weight * overlap.total_seconds()
                worst_seen[day] = worst((worst_seen[day], incident.component_status))
            day += timedelta(days=1)
    seconds = 86400.0
    return tuple(
        UptimeDay(day, max(0.0, 1.0 - min(downtime[day], seconds) / seconds), worst_seen[day]) for day in downtime
    )


def uptime_percent(days: Sequence[UptimeDay]) -> float:
    return 100.0 * sum(day.uptime for day in days) / len(days) if days else 100.0


# -- from incidents to the public page -----------------------------------------------------------------------
DEFAULT_RESOLVED_BODY = "This incident has been resolved."


class PublishableIncident(IncidentLike, Protocol):
    """What the status page reads of an incident (siren.domain.incidents.Incident): the shared shape, what
    people wrote for customers, and whether it is a drill or the canary; never its internal title."""

    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def public_title(self) -> str | None: ...
    @property
    def public_updates(self) -> Sequence[NoteLike]: ...
    @property
    def drill(self) -> bool: ...
    @property
    def canary(self) -> bool: ...


class NoteLike(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def body(self) -> str: ...


def public_incident(
    incident: PublishableIncident, components: Sequence[Component], impact: Mapping[str, str]
) -> PublicIncident | None:
    """The public face of ``incident``, or None when it is not for customers: it touches no component and
    nobody wrote about it, or its severity does not affect components and nobody wrote about it.

    Only the id, the times, the severity (through the configured impact) and what people wrote are used: the
    incident's own title, summary, alerts and responders stay internal."""
    if incident.drill or incident.canary:
        return None  # a game-day drill or Siren's own canary is never shown to customers
    component_ids = tuple(c.id for c in components if incident.service in c.services)
    status_for_components = ComponentStatus(impact.get(incident.severity, ComponentStatus.OPERATIONAL.value))
    notes = list(incident.public_updates)
    if not notes and (not component_ids or status_for_components is ComponentStatus.OPERATIONAL):
        return None
    updates = [PublicUpdate(note.at, PublicStatus(note.status), note.body) for note in notes]
    if not updates:
        updates.append(PublicUpdate(incident.opened_at, PublicStatus.INVESTIGATING, DEFAULT_PUBLIC_BODY))
    resolved_at = incident.resolved_at
    if resolved_at is None and updates[-1].status is PublicStatus.RESOLVED:
        resolved_at = updates[-1].at  # said to be over in public, though the team is still watching
    if incident.resolved_at is not None and updates[-1].status is not PublicStatus.RESOLVED:
        updates.append(PublicUpdate(incident.resolved_at, PublicStatus.RESOLVED, DEFAULT_RESOLVED_BODY))
    newest_first = tuple(sorted(updates, key=lambda update: update.at, reverse=True))
    return PublicIncident(
        id=incident.id,
        title=incident.public_title or DEFAULT_PUBLIC_TITLE,
        status=PublicStatus.RESOLVED if resolved_at else newest_first[0].status,
        impact=impact_of(status_for_components),
        component_ids=component_ids,
        component_status=status_for_components,
        created_at=incident.opened_at,
        updated_at=max(newest_first[0].at, resolved_at or newest_first[0].at),
        resolved_at=resolved_at,
        updates=newest_first,
    )


def build_snapshot(
    *,
    page_name: str,
    page_url: str,
    components: Sequence[Component],
    impact: Mapping[str, str],
    incidents: Iterable[PublishableIncident],
    overrides: Mapping[str, ComponentOverride],
    maintenances: Iterable[Maintenance],
    now: datetime,
    first_published: Mapping[str, datetime] | None = None,
) -> StatusSnapshot:
    """``first_published`` maps a component id to when it first appeared on the published page (read back from
    the page itself); a component not in it appears now."""
    public = [found for incident in incidents if (found := public_incident(incident, components, impact))]
    return snapshot_of_public(
        page_name=page_name,
        page_url=page_url,
        components=components,
        public=public,
        overrides=overrides,
        maintenances=maintenances,
        now=now,
        first_published=first_published,
    )


def snapshot_of_public(
    *,
    page_name: str,
    page_url: str,
    components: Sequence[Component],
    public: Sequence[PublicIncident],
    overrides: Mapping[str, ComponentOverride],
    maintenances: Iterable[Maintenance],
    now: datetime,
    first_published: Mapping[str, datetime] | None = None,
) -> StatusSnapshot:
    """build_snapshot from incidents already made public (public_incident), e.g. kept from an earlier publish."""
    first_published = first_published or {}
    unresolved = sorted((p for p in public if not p.resolved), key=lambda p: p.created_at, reverse=True)
    since = now - timedelta(days=HISTORY_DAYS)
    history = sorted(
        (p for p in public if p.resolved_at is not None and p.resolved_at >= since),
        key=lambda p: p.resolved_at or p.created_at,
        reverse=True,
    )
    windows = sorted(
        (w for w in maintenances if w.status(now) is not MaintenanceStatus.COMPLETED), key=lambda w: w.starts_at
    )
    statuses = component_statuses(components, unresolved, overrides, windows, now)
    views = []
    for component in components:
        days = uptime_days(component.id, public, now)
        created = first_published.get(component.id, now)
        views.append(ComponentView(component, statuses[component.id], days, uptime_percent(days), created))
    indicator, description = overall(statuses.values())
    return StatusSnapshot(
        page_name=page_name,
        page_url=page_url.rstrip("/"),
        generated_at=now,
        components=tuple(views),
        indicator=indicator,
        description=description,
        unresolved=tuple(unresolved),
        history=tuple(history),
        maintenances=tuple(windows),
    )
