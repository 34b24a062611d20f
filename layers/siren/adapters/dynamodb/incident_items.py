"""The items of an incident's life: the incident, its timeline, its dedup key, raw alerts, lifecycle events.

Each model is paired with the functions that turn a domain value into its item and back; the repositories
(incidents, escalations) only choose which items to write together and on what conditions.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from siren.adapters.dynamodb.table import Item, StringListAttribute, iso, optional_iso, parse_iso
from siren.domain.incidents import (
    EVENT_SOURCE,
    Incident,
    IncidentStatus,
    KeyState,
    LifecycleEvent,
    PublicNote,
    TimelineEntry,
    TimelineKind,
)
from siren.domain.records import RawAlert
from siren.domain.signals import SignalStatus

RAW_ALERT_MAX_BYTES = 100_000
EVENT_TTL = timedelta(days=7)


class AllAttributes:
    """The projection of every index of the table: a query on one reads whole items, as the model's own would."""

    projection = AllProjection()


class OpenedAtIndex(GlobalSecondaryIndex["IncidentItem"]):
    """The incident indexes share their sort key: each lists incidents in the order they opened."""

    opened_at = UnicodeAttribute(range_key=True)


class StatusIndex(OpenedAtIndex):
    """Unresolved incidents by status (resolved ones drop out: their ``status_pk`` is removed)."""

    class Meta(AllAttributes):
        index_name = "by-status"

    status_pk = UnicodeAttribute(hash_key=True)


class ServiceIndex(OpenedAtIndex):
    class Meta(AllAttributes):
        index_name = "by-service"

    service_pk = UnicodeAttribute(hash_key=True)


class TimeIndex(OpenedAtIndex):
    """Incidents by the month they opened in (reports, the status page history)."""

    class Meta(AllAttributes):
        index_name = "by-time"

    month_pk = UnicodeAttribute(hash_key=True)


class ActivityIndex(GlobalSecondaryIndex["TimelineItem"]):
    """Pages sent and escalations by month (on-call load); sparse: other entries have no ``activity_pk``."""

    class Meta(AllAttributes):
        index_name = "by-activity"

    activity_pk = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class IncidentItem(Item, discriminator="incident"):
    """pk=INC#<id> sk=META."""

    id = UnicodeAttribute()
    status = UnicodeAttribute()
    severity = UnicodeAttribute()
    title = UnicodeAttribute()
    service = UnicodeAttribute()
    dedup_key = UnicodeAttribute()
    source = UnicodeAttribute()
    opened_at = UnicodeAttribute()
    last_seen_at = UnicodeAttribute()
    alert_count = NumberAttribute()
    summary = UnicodeAttribute(null=True)
    link = UnicodeAttribute(null=True)
    severity_rule = UnicodeAttribute(null=True)
    acknowledged_at = UnicodeAttribute(null=True)
    acknowledged_by = UnicodeAttribute(null=True)
    recovered_at = UnicodeAttribute(null=True)
    resolved_at = UnicodeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)
    flapping = BooleanAttribute(default=False)
    # Optimistic locking: a save in a transaction writes version + 1 on the condition that the stored one is the
    # value set here (absent: the incident is new), which is the version of the incident the change was decided on.
    version = VersionAttribute()
    roles = UnicodeAttribute(null=True)  # JSON: role -> user
    public_title = UnicodeAttribute(null=True)
    public_updates = UnicodeAttribute(null=True)  # JSON: [PublicNote], oldest first
    drill = BooleanAttribute(null=True)
    drill_participants = StringListAttribute(null=True)
    canary = BooleanAttribute(null=True)
    status_pk = UnicodeAttribute(null=True)
    service_pk = UnicodeAttribute()
    month_pk = UnicodeAttribute()
    by_status = StatusIndex()
    by_service = ServiceIndex()
    by_time = TimeIndex()


class TimelineItem(Item, discriminator="timeline"):
    """pk=INC#<id> sk=TL#<at>#<position>#<random>: one per state change, with actor and timestamp."""

    at = UnicodeAttribute()
    entry_kind = UnicodeAttribute()
    actor = UnicodeAttribute()
    detail = UnicodeAttribute()
    data = UnicodeAttribute(null=True)
    activity_pk = UnicodeAttribute(null=True)  # pages sent and escalations only: the by-activity index
    by_activity = ActivityIndex()


