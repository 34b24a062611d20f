"""The incident store: one DynamoDB table, typed item kinds, through PynamoDB.

Item kinds (single-table design; ``kind`` is PynamoDB's discriminator):

  incident  pk=INC#<id>                   sk=META          GSIs: by-status (unresolved only), by-service, by-time
  timeline  pk=INC#<id>                   sk=TL#<at>#<rnd>  one per state change, with actor and timestamp
  key       pk=KEY#<dedup key>            sk=STATE         the key's unresolved incident and recent transitions
  alert     pk=ALERT#<source>#<delivery>  sk=ALERT         the raw payload; doubles as the delivery's idempotency
                                                           guard; TTL ``expires_at``
  event     pk=EVENT#<uuid>               sk=EVENT         a lifecycle event (transactional outbox); the table's
                                                           stream feeds the publisher, which puts it on the bus
  link_nonce pk=LINKNONCE#<nonce>         sk=USED          a signed ack link that was used (single use); TTL at
                                                           the link's expiry
  sms_reply pk=SMSREPLY#<number>          sk=WINDOW        when the number may next get an SMS answer (one a
                                                           minute); TTL ``expires_at``
  heartbeat pk=HEARTBEATS                 sk=<name>         a heartbeat's first sight, last ping and the deadline last
                                                           reported missed (one Query reads them all)
            pk=CANARY                     sk=HEARTBEAT      Siren's own canary: its last good run and end-to-end seconds

Every change is one TransactWriteItems: the incident, its timeline entries, the key state, the raw alert and
the lifecycle events commit together or not at all. Conditions on versions and on the alert item make
concurrent and redelivered signals safe. No request path scans.

PynamoDB reads ``Meta`` when a model class is defined, so models are bound to a table at run time
(:func:`models_for`) rather than at import time.
"""

from __future__ import annotations

import contextlib
import functools
import json
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from siren.clients import endpoint_url, region_name
from siren.domain.heartbeats import HeartbeatState
from siren.domain.incidents import (
    Incident,
    IncidentStatus,
    KeyState,
    LifecycleEvent,
    Outcome,
    PublicNote,
    TimelineEntry,
    TimelineKind,
)
from siren.domain.records import ActionItemRecord, IncidentView, RawAlert
from siren.domain.signals import SignalStatus
from siren.domain.status import ComponentOverride, ComponentStatus, Maintenance
from siren.ports import ConcurrentChange, DuplicateDelivery

RAW_ALERT_MAX_BYTES = 100_000
EVENT_TTL = timedelta(days=7)
ACK_CODE_TTL = timedelta(days=7)  # a code lives this long after its incident last paged with it
ACK_CODE_GRACE = timedelta(hours=1)  # after a resolve, late replies still get "already resolved"
SENT_MARK_TTL = timedelta(days=2)  # a page task is retried within minutes; its marks need not outlive that long
TIMELINE_PAGE = 1000


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


STATUS_PAGE_PK = "STATUSPAGE"
ACTIONS_PK = "ACTIONS"
HEARTBEATS_PK = "HEARTBEATS"
CANARY_PK, CANARY_SK = "CANARY", "HEARTBEAT"


def _activity_partition(entry: TimelineEntry) -> str | None:
    """Pages actually sent to a person (they name a channel) and escalations go into the by-activity index."""
    paged = entry.kind is TimelineKind.PAGED and bool(entry.data.get("channel"))
    if paged or entry.kind is TimelineKind.ESCALATED:
        return f"ACTIVITY#{entry.at.astimezone(UTC):%Y-%m}"
    return None


def month_of(at: datetime) -> str:
    return f"MONTH#{at.astimezone(UTC):%Y-%m}"


@dataclass(frozen=True, slots=True)
class BoundModels:
    # Classes made at run time (see bind_models); typed loosely because their attributes are made there too.
    base: Any
    incident: Any
    timeline: Any
    key: Any
    alert: Any
    event: Any
    escalation: Any
    ack_code: Any
    link_nonce: Any
    status_override: Any
    maintenance: Any
    publish_state: Any
    action_item: Any
    connection: Connection
    heartbeat: Any = None


