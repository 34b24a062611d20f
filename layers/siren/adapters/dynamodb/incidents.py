"""Incidents, their timelines, dedup keys, raw alerts and lifecycle events (siren.ports.IncidentRepository).

Every change is one TransactWriteItems: the incident, its timeline entries, the key state, the raw alert and
the lifecycle events commit together or not at all. Conditions on versions and on the alert item make
concurrent and redelivered signals safe. No request path scans.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from siren.adapters.dynamodb.escalations import EscalationItem
from siren.adapters.dynamodb.incident_items import (
    AlertItem,
    EventItem,
    IncidentItem,
    KeyItem,
    TimelineItem,
    event_item,
    incident_item,
    incident_of,
    key_item,
    key_state_of,
    month_of,
    raw_alert_item,
    raw_alert_of,
    timeline_entry,
    timeline_item,
)
from siren.adapters.dynamodb.table import Change, bound_table, iso, won
from siren.domain.incidents import Incident, IncidentStatus, KeyState, Outcome, TimelineEntry
from siren.domain.records import IncidentView, RawAlert
from siren.ports import ConcurrentChange

# What an incident's partition holds: view() reads it with one Query of the base model, so each of these kinds must
# be defined when the table is bound (its escalation's items too, though this module never writes them).
PARTITION_KINDS = (IncidentItem, TimelineItem, EscalationItem)

TIMELINE_PAGE = 1000
RAW_ALERT_TTL = timedelta(days=30)


class DynamoIncidents:
    """Data access for incidents, their timelines, dedup keys, raw alerts and lifecycle events."""

    # dedup key -> incident id of its unresolved incident, as last seen by this process (see append_duplicate).
    _open_incident_cache: ClassVar[OrderedDict[str, str]] = OrderedDict()
    _CACHE_SIZE = 10_000

    @classmethod
    def forget_hints(cls) -> None:
        """Drop the open-incident hints (see siren.bootstrap.forget_built): they describe another store."""
        cls._open_incident_cache.clear()

    def __init__(self, table_name: str, raw_alert_ttl: timedelta = RAW_ALERT_TTL) -> None:
        table = bound_table(table_name)
        self._table = table
        self._incidents = table.model(IncidentItem)
        self._timeline = table.model(TimelineItem)
        self._keys = table.model(KeyItem)
        self._alerts = table.model(AlertItem)
        self._events = table.model(EventItem)
        self._raw_alert_ttl = raw_alert_ttl

    # -- reads ----------------------------------------------------------------------------------------
    def key_state(self, dedup_key: str) -> KeyState:
        try:
            item = self._keys.get(f"KEY#{dedup_key}", "STATE", consistent_read=True)
        except self._keys.DoesNotExist:
            return KeyState(dedup_key=dedup_key)
        return key_state_of(dedup_key, item)

    def get(self, incident_id: str, consistent: bool = True) -> Incident | None:
        try:
            item = self._incidents.get(f"INC#{incident_id}", "META", consistent_read=consistent)
        except self._incidents.DoesNotExist:
            return None
        return incident_of(item)

    def view(self, incident_id: str) -> IncidentView | None:
        """The incident and its whole timeline, in one Query of its partition."""
        incident: Incident | None = None
        timeline: list[TimelineEntry] = []
        for item in self._table.base.query(f"INC#{incident_id}", consistent_read=True, page_size=TIMELINE_PAGE):
            if isinstance(item, IncidentItem):
                incident = incident_of(item)
            elif isinstance(item, TimelineItem):
                timeline.append(timeline_entry(item))
        if incident is None:
            return None
        return IncidentView(incident, timeline)

    def list_by_status(self, status: IncidentStatus, limit: int = 100) -> list[Incident]:
        """Unresolved incidents by status (the by-status index only holds unresolved ones), newest first."""
        if status is IncidentStatus.RESOLVED:
            return self.list_resolved(limit=limit)
        query = self._incidents.by_status.query(f"STATUS#{status}", scan_index_forward=False, limit=limit)
        return [incident_of(item) for item in query]

    def list_resolved(self, limit: int = 100, months: int = 3, now: datetime | None = None) -> list[Incident]:
        """Recently opened incidents that are resolved, newest first, from the by-time index."""
        found: list[Incident] = []
        month = (now or datetime.now(UTC)).replace(day=1)
        for _ in range(months):
            condition = self._incidents.status == str(IncidentStatus.RESOLVED)
            query = self._incidents.by_time.query(month_of(month), scan_index_forward=False, filter_condition=condition)
            for item in query:
                found.append(incident_of(item))
                if len(found) >= limit:
                    return found
            month = (month - timedelta(days=1)).replace(day=1)
        return found

    def iter_opened_between(self, start: datetime, end: datetime) -> Iterator[Incident]:
        """Incidents opened in [start, end), oldest first, month by month from the by-time index."""
        month = start.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        while month < end:
            key = self._incidents.opened_at.between(iso(start), iso(end - timedelta(microseconds=1)))
            for item in self._incidents.by_time.query(month_of(month), range_key_condition=key):
                yield incident_of(item)
            month = (month + timedelta(days=32)).replace(day=1)

    def iter_activity(self, start: datetime, end: datetime) -> Iterator[tuple[str, TimelineEntry]]:
        """Pages sent and escalations in [start, end), as (incident id, entry), month by month (by-activity)."""
        timeline = self._timeline
        month = start.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        while month < end:
            key = timeline.at.between(iso(start), iso(end - timedelta(microseconds=1)))
            for item in timeline.by_activity.query(f"ACTIVITY#{month:%Y-%m}", range_key_condition=key):
                yield item.pk.removeprefix("INC#"), timeline_entry(item)
            month = (month + timedelta(days=32)).replace(day=1)

    def get_raw_alert(self, source: str, delivery_id: str) -> RawAlert | None:
        try:
            item = self._alerts.get(f"ALERT#{source}#{delivery_id}", "ALERT")
        except self._alerts.DoesNotExist:
            return None
        return raw_alert_of(item)

    # -- writes ---------------------------------------------------------------------------------------
    def bulk_put(self, incidents: Iterable[Incident]) -> int:
        """Import incidents as they are (history from another tool, a backfill): batched writes, no timeline,
        no lifecycle events, no conditions. Not for live changes, which go through :meth:`apply`."""
        written = 0
        with self._incidents.batch_write() as batch:
            for incident in incidents:
                batch.save(incident_item(self._incidents, incident, version=incident.version))
                written += 1
        return written

    def record_raw_alert(self, alert: RawAlert) -> bool:
        """Keep an alert that changes nothing. Returns False when this delivery was already recorded."""
        item = raw_alert_item(self._alerts, alert, None, self._raw_alert_ttl)
        return won(lambda: item.save(condition=self._alerts.pk.does_not_exist()))

    def apply(self, outcome: Outcome, raw: RawAlert | None, actor_now: datetime | None = None) -> None:
        """Write ``outcome`` atomically.

        Raises DuplicateDelivery when ``raw``'s delivery was applied before, and ConcurrentChange when the
        incident or the key changed since they were read.
        """
        now = actor_now or datetime.now(UTC)
        with Change(self._table) as change:
            if raw is not None:
                # The first put: its cancellation reason tells a redelivery (see Change).
                incident_id = outcome.incident.id if outcome.incident else None
                alert = raw_alert_item(self._alerts, raw, incident_id, self._raw_alert_ttl)
                change.save(alert, condition=self._alerts.pk.does_not_exist())
            if outcome.incident is not None:
                change.save(self._changed_incident(outcome.incident, outcome.previous))
            if outcome.key_state is not None:
                change.save(key_item(self._keys, outcome.key_state))
            if outcome.incident is not None:
                for position, entry in enumerate(outcome.timeline):
                    change.save(timeline_item(self._timeline, outcome.incident.id, entry, position))
            for event in outcome.events:
                change.save(event_item(self._events, event, now))
        if outcome.incident is not None:
            self._remember(outcome.incident)

    def _changed_incident(self, incident: Incident, previous: Incident | None) -> IncidentItem:
        """The item for a save that checks the version the change was decided on (PynamoDB writes the next one)."""
        replaced = previous.version if previous is not None else None
        if incident.version != (replaced or 0) + 1:
            raise ValueError(
                f"{incident.id}: a change writes the version after the one it replaces "
                f"({replaced} -> {incident.version})"
            )
        return incident_item(self._incidents, incident, version=replaced)

    def append_duplicate(self, dedup_key: str, entry: TimelineEntry, raw: RawAlert) -> str | None:
        """The cheap path for a duplicate of an open or acknowledged incident: one request, no read.

        Uses this process's memory of the key's incident; returns its id, or None (and forgets it) when that
        incident is no longer open or acknowledged, so the caller takes the full path.
        """
        incident_id = self._open_incident_cache.get(dedup_key)
        if incident_id is None:
            return None
        incidents = self._incidents
        # The stored version is not read here: with any version set and no version condition, PynamoDB adds one
        # to whatever is stored.
        probe = incidents(f"INC#{incident_id}", "META", version=0)
        active = incidents.status.is_in(str(IncidentStatus.OPEN), str(IncidentStatus.ACKNOWLEDGED))
        try:
            with Change(self._table) as change:
                alert = raw_alert_item(self._alerts, raw, incident_id, self._raw_alert_ttl)
                change.save(alert, condition=self._alerts.pk.does_not_exist())
                change.update(
                    probe,
                    actions=[incidents.alert_count.add(1), incidents.last_seen_at.set(iso(entry.at))],
                    condition=active & (incidents.dedup_key == dedup_key),
                    add_version_condition=False,
                )
                change.save(timeline_item(self._timeline, incident_id, entry))
        except ConcurrentChange:
            self._open_incident_cache.pop(dedup_key, None)
            return None
        return incident_id

    def add_timeline(self, incident_id: str, entries: list[TimelineEntry]) -> None:
        """Entries that change no state (pages sent, escalation steps, notes): plain puts, in order."""
        for position, entry in enumerate(entries):
            timeline_item(self._timeline, incident_id, entry, position).save()

    def _remember(self, incident: Incident) -> None:
        cache = self._open_incident_cache
        if incident.status in (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED):
            cache[incident.dedup_key] = incident.id
            cache.move_to_end(incident.dedup_key)
            while len(cache) > self._CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.pop(incident.dedup_key, None)
