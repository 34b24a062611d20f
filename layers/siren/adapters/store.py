"""TEMPORARY: the one-class store, kept only while the use cases (siren.app) and siren.bootstrap still take it;
removed when the use cases take the ports.

The store is siren.adapters.dynamodb, one repository per noun; :class:`IncidentStore` only delegates to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from siren.adapters.dynamodb import DynamoIncidents, DynamoStore, dynamo_store
from siren.adapters.dynamodb.ack_codes import ACK_CODE_GRACE, ACK_CODE_TTL, SMS_REPLY_WINDOW
from siren.adapters.dynamodb.incident_items import activity_partition as _activity_partition
from siren.adapters.dynamodb.incidents import RAW_ALERT_TTL
from siren.adapters.dynamodb.table import bind_models
from siren.domain.heartbeats import HeartbeatState
from siren.domain.incidents import Incident, IncidentStatus, KeyState, Outcome, TimelineEntry
from siren.domain.records import ActionItemRecord, IncidentView, RawAlert
from siren.domain.status import ComponentOverride, Maintenance

__all__ = ["IncidentStore", "_activity_partition", "bind_models"]


class IncidentStore:
    """Every noun of the table behind one object, as the use cases took it before the ports."""

    @classmethod
    def forget_hints(cls) -> None:
        DynamoIncidents.forget_hints()

    def __init__(self, table_name: str, raw_alert_ttl: timedelta = RAW_ALERT_TTL) -> None:
        self._take(dynamo_store(table_name, raw_alert_ttl))

    @classmethod
    def over(cls, stores: DynamoStore) -> IncidentStore:
        """The one-class store over repositories already made (a caller that also uses them directly)."""
        store = cls.__new__(cls)
        store._take(stores)
        return store

    def _take(self, stores: DynamoStore) -> None:
        self._incidents = stores.incidents
        self._escalations = stores.escalations
        self._ack_codes = stores.ack_codes
        self._heartbeats = stores.heartbeats
        self._status_page = stores.status_page
        self._action_items = stores.action_items

    # -- incidents ------------------------------------------------------------------------------------
    def key_state(self, dedup_key: str) -> KeyState:
        return self._incidents.key_state(dedup_key)

    def get(self, incident_id: str, consistent: bool = True) -> Incident | None:
        return self._incidents.get(incident_id, consistent)

    def view(self, incident_id: str) -> IncidentView | None:
        return self._incidents.view(incident_id)

    def list_by_status(self, status: IncidentStatus, limit: int = 100) -> list[Incident]:
        return self._incidents.list_by_status(status, limit)

    def list_resolved(self, limit: int = 100, months: int = 3, now: datetime | None = None) -> list[Incident]:
        return self._incidents.list_resolved(limit, months, now)

    def iter_opened_between(self, start: datetime, end: datetime) -> Iterator[Incident]:
        return self._incidents.iter_opened_between(start, end)

    def iter_activity(self, start: datetime, end: datetime) -> Iterator[tuple[str, TimelineEntry]]:
        return self._incidents.iter_activity(start, end)

    def bulk_put(self, incidents: Iterable[Incident]) -> int:
        return self._incidents.bulk_put(incidents)

    def get_raw_alert(self, source: str, delivery_id: str) -> RawAlert | None:
        return self._incidents.get_raw_alert(source, delivery_id)

    def record_raw_alert(self, alert: RawAlert) -> bool:
        return self._incidents.record_raw_alert(alert)

    def apply(self, outcome: Outcome, raw: RawAlert | None, actor_now: datetime | None = None) -> None:
        self._incidents.apply(outcome, raw, actor_now)

    def append_duplicate(self, dedup_key: str, entry: TimelineEntry, raw: RawAlert) -> str | None:
        return self._incidents.append_duplicate(dedup_key, entry, raw)

    def add_timeline(self, incident_id: str, entries: list[TimelineEntry]) -> None:
        self._incidents.add_timeline(incident_id, entries)

    # -- escalations ----------------------------------------------------------------------------------
    def sent_channels(self, incident_id: str, page_id: str) -> tuple[str, ...]:
        return self._escalations.sent_channels(incident_id, page_id)

    def record_send(
        self, incident_id: str, entries: list[TimelineEntry], *, page_id: str, sent: tuple[str, ...], now: datetime
    ) -> None:
        self._escalations.record_send(incident_id, entries, page_id=page_id, sent=sent, now=now)

    def hold_token(self, incident_id: str, token: str, execution: str, attempt: int = 1) -> bool:
        return self._escalations.hold_token(incident_id, token, execution, attempt)

    def supersede_escalation(self, incident_id: str, attempt: int) -> str | None:
        return self._escalations.supersede_escalation(incident_id, attempt)

    def current_attempt(self, incident_id: str) -> int:
        return self._escalations.current_attempt(incident_id)

    def held_token(self, incident_id: str) -> tuple[str, str] | None:
        return self._escalations.held_token(incident_id)

    # -- acknowledgement codes ------------------------------------------------------------------------
    def ack_code(
        self,
        incident_id: str,
        new_code: Callable[[], str],
        now: datetime,
        ttl: timedelta = ACK_CODE_TTL,
        attempts: int = 20,
    ) -> str | None:
        return self._ack_codes.ack_code(incident_id, new_code, now, ttl, attempts)

    def bind_number(self, code: str, incident_id: str, number: str, now: datetime) -> bool:
        return self._ack_codes.bind_number(code, incident_id, number, now)

    def free_ack_code(self, incident_id: str, now: datetime, grace: timedelta = ACK_CODE_GRACE) -> str | None:
        return self._ack_codes.free_ack_code(incident_id, now, grace)

    def code_binding(self, code: str, now: datetime | None = None) -> tuple[str, list[str]] | None:
        return self._ack_codes.code_binding(code, now)

    def use_link_nonce(self, nonce: str, incident_id: str, expires_at: datetime, now: datetime) -> bool:
        return self._ack_codes.use_link_nonce(nonce, incident_id, expires_at, now)

    def release_link_nonce(self, nonce: str) -> None:
        self._ack_codes.release_link_nonce(nonce)

    def claim_sms_reply(self, number: str, now: datetime, window: timedelta = SMS_REPLY_WINDOW) -> bool:
        return self._ack_codes.claim_sms_reply(number, now, window)

    # -- heartbeats -----------------------------------------------------------------------------------
    def heartbeat_states(self) -> dict[str, HeartbeatState]:
        return self._heartbeats.heartbeat_states()

    def heartbeat_state(self, name: str) -> HeartbeatState:
        return self._heartbeats.heartbeat_state(name)

    def heartbeat_seen(self, name: str, now: datetime) -> HeartbeatState:
        return self._heartbeats.heartbeat_seen(name, now)

    def record_heartbeat_ping(self, name: str, now: datetime) -> HeartbeatState:
        return self._heartbeats.record_heartbeat_ping(name, now)

    def mark_heartbeat_missed(self, name: str, deadline: datetime) -> None:
        self._heartbeats.mark_heartbeat_missed(name, deadline)

    def mark_heartbeat_recovered(self, name: str, deadline: datetime) -> None:
        self._heartbeats.mark_heartbeat_recovered(name, deadline)

    def record_canary(self, at: datetime, seconds: float) -> None:
        self._heartbeats.record_canary(at, seconds)

    def canary(self) -> tuple[datetime, float] | None:
        return self._heartbeats.canary()

    # -- the status page ------------------------------------------------------------------------------
    def set_component_status(self, component_id: str, status: str, actor: str, now: datetime) -> None:
        self._status_page.set_component_status(component_id, status, actor, now)

    def add_maintenance(self, window: Maintenance, actor: str) -> None:
        self._status_page.add_maintenance(window, actor)

    def request_publish(self, now: datetime) -> str:
        return self._status_page.request_publish(now)

    def acquire_publish_lease(self, owner: str, now: datetime, lease: timedelta) -> str | None:
        return self._status_page.acquire_publish_lease(owner, now, lease)

    def release_publish_lease(self, owner: str, published_up_to: str) -> bool:
        return self._status_page.release_publish_lease(owner, published_up_to)

    def status_page_items(self) -> tuple[dict[str, ComponentOverride], list[Maintenance]]:
        return self._status_page.status_page_items()

    # -- action items ---------------------------------------------------------------------------------
    def add_action_item(self, item: ActionItemRecord) -> None:
        self._action_items.add_action_item(item)

    def complete_action_item(self, action_id: str, actor: str, now: datetime) -> ActionItemRecord | None:
        return self._action_items.complete_action_item(action_id, actor, now)

    def action_items(self) -> Iterator[ActionItemRecord]:
        return self._action_items.action_items()
