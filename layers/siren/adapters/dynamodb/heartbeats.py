"""Heartbeats and Siren's own canary (siren.ports.HeartbeatRecords).

Instants are stored as fixed-width UTC ISO text, so that a condition compares them as text: a late retry of an
older ping never replaces a newer one, without a read first.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from siren.adapters.dynamodb.table import Item, bound_table, instant, parse_iso, unless_condition_fails
from siren.domain.heartbeats import HeartbeatState

HEARTBEATS_PK = "HEARTBEATS"
CANARY_PK, CANARY_SK = "CANARY", "HEARTBEAT"


class HeartbeatItem(Item, discriminator="heartbeat"):
    """pk=HEARTBEATS sk=<name>: a heartbeat's first sight, last ping and the deadline last reported missed (one
    Query reads them all); pk=CANARY sk=HEARTBEAT: the canary's last good run and its end-to-end seconds."""

    first_seen_at = UnicodeAttribute(null=True)
    last_ping_at = UnicodeAttribute(null=True)
    missed_deadline = UnicodeAttribute(null=True)
    recovered = BooleanAttribute(null=True)
    seconds = NumberAttribute(null=True)  # the canary's: its last run's end-to-end seconds


class DynamoHeartbeats:
    """Each heartbeat's first sight, last ping and reported deadlines; the canary's last good run."""

    def __init__(self, table_name: str) -> None:
        self._heartbeats = bound_table(table_name).model(HeartbeatItem)

    def heartbeat_states(self) -> dict[str, HeartbeatState]:
        """Every heartbeat's state, by name: one Query of their partition."""
        items = self._heartbeats.query(HEARTBEATS_PK, consistent_read=True)
        return {item.sk: _heartbeat_state(item) for item in items}

    def heartbeat_state(self, name: str) -> HeartbeatState:
        try:
            return _heartbeat_state(self._heartbeats.get(HEARTBEATS_PK, name, consistent_read=True))
        except self._heartbeats.DoesNotExist:
            return HeartbeatState()

    def heartbeat_seen(self, name: str, now: datetime) -> HeartbeatState:
        """Note when a heartbeat was first seen (kept if it already was): its first deadline counts from then."""
        model = self._heartbeats
        item = model(HEARTBEATS_PK, name)
        item.update(actions=[model.first_seen_at.set(model.first_seen_at | instant(now)), model.kind.set(model)])
        return _heartbeat_state(item)  # update() reads the item back (ALL_NEW)

    def record_heartbeat_ping(self, name: str, now: datetime) -> HeartbeatState:
        """Record a ping; a ping older than the one recorded (a late retry) changes nothing. Returns the state."""
        model = self._heartbeats
        at = instant(now)
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
        model = self._heartbeats
        at = instant(deadline)
        with unless_condition_fails():
            model(HEARTBEATS_PK, name).update(
                actions=[model.missed_deadline.set(at), model.recovered.set(False), model.kind.set(model)],
                condition=model.missed_deadline.does_not_exist() | (model.missed_deadline != at),
            )

    def mark_heartbeat_recovered(self, name: str, deadline: datetime) -> None:
        """Remember that the recovery from ``deadline`` was reported; nothing if a later deadline was missed since."""
        model = self._heartbeats
        with unless_condition_fails():
            model(HEARTBEATS_PK, name).update(
                actions=[model.recovered.set(True)], condition=model.missed_deadline == instant(deadline)
            )

    def record_canary(self, at: datetime, seconds: float) -> None:
        """Siren's canary ran end to end at ``at`` in ``seconds`` (an older run never replaces a newer one)."""
        model = self._heartbeats
        ran_at = instant(at)
        with unless_condition_fails():
            model(CANARY_PK, CANARY_SK).update(
                actions=[model.last_ping_at.set(ran_at), model.seconds.set(round(seconds, 3)), model.kind.set(model)],
                condition=model.last_ping_at.does_not_exist() | (model.last_ping_at < ran_at),
            )

    def canary(self) -> tuple[datetime, float] | None:
        """Siren's canary: when it last ran end to end, and in how many seconds (None: never)."""
        try:
            item = self._heartbeats.get(CANARY_PK, CANARY_SK, consistent_read=True)
        except self._heartbeats.DoesNotExist:
            return None
        return datetime.fromisoformat(item.last_ping_at), float(item.seconds or 0)


def _heartbeat_state(item: HeartbeatItem) -> HeartbeatState:
    return HeartbeatState(
        first_seen_at=parse_iso(item.first_seen_at),
        last_ping_at=parse_iso(item.last_ping_at),
        missed_deadline=parse_iso(item.missed_deadline),
        recovered=bool(item.recovered),
    )