class KeyItem(Item, discriminator="key"):
    """pk=KEY#<dedup key> sk=STATE: the key's unresolved incident and recent transitions."""

    dedup_key = UnicodeAttribute()
    open_incident_id = UnicodeAttribute(null=True)
    last_status = UnicodeAttribute(null=True)
    transitions = StringListAttribute(default=list)
    version = VersionAttribute()  # as the incident's: the state a change was decided on must still be stored


class AlertItem(Item, discriminator="alert"):
    """pk=ALERT#<source>#<delivery> sk=ALERT: the raw payload; its absence guards the delivery (TTL)."""

    source = UnicodeAttribute()
    delivery_id = UnicodeAttribute()
    received_at = UnicodeAttribute()
    payload = UnicodeAttribute()
    incident_id = UnicodeAttribute(null=True)


class EventItem(Item, discriminator="event"):
    """pk=EVENT#<uuid> sk=EVENT: a lifecycle event (transactional outbox); the table's stream relays it (TTL)."""

    source = UnicodeAttribute()
    detail_type = UnicodeAttribute()
    detail = UnicodeAttribute()
    created_at = UnicodeAttribute()


def month_of(at: datetime) -> str:
    return f"MONTH#{at.astimezone(UTC):%Y-%m}"


def activity_partition(entry: TimelineEntry) -> str | None:
    """Pages actually sent to a person (they name a channel) and escalations go into the by-activity index."""
    paged = entry.kind is TimelineKind.PAGED and bool(entry.data.get("channel"))
    if paged or entry.kind is TimelineKind.ESCALATED:
        return f"ACTIVITY#{entry.at.astimezone(UTC):%Y-%m}"
    return None


def incident_item(model: type[IncidentItem], incident: Incident, version: int | None) -> IncidentItem:
    """The incident's item. A save in a transaction checks ``version`` and writes the next one (None: a new
    incident, written as version 1); a batch write stores ``version`` as it is."""
    unresolved = incident.status is not IncidentStatus.RESOLVED
    item = model(
        f"INC#{incident.id}",
        "META",
        id=incident.id,
        status=str(incident.status),
        severity=incident.severity,
        title=incident.title,
        service=incident.service,
        dedup_key=incident.dedup_key,
        source=incident.source,
        opened_at=iso(incident.opened_at),
        last_seen_at=iso(incident.last_seen_at),
        alert_count=incident.alert_count,
        summary=incident.summary or None,
        link=incident.link,
        severity_rule=incident.severity_rule or None,
        acknowledged_at=optional_iso(incident.acknowledged_at),
        acknowledged_by=incident.acknowledged_by,
        recovered_at=optional_iso(incident.recovered_at),
        resolved_at=optional_iso(incident.resolved_at),
        resolved_by=incident.resolved_by,
        flapping=incident.flapping,
        roles=json.dumps(dict(incident.roles), sort_keys=True) if incident.roles else None,
        public_title=incident.public_title,
        drill=True if incident.drill else None,
        drill_participants=list(incident.drill_participants) or None,
        canary=True if incident.canary else None,
        public_updates=json.dumps([note.to_json() for note in incident.public_updates])
        if incident.public_updates
        else None,
        status_pk=f"STATUS#{incident.status}" if unresolved else None,
        # The canary runs every few minutes: its incidents get partitions of their own in the by-service and
        # by-time indexes, so that listings, reports and the status page history never page through them.
        service_pk=f"CANARY#{incident.service}" if incident.canary else f"SERVICE#{incident.service}",
        month_pk=("CANARY#" if incident.canary else "") + month_of(incident.opened_at),
    )
    if version is not None:  # a VersionAttribute is absent (a new item) or a number, never None
        item.version = version
    return item


