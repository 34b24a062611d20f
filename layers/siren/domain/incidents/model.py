"""What an incident is: its status, timeline, lifecycle events and the dedup key's state, as frozen records."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from siren.domain.signals import SignalStatus

# A signal stamped further ahead than this is refused: clocks drift, but not by this much.
MAX_CLOCK_SKEW = timedelta(minutes=5)
SYSTEM_ACTOR = "siren"


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RECOVERED = "recovered"
    RESOLVED = "resolved"


UNRESOLVED = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RECOVERED)


class TimelineKind(enum.StrEnum):
    OPENED = "opened"
    ALERT_APPENDED = "alert_appended"
    SEVERITY_CHANGED = "severity_changed"
    ACKNOWLEDGED = "acknowledged"
    RECOVERED = "recovered"
    RETRIGGERED = "retriggered"
    RESOLVED = "resolved"
    FLAPPING = "flapping"
    ROLE_ASSIGNED = "role_assigned"
    UPDATE_POSTED = "update_posted"
    ESCALATED = "escalated"
    ESCALATION_REQUESTED = "escalation_requested"  # a person asked to page the next level now (escalate now)
    PAGED = "paged"
    PAGE_FAILED = "page_failed"
    ESCALATION_FAILED = "escalation_failed"
    ESCALATION_ENDED = "escalation_ended"
    ESCALATION_REPAIRED = "escalation_repaired"  # the reconciler fixed an escalation a lost event left wrong
    POSTMORTEM_WRITTEN = "postmortem_written"
    NOTE = "note"  # an internal note from a responder ("rolled back 4.2.1"): never public
    ACTION_ITEM_ADDED = "action_item_added"
    CHANGE = "change"  # a change of the service (a deploy) shortly before the incident opened: context


class LifecycleEventType(enum.StrEnum):
    """EventBridge detail-types on Siren's own bus; escalation, status page and reports react to these."""

    OPENED = "Incident Opened"
    ACKNOWLEDGED = "Incident Acknowledged"
    RESOLVED = "Incident Resolved"
    SEVERITY_CHANGED = "Severity Changed"
    UPDATED = "Incident Updated"
    # Not about one incident: a component status set by hand, or maintenance scheduled (the status page).
    STATUS_CHANGED = "Status Page Changed"


EVENT_SOURCE = "siren.incidents"


class IncidentError(ValueError):
    """A request about an incident that cannot be honoured (unknown id, already resolved...)."""


@dataclass(frozen=True, slots=True)
class PublicNote:
    """A public update as a person wrote it: ``status`` is investigating, identified, monitoring or resolved."""

    at: datetime
    status: str
    body: str
    author: str

    def to_json(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "status": self.status, "body": self.body, "author": self.author}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublicNote:
        return cls(
            datetime.fromisoformat(str(data["at"])), str(data["status"]), str(data["body"]), str(data.get("author", ""))
        )


PUBLIC_STATUSES = ("investigating", "identified", "monitoring", "resolved")
PUBLIC_BODY_MAX = 5000
PUBLIC_TITLE_MAX = 200


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    status: IncidentStatus
    severity: str
    title: str
    service: str
    dedup_key: str
    source: str
    opened_at: datetime
    last_seen_at: datetime
    alert_count: int = 1
    summary: str = ""
    link: str | None = None
    severity_rule: str = ""
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    recovered_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    flapping: bool = False
    version: int = 1
    # Incident roles: role (commander, comms, sme) -> user.
    roles: Mapping[str, str] = field(default_factory=dict)
    # What customers see (the status page): written by people only, never derived from the alert.
    public_title: str | None = None
    public_updates: tuple[PublicNote, ...] = ()  # oldest first
    # A game-day drill (siren gameday): pages only its participants, stays off the status page and out of reports.
    drill: bool = False
    drill_participants: tuple[str, ...] = ()
    # Siren's end-to-end canary: pages nobody (a dry run), stays off the status page, chat and reports, resolves
    # itself, and is hidden from `siren incidents list` unless --all.
    canary: bool = False

    def event_detail(self, **extra: Any) -> dict[str, Any]:
        """What lifecycle events carry: enough for consumers to act without reading the store."""
        detail: dict[str, Any] = {
            "incident_id": self.id,
            "status": str(self.status),
            "severity": self.severity,
            "title": self.title,
            "service": self.service,
            "dedup_key": self.dedup_key,
            "opened_at": self.opened_at.isoformat(),
            "alert_count": self.alert_count,
            "version": self.version,
            "drill": self.drill,
            "canary": self.canary,
        }
        detail.update(extra)
        return detail


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: TimelineKind
    actor: str
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    detail_type: LifecycleEventType
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class KeyState:
    """What the store remembers of one dedup key between incidents: its open incident and recent flips."""

    dedup_key: str
    open_incident_id: str | None = None
    last_status: SignalStatus | None = None
    transitions: tuple[datetime, ...] = ()
    version: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to write, all or nothing. ``incident`` is the incident after the change (None when ignored)."""

    action: str  # opened | appended | retriggered | recovered | resolved | ignored
    reason: str
    incident: Incident | None = None
    previous: Incident | None = None
    key_state: KeyState | None = None  # None: the key state does not change
    timeline: tuple[TimelineEntry, ...] = ()
    events: tuple[LifecycleEvent, ...] = ()

    @property
    def changes_state(self) -> bool:
        return self.action != "ignored"


def new_incident_id(at: datetime) -> str:
    """Sortable by time, unique without coordination: INC-20261126-2341-3f9c1a."""
    return f"INC-{at:%Y%m%d-%H%M}-{uuid.uuid4().hex[:6]}"