@functools.cache
def bind_models(table_name: str, region: str, host: str | None) -> BoundModels:
    meta_attributes: dict[str, Any] = {"table_name": table_name, "region": region}
    if host:
        meta_attributes["host"] = host

    def index_meta(name: str) -> Any:
        return type("Meta", (), {**meta_attributes, "index_name": name, "projection": AllProjection()})

    class StatusIndex(GlobalSecondaryIndex[Any]):
        Meta: Any = index_meta("by-status")
        status_pk = UnicodeAttribute(hash_key=True)
        opened_at = UnicodeAttribute(range_key=True)

    class ServiceIndex(GlobalSecondaryIndex[Any]):
        Meta: Any = index_meta("by-service")
        service_pk = UnicodeAttribute(hash_key=True)
        opened_at = UnicodeAttribute(range_key=True)

    class TimeIndex(GlobalSecondaryIndex[Any]):
        Meta: Any = index_meta("by-time")
        month_pk = UnicodeAttribute(hash_key=True)
        opened_at = UnicodeAttribute(range_key=True)

    class ActivityIndex(GlobalSecondaryIndex[Any]):
        Meta: Any = index_meta("by-activity")
        activity_pk = UnicodeAttribute(hash_key=True)
        at = UnicodeAttribute(range_key=True)

    class Item(Model):
        Meta: Any = type("Meta", (), meta_attributes)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        kind = DiscriminatorAttribute()
        expires_at = NumberAttribute(null=True)

    class IncidentItem(Item, discriminator="incident"):
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
        version = NumberAttribute()
        roles = UnicodeAttribute(null=True)  # JSON: role -> user
        public_title = UnicodeAttribute(null=True)
        public_updates = UnicodeAttribute(null=True)  # JSON: [PublicNote], oldest first
        drill = BooleanAttribute(null=True)
        drill_participants = ListAttribute(of=UnicodeAttribute, null=True)
        canary = BooleanAttribute(null=True)
        status_pk = UnicodeAttribute(null=True)
        service_pk = UnicodeAttribute()
        month_pk = UnicodeAttribute()
        by_status = StatusIndex()
        by_service = ServiceIndex()
        by_time = TimeIndex()

    class TimelineItem(Item, discriminator="timeline"):
        at = UnicodeAttribute()
        entry_kind = UnicodeAttribute()
        actor = UnicodeAttribute()
        detail = UnicodeAttribute()
        data = UnicodeAttribute(null=True)
        activity_pk = UnicodeAttribute(null=True)  # pages sent and escalations only: the by-activity index
        by_activity = ActivityIndex()

    class ActionItemItem(Item, discriminator="action_item"):
        """pk=ACTIONS sk=<action id>: an action item from an incident, tracked to completion."""

        incident_id = UnicodeAttribute()
        title = UnicodeAttribute()
        owner = UnicodeAttribute()
        due = UnicodeAttribute()
        created_at = UnicodeAttribute()
        created_by = UnicodeAttribute()
        done_at = UnicodeAttribute(null=True)
        done_by = UnicodeAttribute(null=True)

    class KeyItem(Item, discriminator="key"):
        dedup_key = UnicodeAttribute()
        open_incident_id = UnicodeAttribute(null=True)
        last_status = UnicodeAttribute(null=True)
        transitions = ListAttribute(of=UnicodeAttribute, default=list)
        version = NumberAttribute()

    class AlertItem(Item, discriminator="alert"):
        source = UnicodeAttribute()
        delivery_id = UnicodeAttribute()
        received_at = UnicodeAttribute()
        payload = UnicodeAttribute()
        incident_id = UnicodeAttribute(null=True)

    class EscalationItem(Item, discriminator="escalation"):
        """pk=INC#<id> sk=ESC#TOKEN: the task token of the wait in progress; sk=ESC#CODE: the incident's ack code
        (expiring with its code record); sk=SENT#<page id>: the channels a page task has sent (its retry skips
        them; TTL)."""

        token = UnicodeAttribute(null=True)
        execution = UnicodeAttribute(null=True)
        attempt = NumberAttribute(null=True)  # the current escalation attempt (a raised severity starts the next)
        code = UnicodeAttribute(null=True)
        numbers = ListAttribute(of=UnicodeAttribute, default=list)
        sent = ListAttribute(of=UnicodeAttribute, null=True)

    class AckCodeItem(Item, discriminator="ack_code"):
        """pk=ACKCODE#<code> sk=CODE: the code's incident and the numbers paged with it."""

        incident_id = UnicodeAttribute()
        numbers = ListAttribute(of=UnicodeAttribute, default=list)

    class LinkNonceItem(Item, discriminator="link_nonce"):
        """pk=LINKNONCE#<nonce> sk=USED: a signed acknowledgement link that has been used."""

        used_at = UnicodeAttribute()
        incident_id = UnicodeAttribute()

    class StatusOverrideItem(Item, discriminator="status_override"):
        """pk=STATUSPAGE sk=COMPONENT#<id>: a component status set by hand."""

        status = UnicodeAttribute()
        at = UnicodeAttribute()
        actor = UnicodeAttribute()

    class MaintenanceItem(Item, discriminator="maintenance"):
        """pk=STATUSPAGE sk=MAINT#<id>: a scheduled maintenance window."""

        title = UnicodeAttribute()
        components = ListAttribute(of=UnicodeAttribute, default=list)
        starts_at = UnicodeAttribute()
        ends_at = UnicodeAttribute()
        body = UnicodeAttribute(null=True)
        created_at = UnicodeAttribute()
        actor = UnicodeAttribute()

    class PublishStateItem(Item, discriminator="publish_state"):
        """pk=STATUSPAGE sk=PUBLISH: coalesces status page publishes (a request mark and a lease)."""

        requested_at = UnicodeAttribute(null=True)
        lease_owner = UnicodeAttribute(null=True)
        lease_until = NumberAttribute(null=True)

    class HeartbeatItem(Item, discriminator="heartbeat"):
        """pk=HEARTBEATS sk=<name>: instants as fixed-width UTC ISO text, so that they compare as text."""

        first_seen_at = UnicodeAttribute(null=True)
        last_ping_at = UnicodeAttribute(null=True)
        missed_deadline = UnicodeAttribute(null=True)
        recovered = BooleanAttribute(null=True)
        seconds = NumberAttribute(null=True)  # the canary's (pk=CANARY): its last run's end-to-end seconds

    class EventItem(Item, discriminator="event"):
        source = UnicodeAttribute()
        detail_type = UnicodeAttribute()
        detail = UnicodeAttribute()
        created_at = UnicodeAttribute()

    connection = Connection(region=region, host=host)
    return BoundModels(
        Item,
        IncidentItem,
        TimelineItem,
        KeyItem,
        AlertItem,
        EventItem,
        EscalationItem,
        AckCodeItem,
        LinkNonceItem,
        StatusOverrideItem,
        MaintenanceItem,
        PublishStateItem,
        ActionItemItem,
        connection,
        heartbeat=HeartbeatItem,
    )


def models_for(table_name: str) -> BoundModels:
    return bind_models(table_name, region_name(), endpoint_url())