def incident_of(item: IncidentItem) -> Incident:
    return Incident(
        id=item.id,
        status=IncidentStatus(item.status),
        severity=item.severity,
        title=item.title,
        service=item.service,
        dedup_key=item.dedup_key,
        source=item.source,
        opened_at=datetime.fromisoformat(item.opened_at),
        last_seen_at=datetime.fromisoformat(item.last_seen_at),
        alert_count=int(item.alert_count),
        summary=item.summary or "",
        link=item.link,
        severity_rule=item.severity_rule or "",
        acknowledged_at=parse_iso(item.acknowledged_at),
        acknowledged_by=item.acknowledged_by,
        recovered_at=parse_iso(item.recovered_at),
        resolved_at=parse_iso(item.resolved_at),
        resolved_by=item.resolved_by,
        flapping=bool(item.flapping),
        version=int(item.version),
        roles=json.loads(item.roles) if item.roles else {},
        public_title=item.public_title,
        drill=bool(item.drill),
        drill_participants=tuple(item.drill_participants or ()),
        canary=bool(item.canary),
        public_updates=tuple(PublicNote.from_json(note) for note in json.loads(item.public_updates))
        if item.public_updates
        else (),
    )


def timeline_item(model: type[TimelineItem], incident_id: str, entry: TimelineEntry, position: int = 0) -> TimelineItem:
    # Entries written together share a timestamp; their position keeps them in the order they happened.
    return model(
        f"INC#{incident_id}",
        f"TL#{iso(entry.at)}#{position:02d}#{uuid.uuid4().hex[:8]}",
        at=iso(entry.at),
        entry_kind=str(entry.kind),
        actor=entry.actor,
        detail=entry.detail,
        data=json.dumps(dict(entry.data), default=str) if entry.data else None,
        activity_pk=activity_partition(entry),
    )


def timeline_entry(item: TimelineItem) -> TimelineEntry:
    return TimelineEntry(
        at=datetime.fromisoformat(item.at),
        kind=TimelineKind(item.entry_kind),
        actor=item.actor,
        detail=item.detail,
        data=json.loads(item.data) if item.data else {},
    )


def key_item(model: type[KeyItem], state: KeyState) -> KeyItem:
    """The key's next state; ``version`` is the one it replaces (absent for a new key), which a save checks."""
    item = model(
        f"KEY#{state.dedup_key}",
        "STATE",
        dedup_key=state.dedup_key,
        open_incident_id=state.open_incident_id,
        last_status=str(state.last_status) if state.last_status else None,
        transitions=[iso(t) for t in state.transitions],
    )
    if state.version != 1:  # version 1 is a new key
        item.version = state.version - 1
    return item


def key_state_of(dedup_key: str, item: KeyItem) -> KeyState:
    return KeyState(
        dedup_key=dedup_key,
        open_incident_id=item.open_incident_id,
        last_status=SignalStatus(item.last_status) if item.last_status else None,
        transitions=tuple(datetime.fromisoformat(t) for t in item.transitions or []),
        version=int(item.version),
    )


def raw_alert_item(model: type[AlertItem], alert: RawAlert, incident_id: str | None, ttl: timedelta) -> AlertItem:
    payload = json.dumps(alert.payload, separators=(",", ":"), sort_keys=True, default=str)
    if len(payload.encode()) > RAW_ALERT_MAX_BYTES:
        payload = json.dumps({"truncated": True, "head": payload[: RAW_ALERT_MAX_BYTES // 2]})
    return model(
        f"ALERT#{alert.source}#{alert.delivery_id}",
        "ALERT",
        source=alert.source,
        delivery_id=alert.delivery_id,
        received_at=iso(alert.received_at),
        payload=payload,
        incident_id=incident_id,
        expires_at=int((alert.received_at + ttl).timestamp()),
    )


def raw_alert_of(item: AlertItem) -> RawAlert:
    return RawAlert(
        source=item.source,
        delivery_id=item.delivery_id,
        received_at=datetime.fromisoformat(item.received_at),
        payload=json.loads(item.payload),
    )


def event_item(model: type[EventItem], event: LifecycleEvent, now: datetime) -> EventItem:
    return model(
        f"EVENT#{uuid.uuid4()}",
        "EVENT",
        source=EVENT_SOURCE,
        detail_type=str(event.detail_type),
        detail=json.dumps(dict(event.detail), default=str),
        created_at=iso(now),
        expires_at=int((now + EVENT_TTL).timestamp()),
    )