class IncidentStore:
    """Data access for incidents, their timelines, dedup keys, raw alerts and lifecycle events."""

    # dedup key -> incident id of its unresolved incident, as last seen by this process (see append_duplicate).
    _open_incident_cache: ClassVar[OrderedDict[str, str]] = OrderedDict()
    _CACHE_SIZE = 10_000

    @classmethod
    def forget_hints(cls) -> None:
        """Drop the open-incident hints (see siren.bootstrap.forget_built): they describe another store."""
        cls._open_incident_cache.clear()

    def __init__(self, table_name: str, raw_alert_ttl: timedelta = timedelta(days=30)) -> None:
        self._models = models_for(table_name)
        self._raw_alert_ttl = raw_alert_ttl

    # -- reads ----------------------------------------------------------------------------------------
    def key_state(self, dedup_key: str) -> KeyState:
        try:
            item = self._models.key.get(f"KEY#{dedup_key}", "STATE", consistent_read=True)
        except self._models.key.DoesNotExist:
            return KeyState(dedup_key=dedup_key)
        return KeyState(
            dedup_key=dedup_key,
            open_incident_id=item.open_incident_id,
            last_status=SignalStatus(item.last_status) if item.last_status else None,
            transitions=tuple(datetime.fromisoformat(t) for t in item.transitions or []),
            version=int(item.version),
        )

    def get(self, incident_id: str, consistent: bool = True) -> Incident | None:
        try:
            item = self._models.incident.get(f"INC#{incident_id}", "META", consistent_read=consistent)
        except self._models.incident.DoesNotExist:
            return None
        return self._incident(item)

    def view(self, incident_id: str) -> IncidentView | None:
        """The incident and its whole timeline, in one Query of its partition."""
        incident: Incident | None = None
        timeline: list[TimelineEntry] = []
        for item in self._models.base.query(f"INC#{incident_id}", consistent_read=True, page_size=TIMELINE_PAGE):
            if isinstance(item, self._models.incident):
                incident = self._incident(item)
            elif isinstance(item, self._models.timeline):
                timeline.append(self._timeline_entry(item))
        if incident is None:
            return None
        return IncidentView(incident, timeline)

    @staticmethod
    def _timeline_entry(item: Any) -> TimelineEntry:
        return TimelineEntry(
            at=datetime.fromisoformat(item.at),
            kind=TimelineKind(item.entry_kind),
            actor=item.actor,
            detail=item.detail,
            data=json.loads(item.data) if item.data else {},
        )

    def list_by_status(self, status: IncidentStatus, limit: int = 100) -> list[Incident]:
        """Unresolved incidents by status (the by-status index only holds unresolved ones), newest first."""
        if status is IncidentStatus.RESOLVED:
            return self.list_resolved(limit=limit)
        query = self._models.incident.by_status.query(f"STATUS#{status}", scan_index_forward=False, limit=limit)
        return [self._incident(item) for item in query]

    def list_resolved(self, limit: int = 100, months: int = 3, now: datetime | None = None) -> list[Incident]:
        """Recently opened incidents that are resolved, newest first, from the by-time index."""
        found: list[Incident] = []
        month = (now or datetime.now(UTC)).replace(day=1)
        for _ in range(months):
            condition = self._models.incident.status == str(IncidentStatus.RESOLVED)
            query = self._models.incident.by_time.query(
                month_of(month), scan_index_forward=False, filter_condition=condition
            )
            for item in query:
                found.append(self._incident(item))
                if len(found) >= limit:
                    return found
            month = (month - timedelta(days=1)).replace(day=1)
        return found

    def iter_opened_between(self, start: datetime, end: datetime) -> Iterator[Incident]:
        """Incidents opened in [start, end), oldest first, month by month from the by-time index."""
        month = start.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        while month < end:
            key = self._models.incident.opened_at.between(_iso(start), _iso(end - timedelta(microseconds=1)))
            for item in self._models.incident.by_time.query(month_of(month), range_key_condition=key):
                yield self._incident(item)
            month = (month + timedelta(days=32)).replace(day=1)

    def bulk_put(self, incidents: Iterable[Incident]) -> int:
        """Import incidents as they are (history from another tool, a backfill): batched writes, no timeline,
        no lifecycle events, no conditions. Not for live changes, which go through :meth:`apply`."""
        written = 0
        with self._models.incident.batch_write() as batch:
            for incident in incidents:
                batch.save(self._incident_item(incident))
                written += 1
        return written

    def iter_activity(self, start: datetime, end: datetime) -> Iterator[tuple[str, TimelineEntry]]:
        """Pages sent and escalations in [start, end), as (incident id, entry), month by month (by-activity)."""
        timeline = self._models.timeline
        month = start.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        while month < end:
            key = timeline.at.between(_iso(start), _iso(end - timedelta(microseconds=1)))
            for item in timeline.by_activity.query(f"ACTIVITY#{month:%Y-%m}", range_key_condition=key):
                yield item.pk.removeprefix("INC#"), self._timeline_entry(item)
            month = (month + timedelta(days=32)).replace(day=1)

    # -- action items ----------------------------------------------------------------------------------------
    def add_action_item(self, item: ActionItemRecord) -> None:
        self._models.action_item(
            ACTIONS_PK,
            item.id,
            incident_id=item.incident_id,
            title=item.title,
            owner=item.owner,
            due=item.due.isoformat(),
            created_at=_iso(item.created_at),
            created_by=item.created_by,
        ).save(condition=self._models.action_item.pk.does_not_exist())

    def complete_action_item(self, action_id: str, actor: str, now: datetime) -> ActionItemRecord | None:
        """Mark done (once); None when there is no such item. Done again: unchanged."""
        model = self._models.action_item
        try:
            item = model.get(ACTIONS_PK, action_id, consistent_read=True)
        except model.DoesNotExist:
            return None
        if not item.done_at:
            item.update(actions=[model.done_at.set(_iso(now)), model.done_by.set(actor)])
        return self._action_item(item)

    def action_items(self) -> Iterator[ActionItemRecord]:
        for item in self._models.action_item.query(ACTIONS_PK):
            yield self._action_item(item)

    def _action_item(self, item: Any) -> ActionItemRecord:
        return ActionItemRecord(
            id=item.sk,
            incident_id=item.incident_id,
            title=item.title,
            owner=item.owner,
            due=date.fromisoformat(item.due),
            created_at=datetime.fromisoformat(item.created_at),
            created_by=item.created_by,
            done_at=_dt(item.done_at),
            done_by=item.done_by,
        )

    def get_raw_alert(self, source: str, delivery_id: str) -> RawAlert | None:
        try:
            item = self._models.alert.get(f"ALERT#{source}#{delivery_id}", "ALERT")
        except self._models.alert.DoesNotExist:
            return None
        return RawAlert(
            source=item.source,
            delivery_id=item.delivery_id,
            received_at=datetime.fromisoformat(item.received_at),
            payload=json.loads(item.payload),
        )

    # -- writes ---------------------------------------------------------------------------------------
    def record_raw_alert(self, alert: RawAlert) -> bool:
        """Keep an alert that changes nothing. Returns False when this delivery was already recorded."""
        return _won(lambda: self._raw_alert_item(alert, None).save(condition=self._models.alert.pk.does_not_exist()))

    def apply(self, outcome: Outcome, raw: RawAlert | None, actor_now: datetime | None = None) -> None:
        """Write ``outcome`` atomically.

        Raises DuplicateDelivery when ``raw``'s delivery was applied before, and ConcurrentChange when the
        incident or the key changed since they were read.
        """
        now = actor_now or datetime.now(UTC)
        models = self._models
        with self._transaction() as transaction:
            if raw is not None:
                # First put of the transaction: its cancellation reason is checked by index in _transaction.
                incident_id = outcome.incident.id if outcome.incident else None
                transaction.save(self._raw_alert_item(raw, incident_id), condition=models.alert.pk.does_not_exist())
            if outcome.incident is not None:
                item = self._incident_item(outcome.incident)
                if outcome.previous is None:
                    transaction.save(item, condition=models.incident.pk.does_not_exist())
                else:
                    transaction.save(item, condition=models.incident.version == outcome.previous.version)
            if outcome.key_state is not None:
                key_item, key_condition = self._key_item(outcome.key_state)
                transaction.save(key_item, condition=key_condition)
            if outcome.incident is not None:
                for position, entry in enumerate(outcome.timeline):
                    transaction.save(self._timeline_item(outcome.incident.id, entry, position))
            for event in outcome.events:
                transaction.save(self._event_item(event, now))
        if outcome.incident is not None:
            self._remember(outcome.incident)

    def append_duplicate(self, dedup_key: str, entry: TimelineEntry, raw: RawAlert) -> str | None:
        """The cheap path for a duplicate of an open or acknowledged incident: one request, no read.

        Uses this process's memory of the key's incident; returns its id, or None (and forgets it) when that
        incident is no longer open or acknowledged, so the caller takes the full path.
        """
        incident_id = self._open_incident_cache.get(dedup_key)
        if incident_id is None:
            return None
        models = self._models
        probe = models.incident(f"INC#{incident_id}", "META")
        active = models.incident.status.is_in(str(IncidentStatus.OPEN), str(IncidentStatus.ACKNOWLEDGED))
        try:
            with self._transaction() as transaction:
                transaction.save(self._raw_alert_item(raw, incident_id), condition=models.alert.pk.does_not_exist())
                transaction.update(
                    probe,
                    actions=[
                        models.incident.alert_count.add(1),
                        models.incident.last_seen_at.set(_iso(entry.at)),
                        models.incident.version.add(1),
                    ],
                    condition=active & (models.incident.dedup_key == dedup_key),
                    add_version_condition=False,
                )
                transaction.save(self._timeline_item(incident_id, entry))
        except ConcurrentChange:
            self._open_incident_cache.pop(dedup_key, None)
            return None
        return incident_id

    # -- escalation state -------------------------------------------------------------------------------
    def add_timeline(self, incident_id: str, entries: list[TimelineEntry]) -> None:
        """Entries that change no state (pages sent, escalation steps): plain puts, in order."""
        for position, entry in enumerate(entries):
            self._timeline_item(incident_id, entry, position).save()

    def sent_channels(self, incident_id: str, page_id: str) -> tuple[str, ...]:
        """The channels page task ``page_id`` already sent (a retried task skips them)."""
        try:
            item = self._models.escalation.get(f"INC#{incident_id}", f"SENT#{page_id}", consistent_read=True)
        except self._models.escalation.DoesNotExist:
            return ()
        return tuple(item.sent or ())

    def record_send(
        self, incident_id: str, entries: list[TimelineEntry], *, page_id: str, sent: tuple[str, ...], now: datetime
    ) -> None:
        """One send's timeline entries, written when it happens, with the channels the task has sent so far (when
        it sent something): one transaction, so the timeline never says less than what went out."""
        models = self._models
        with TransactWrite(connection=models.connection) as transaction:
            for position, entry in enumerate(entries):
                transaction.save(self._timeline_item(incident_id, entry, position))
            if sent:
                transaction.save(
                    models.escalation(
                        f"INC#{incident_id}",
                        f"SENT#{page_id}",
                        sent=list(sent),
                        expires_at=int((now + SENT_MARK_TTL).timestamp()),
                    )
                )

    def hold_token(self, incident_id: str, token: str, execution: str, attempt: int = 1) -> bool:
        """Keep the wait's task token, unless a later attempt (a raised severity) has taken over: then False."""
        escalation = self._models.escalation
        return _won(
            lambda: escalation(f"INC#{incident_id}", "ESC#TOKEN").update(
                actions=[
                    escalation.token.set(token),
                    escalation.execution.set(execution),
                    escalation.attempt.set(attempt),
                    escalation.kind.set(escalation),
                ],
                condition=escalation.attempt.does_not_exist() | (escalation.attempt <= attempt),
            )
        )

    def supersede_escalation(self, incident_id: str, attempt: int) -> str | None:
        """Make ``attempt`` the incident's escalation (it only moves forward) and return the task token of the
        wait it replaces, to be ended. One atomic update: a wait being held at the same moment either lands
        before (and is returned here) or is refused (and ends itself)."""
        escalation = self._models.escalation
        try:
            response = escalation._get_connection().update_item(
                f"INC#{incident_id}",
                "ESC#TOKEN",
                actions=[
                    escalation.attempt.set(attempt),
                    escalation.token.remove(),
                    escalation.execution.remove(),
                    escalation.kind.set(escalation),
                ],
                condition=escalation.attempt.does_not_exist() | (escalation.attempt < attempt),
                return_values="ALL_OLD",
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None  # this attempt (or a later one) is already current: a redelivered event
            raise
        token = (response.get("Attributes") or {}).get("token", {}).get("S")
        return str(token) if token else None

    def current_attempt(self, incident_id: str) -> int:
        try:
            item = self._models.escalation.get(f"INC#{incident_id}", "ESC#TOKEN", consistent_read=True)
        except self._models.escalation.DoesNotExist:
            return 1
        return int(item.attempt or 1)

    def held_token(self, incident_id: str) -> tuple[str, str] | None:
        try:
            item = self._models.escalation.get(f"INC#{incident_id}", "ESC#TOKEN", consistent_read=True)
        except self._models.escalation.DoesNotExist:
            return None
        return (item.token, item.execution) if item.token else None

    # -- acknowledgement codes ---------------------------------------------------------------------------
    # Two items, one expiry: the binding pk=INC#<id> sk=ESC#CODE (incident -> code) and the code record
    # pk=ACKCODE#<code> sk=CODE (code -> incident and the numbers paged with it). They are written together, each on
    # the condition that it is free (absent or expired: TTL deletes within days, not on time) or already this
    # incident's, so a code is never held by two live incidents and never outlives its binding.
    def ack_code(
        self,
        incident_id: str,
        new_code: Callable[[], str],
        now: datetime,
        ttl: timedelta = ACK_CODE_TTL,
        attempts: int = 20,
    ) -> str | None:
        """The incident's live acknowledgement code, its life renewed to ``now + ttl`` (an incident open for weeks
        keeps its code while it keeps paging); a new code when it has none or its code expired or was freed. None
        when no free code was found in ``attempts`` draws: the caller pages without a code and records it."""
        models = self._models
        now_s, expires = int(now.timestamp()), int((now + ttl).timestamp())
        current = self._code_of(incident_id, now_s)
        if current is not None and self._renew_code(incident_id, current, now_s, expires):
            return current
        for _ in range(attempts):
            code = new_code()
            binding_free = models.escalation.pk.does_not_exist() | (models.escalation.expires_at <= now_s)
            if current is not None:  # a live binding whose code record was lost: replace that binding only
                binding_free = binding_free | (models.escalation.code == current)
            try:
                with TransactWrite(connection=models.connection) as transaction:
                    transaction.save(
                        models.ack_code(
                            f"ACKCODE#{code}", "CODE", incident_id=incident_id, numbers=[], expires_at=expires
                        ),
                        condition=models.ack_code.pk.does_not_exist() | (models.ack_code.expires_at <= now_s),
                    )
                    transaction.save(
                        models.escalation(f"INC#{incident_id}", "ESC#CODE", code=code, expires_at=expires),
                        condition=binding_free,
                    )
            except TransactWriteError as failure:
                reasons = [reason.code if reason else None for reason in (failure.cancellation_reasons or [])]
                if len(reasons) == 2 and reasons[1] == "ConditionalCheckFailed":
                    # Another step of this incident allocated one first: use theirs.
                    theirs = self._code_of(incident_id, now_s)
                    if theirs is not None:
                        return theirs
                if failure.cause_response_code != "TransactionCanceledException":
                    raise
                continue  # the code is live elsewhere (or a concurrent write): draw another
            return code
        return None

    def _code_of(self, incident_id: str, now_s: int) -> str | None:
        try:
            item = self._models.escalation.get(f"INC#{incident_id}", "ESC#CODE", consistent_read=True)
        except self._models.escalation.DoesNotExist:
            return None
        if not item.code or (item.expires_at is not None and item.expires_at <= now_s):
            return None
        return str(item.code)

    def _renew_code(self, incident_id: str, code: str, now_s: int, expires: int) -> bool:
        """Push the expiry of a live code and its binding to ``expires``; False when the code is no longer this
        incident's (freed or expired meanwhile)."""
        models = self._models
        try:
            with TransactWrite(connection=models.connection) as transaction:
                transaction.update(
                    models.ack_code(f"ACKCODE#{code}", "CODE"),
                    actions=[models.ack_code.expires_at.set(expires)],
                    condition=(models.ack_code.incident_id == incident_id) & (models.ack_code.expires_at > now_s),
                )
                transaction.update(
                    models.escalation(f"INC#{incident_id}", "ESC#CODE"),
                    actions=[models.escalation.expires_at.set(expires)],
                    condition=(models.escalation.code == code) & (models.escalation.expires_at > now_s),
                )
        except TransactWriteError as failure:
            if failure.cause_response_code == "TransactionCanceledException":
                return False
            raise
        return True

    def bind_number(self, code: str, incident_id: str, number: str, now: datetime) -> bool:
        """Record that ``number`` is paged with ``code`` for ``incident_id``: only those numbers may answer with it.
        Conditional on the code being this incident's and live: False (nothing written) when it is not."""
        models = self._models
        return _won(
            lambda: models.ack_code(f"ACKCODE#{code}", "CODE").update(
                actions=[models.ack_code.numbers.set(models.ack_code.numbers.append([number]))],
                condition=(models.ack_code.incident_id == incident_id)
                & (models.ack_code.expires_at > int(now.timestamp())),
            )
        )

    def free_ack_code(self, incident_id: str, now: datetime, grace: timedelta = ACK_CODE_GRACE) -> str | None:
        """A resolved incident gives its code back: the code and its binding expire after ``grace`` (a late
        "RES <code>" from a paged number is still answered "already resolved"), then the code can be drawn again.
        Idempotent; returns the code freed, if any."""
        models = self._models
        now_s = int(now.timestamp())
        code = self._code_of(incident_id, now_s)
        if code is None:
            return None
        ends = int((now + grace).timestamp())
        try:
            with TransactWrite(connection=models.connection) as transaction:
                transaction.update(
                    models.ack_code(f"ACKCODE#{code}", "CODE"),
                    actions=[models.ack_code.expires_at.set(ends)],
                    condition=models.ack_code.incident_id == incident_id,
                )
                transaction.update(
                    models.escalation(f"INC#{incident_id}", "ESC#CODE"),
                    actions=[models.escalation.expires_at.set(ends)],
                    condition=models.escalation.code == code,
                )
        except TransactWriteError as failure:
            if failure.cause_response_code != "TransactionCanceledException":
                raise
            # The code record is another incident's already (this binding was stale): end the binding alone.
            models.escalation(f"INC#{incident_id}", "ESC#CODE").update(
                actions=[models.escalation.expires_at.set(now_s)], condition=models.escalation.code == code
            )
        return code

    def code_binding(self, code: str, now: datetime | None = None) -> tuple[str, list[str]] | None:
        """The live code's incident and the numbers paged with it; None for a code that is free or expired."""
        try:
            item = self._models.ack_code.get(f"ACKCODE#{code}", "CODE", consistent_read=True)
        except self._models.ack_code.DoesNotExist:
            return None
        at = (now or datetime.now(UTC)).timestamp()
        if item.expires_at is not None and item.expires_at <= at:
            return None
        return str(item.incident_id), list(item.numbers or [])

    def use_link_nonce(self, nonce: str, incident_id: str, expires_at: datetime, now: datetime) -> bool:
        """Mark a signed link as used; False when it already was (a conditional put: one winner under races)."""
        models = self._models
        return _won(
            lambda: models.link_nonce(
                f"LINKNONCE#{nonce}",
                "USED",
                used_at=_iso(now),
                incident_id=incident_id,
                expires_at=int(expires_at.timestamp()),
            ).save(condition=models.link_nonce.pk.does_not_exist())
        )

    def release_link_nonce(self, nonce: str) -> None:
        """Give a link back when the action it was used for failed, so that the person can try it again."""
        self._models.link_nonce(f"LINKNONCE#{nonce}", "USED").delete()

    def claim_sms_reply(self, number: str, now: datetime, window: timedelta = timedelta(minutes=1)) -> bool:
        """Take ``number``'s one SMS reply of ``window``; False when it had one less than ``window`` ago.

        pk=SMSREPLY#<number> sk=WINDOW, TTL at the window's end. A conditional put (one winner under races) that
        reads the expiry itself, because TTL deletes within days, not on time."""
        models = self._models
        ends = int((now + window).timestamp())
        # No model kind of its own (one key and a TTL): the table connection of the base model writes it.
        return _won(
            lambda: models.base._get_connection().put_item(
                f"SMSREPLY#{number}",
                "WINDOW",
                attributes={"kind": {"S": "sms_reply"}, "expires_at": {"N": str(ends)}},
                condition=models.base.pk.does_not_exist() | (models.base.expires_at <= int(now.timestamp())),
            )
        )

    # -- heartbeats ------------------------------------------------------------------------------------------
    def heartbeat_states(self) -> dict[str, HeartbeatState]:
        """Every heartbeat's state, by name: one Query of their partition."""
        items = self._models.heartbeat.query(HEARTBEATS_PK, consistent_read=True)
        return {item.sk: _heartbeat_state(item) for item in items}

    def heartbeat_state(self, name: str) -> HeartbeatState:
        try:
            return _heartbeat_state(self._models.heartbeat.get(HEARTBEATS_PK, name, consistent_read=True))
        except self._models.heartbeat.DoesNotExist:
            return HeartbeatState()

    def record_canary(self, at: datetime, seconds: float) -> None:
        """Siren's canary ran end to end at ``at`` in ``seconds`` (an older run never replaces a newer one)."""
        model = self._models.heartbeat
        instant = _instant(at)
        try:
            model(CANARY_PK, CANARY_SK).update(
                actions=[model.last_ping_at.set(instant), model.seconds.set(round(seconds, 3)), model.kind.set(model)],
                condition=model.last_ping_at.does_not_exist() | (model.last_ping_at < instant),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise

    def canary(self) -> tuple[datetime, float] | None:
        """Siren's canary: when it last ran end to end, and in how many seconds (None: never)."""
        try:
            item = self._models.heartbeat.get(CANARY_PK, CANARY_SK, consistent_read=True)
        except self._models.heartbeat.DoesNotExist:
            return None
        return datetime.fromisoformat(item.last_ping_at), float(item.seconds or 0)

    def heartbeat_seen(self, name: str, now: datetime) -> HeartbeatState:
        """Note when a heartbeat was first seen (kept if it already was): its first deadline counts from then."""
        model = self._models.heartbeat
        item = model(HEARTBEATS_PK, name)
        item.update(actions=[model.first_seen_at.set(model.first_seen_at | _instant(now)), model.kind.set(model)])
        return _heartbeat_state(item)  # update() reads the item back (ALL_NEW)

    def record_heartbeat_ping(self, name: str, now: datetime) -> HeartbeatState:
        """Record a ping; a ping older than the one recorded (a late retry) changes nothing. Returns the state."""
        model = self._models.heartbeat
        at = _instant(now)
        item = model(HEARTBEATS_PK, name)
        try:
            item.update(
                actions=[
                    model.last_ping_at.set(at),
                    model.first_seen_at.set(model.first_seen_at | at),
                    model.kind.set(model),
                ],
                condition=model.last_ping_at.does_not_exist() | (model.last_ping_at < at),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return self.heartbeat_state(name)
            raise
        return _heartbeat_state(item)

    def mark_heartbeat_missed(self, name: str, deadline: datetime) -> None:
        """Remember that ``deadline`` was reported missed (once: the same deadline again changes nothing)."""
        model = self._models.heartbeat
        at = _instant(deadline)
        with _unless_condition_fails():
            model(HEARTBEATS_PK, name).update(
                actions=[model.missed_deadline.set(at), model.recovered.set(False), model.kind.set(model)],
                condition=model.missed_deadline.does_not_exist() | (model.missed_deadline != at),
            )

    def mark_heartbeat_recovered(self, name: str, deadline: datetime) -> None:
        """Remember that the recovery from ``deadline`` was reported; nothing if a later deadline was missed since."""
        model = self._models.heartbeat
        with _unless_condition_fails():
            model(HEARTBEATS_PK, name).update(
                actions=[model.recovered.set(True)], condition=model.missed_deadline == _instant(deadline)
            )

    # -- the status page -------------------------------------------------------------------------------------
    def set_component_status(self, component_id: str, status: str, actor: str, now: datetime) -> None:
        """A component status set by hand; ``operational`` clears it (incidents decide again)."""
        item = self._models.status_override(STATUS_PAGE_PK, f"COMPONENT#{component_id}")
        if status == "operational":
            item.delete()
            return
        self._models.status_override(
            STATUS_PAGE_PK, f"COMPONENT#{component_id}", status=status, at=_iso(now), actor=actor
        ).save()

    def add_maintenance(self, window: Maintenance, actor: str) -> None:
        self._models.maintenance(
            STATUS_PAGE_PK,
            f"MAINT#{window.id}",
            title=window.title,
            components=list(window.component_ids),
            starts_at=_iso(window.starts_at),
            ends_at=_iso(window.ends_at),
            body=window.body or None,
            created_at=_iso(window.created_at or datetime.now(UTC)),
            actor=actor,
        ).save(condition=self._models.maintenance.pk.does_not_exist())

    # Publishing is coalesced: every trigger marks a request; one publisher at a time holds a lease and publishes
    # until no request came in while it worked. Concurrent triggers then cost one extra publish, not one each,
    # and an older snapshot can never overwrite a newer one.
    def request_publish(self, now: datetime) -> str:
        marker = f"{_iso(now)}#{uuid.uuid4().hex[:8]}"
        state = self._models.publish_state
        state(STATUS_PAGE_PK, "PUBLISH").update(actions=[state.requested_at.set(marker), state.kind.set(state)])
        return marker

    def acquire_publish_lease(self, owner: str, now: datetime, lease: timedelta) -> str | None:
        """Take the lease (free, expired, or ours already); returns the request mark it publishes up to."""
        state = self._models.publish_state
        moment = int(now.timestamp())
        item = state(STATUS_PAGE_PK, "PUBLISH")
        try:
            item.update(
                actions=[
                    state.lease_owner.set(owner),
                    state.lease_until.set(moment + int(lease.total_seconds())),
                    state.kind.set(state),
                ],
                condition=state.lease_until.does_not_exist()
                | (state.lease_until < moment)
                | (state.lease_owner == owner),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return str(item.requested_at or "")  # update() reads the item back (ALL_NEW) into ``item``

    def release_publish_lease(self, owner: str, published_up_to: str) -> bool:
        """Give the lease back if no request came in since ``published_up_to``; False: publish again."""
        state = self._models.publish_state
        return _won(
            lambda: state(STATUS_PAGE_PK, "PUBLISH").update(
                actions=[state.lease_owner.remove(), state.lease_until.remove()],
                condition=(state.lease_owner == owner) & (state.requested_at == published_up_to),
            )
        )

    def status_page_items(self) -> tuple[dict[str, ComponentOverride], list[Maintenance]]:
        """Component statuses set by hand and maintenance windows: one Query on the status page's partition."""
        overrides: dict[str, ComponentOverride] = {}
        windows: list[Maintenance] = []
        for item in self._models.base.query(STATUS_PAGE_PK, consistent_read=True):
            if item.sk.startswith("COMPONENT#"):
                component_id = item.sk.removeprefix("COMPONENT#")
                overrides[component_id] = ComponentOverride(
                    component_id, ComponentStatus(item.status), datetime.fromisoformat(item.at)
                )
            elif item.sk.startswith("MAINT#"):
                windows.append(
                    Maintenance(
                        id=item.sk.removeprefix("MAINT#"),
                        title=item.title,
                        component_ids=tuple(item.components or ()),
                        starts_at=datetime.fromisoformat(item.starts_at),
                        ends_at=datetime.fromisoformat(item.ends_at),
                        body=item.body or "",
                        created_at=datetime.fromisoformat(item.created_at),
                    )
                )
        return overrides, windows

    def _remember(self, incident: Incident) -> None:
        cache = self._open_incident_cache
        if incident.status in (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED):
            cache[incident.dedup_key] = incident.id
            cache.move_to_end(incident.dedup_key)
            while len(cache) > self._CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.pop(incident.dedup_key, None)

    # -- items ----------------------------------------------------------------------------------------
    class _Transaction:
        def __init__(self, store: IncidentStore) -> None:
            self.inner = TransactWrite(connection=store._models.connection)

        def __enter__(self) -> TransactWrite:
            return self.inner.__enter__()

        def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
            try:
                self.inner.__exit__(kind, error, trace)
            except TransactWriteError as failure:
                if failure.cause_response_code != "TransactionCanceledException":
                    raise
                reasons = failure.cancellation_reasons or []
                codes = [reason.code if reason else None for reason in reasons]
                if codes and codes[0] == "ConditionalCheckFailed" and self._first_is_alert():
                    raise DuplicateDelivery("this delivery was already applied") from None
                if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                    raise ConcurrentChange(f"a concurrent change won ({codes})") from None
                raise

        def _first_is_alert(self) -> bool:
            puts = self.inner._put_items
            return bool(puts) and str(puts[0]["Item"]["pk"]["S"]).startswith("ALERT#")

    def _transaction(self) -> IncidentStore._Transaction:
        return IncidentStore._Transaction(self)

    def _raw_alert_item(self, alert: RawAlert, incident_id: str | None) -> Any:
        payload = json.dumps(alert.payload, separators=(",", ":"), sort_keys=True, default=str)
        if len(payload.encode()) > RAW_ALERT_MAX_BYTES:
            payload = json.dumps({"truncated": True, "head": payload[: RAW_ALERT_MAX_BYTES // 2]})
        return self._models.alert(
            f"ALERT#{alert.source}#{alert.delivery_id}",
            "ALERT",
            source=alert.source,
            delivery_id=alert.delivery_id,
            received_at=_iso(alert.received_at),
            payload=payload,
            incident_id=incident_id,
            expires_at=int((alert.received_at + self._raw_alert_ttl).timestamp()),
        )

    def _incident_item(self, incident: Incident) -> Any:
        unresolved = incident.status is not IncidentStatus.RESOLVED
        return self._models.incident(
            f"INC#{incident.id}",
            "META",
            id=incident.id,
            status=str(incident.status),
            severity=incident.severity,
            title=incident.title,
            service=incident.service,
            dedup_key=incident.dedup_key,
            source=incident.source,
            opened_at=_iso(incident.opened_at),
            last_seen_at=_iso(incident.last_seen_at),
            alert_count=incident.alert_count,
            summary=incident.summary or None,
            link=incident.link,
            severity_rule=incident.severity_rule or None,
            acknowledged_at=_iso(incident.acknowledged_at),
            acknowledged_by=incident.acknowledged_by,
            recovered_at=_iso(incident.recovered_at),
            resolved_at=_iso(incident.resolved_at),
            resolved_by=incident.resolved_by,
            flapping=incident.flapping,
            version=incident.version,
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

    def _incident(self, item: Any) -> Incident:
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
            acknowledged_at=_dt(item.acknowledged_at),
            acknowledged_by=item.acknowledged_by,
            recovered_at=_dt(item.recovered_at),
            resolved_at=_dt(item.resolved_at),
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

    def _key_item(self, state: KeyState) -> tuple[Any, Any]:
        models = self._models
        item = models.key(
            f"KEY#{state.dedup_key}",
            "STATE",
            dedup_key=state.dedup_key,
            open_incident_id=state.open_incident_id,
            last_status=str(state.last_status) if state.last_status else None,
            transitions=[_iso(t) for t in state.transitions],
            version=state.version,
        )
        previous_version = state.version - 1
        condition = (
            models.key.pk.does_not_exist() if previous_version == 0 else (models.key.version == previous_version)
        )
        return item, condition

    def _timeline_item(self, incident_id: str, entry: TimelineEntry, position: int = 0) -> Any:
        # Entries written together share a timestamp; their position keeps them in the order they happened.
        return self._models.timeline(
            f"INC#{incident_id}",
            f"TL#{_iso(entry.at)}#{position:02d}#{uuid.uuid4().hex[:8]}",
            at=_iso(entry.at),
            entry_kind=str(entry.kind),
            actor=entry.actor,
            detail=entry.detail,
            data=json.dumps(dict(entry.data), default=str) if entry.data else None,
            activity_pk=_activity_partition(entry),
        )

    def _event_item(self, event: LifecycleEvent, now: datetime) -> Any:
        from siren.domain.incidents import EVENT_SOURCE

        return self._models.event(
            f"EVENT#{uuid.uuid4()}",
            "EVENT",
            source=EVENT_SOURCE,
            detail_type=str(event.detail_type),
            detail=json.dumps(dict(event.detail), default=str),
            created_at=_iso(now),
            expires_at=int((now + EVENT_TTL).timestamp()),
        )


def _instant(moment: datetime) -> str:
    """Fixed-width UTC ISO text (always with microseconds): two instants compare as their texts do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _heartbeat_state(item: Any) -> HeartbeatState:
    return HeartbeatState(
        first_seen_at=_dt(item.first_seen_at),
        last_ping_at=_dt(item.last_ping_at),
        missed_deadline=_dt(item.missed_deadline),
        recovered=bool(item.recovered),
    )


@contextlib.contextmanager
def _unless_condition_fails() -> Iterator[None]:
    """An update whose condition says it is not needed (someone else made it already) is not an error."""
    try:
        yield
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def _won(write: Callable[[], object]) -> bool:
    """Run one conditional write: True when it wrote, False when its condition failed (another writer won, or the
    state had already moved on); any other failure raises."""
    try:
        write()
    except (PutError, UpdateError) as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
