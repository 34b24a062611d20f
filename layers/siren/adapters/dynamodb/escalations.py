"""Escalation state (siren.ports.EscalationState): the current attempt, the task token it holds, sent marks.

All of it lives in the incident's partition (pk=INC#<id>), so a function granted the incident's items reads and
writes it, and a send's timeline entries and its mark commit in one transaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from siren.adapters.dynamodb.incident_items import TimelineItem, timeline_item
from siren.adapters.dynamodb.table import Item, StringListAttribute, bound_table, won
from siren.domain.escalation import HeldWait, WaitingAt
from siren.domain.incidents import TimelineEntry

SENT_MARK_TTL = timedelta(days=2)  # a page task is retried within minutes; its marks need not outlive that long


class EscalationItem(Item, discriminator="escalation"):
    """pk=INC#<id> sk=ESC#TOKEN: the task token of the wait in progress; sk=ESC#CODE: the incident's ack code
    (expiring with its code record, see siren.adapters.dynamodb.ack_codes); sk=SENT#<page id>: the channels a page
    task has sent (its retry skips them; TTL)."""

    token = UnicodeAttribute(null=True)
    execution = UnicodeAttribute(null=True)
    attempt = NumberAttribute(null=True)  # the current escalation attempt (a raised severity starts the next)
    waiting = UnicodeAttribute(null=True)  # the held wait's level (WaitingAt as JSON): what "escalate now" leaves
    code = UnicodeAttribute(null=True)
    numbers = StringListAttribute(default=list)
    sent = StringListAttribute(null=True)


class DynamoEscalations:
    """Which escalation attempt is current, the task token it holds, and which pages were already sent."""

    def __init__(self, table_name: str) -> None:
        self._table = bound_table(table_name)
        self._escalations = self._table.model(EscalationItem)
        self._timeline = self._table.model(TimelineItem)

    def sent_channels(self, incident_id: str, page_id: str) -> tuple[str, ...]:
        """The channels page task ``page_id`` already sent (a retried task skips them)."""
        try:
            item = self._escalations.get(f"INC#{incident_id}", f"SENT#{page_id}", consistent_read=True)
        except self._escalations.DoesNotExist:
            return ()
        return tuple(item.sent or ())

    def record_send(
        self, incident_id: str, entries: list[TimelineEntry], *, page_id: str, sent: tuple[str, ...], now: datetime
    ) -> None:
        """One send's timeline entries, written when it happens, with the channels the task has sent so far (when
        it sent something): one transaction, so the timeline never says less than what went out."""
        with self._table.transaction() as transaction:
            for position, entry in enumerate(entries):
                transaction.save(timeline_item(self._timeline, incident_id, entry, position))
            if sent:
                transaction.save(
                    self._escalations(
                        f"INC#{incident_id}",
                        f"SENT#{page_id}",
                        sent=list(sent),
                        expires_at=int((now + SENT_MARK_TTL).timestamp()),
                    )
                )

    def hold_token(
        self, incident_id: str, token: str, execution: str, attempt: int = 1, waiting: WaitingAt | None = None
    ) -> bool:
        """Keep the wait's task token (and its level), unless a later attempt (a raised severity) has taken over:
        then False."""
        escalation = self._escalations
        waits_at = json.dumps(waiting.to_json()) if waiting is not None else None
        level = escalation.waiting.set(waits_at) if waits_at else escalation.waiting.remove()
        return won(
            lambda: escalation(f"INC#{incident_id}", "ESC#TOKEN").update(
                actions=[
                    escalation.token.set(token),
                    escalation.execution.set(execution),
                    escalation.attempt.set(attempt),
                    level,
                    escalation.kind.set(escalation),
                ],
                condition=escalation.attempt.does_not_exist() | (escalation.attempt <= attempt),
            )
        )

    def supersede_escalation(self, incident_id: str, attempt: int) -> str | None:
        """Make ``attempt`` the incident's escalation (it only moves forward) and return the task token of the
        wait it replaces, to be ended. One atomic update: a wait being held at the same moment either lands
        before (and is returned here) or is refused (and ends itself)."""
        escalation = self._escalations
        try:
            # The table's connection, because a model's update() returns the new item and the old token is needed.
            response = self._table.connection.update_item(
                f"INC#{incident_id}",
                "ESC#TOKEN",
                actions=[
                    escalation.attempt.set(attempt),
                    escalation.token.remove(),
                    escalation.execution.remove(),
                    escalation.waiting.remove(),
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
            item = self._escalations.get(f"INC#{incident_id}", "ESC#TOKEN", consistent_read=True)
        except self._escalations.DoesNotExist:
            return 1
        return int(item.attempt or 1)

    def held_token(self, incident_id: str) -> tuple[str, str] | None:
        try:
            item = self._escalations.get(f"INC#{incident_id}", "ESC#TOKEN", consistent_read=True)
        except self._escalations.DoesNotExist:
            return None
        return (item.token, item.execution) if item.token else None

    def held_wait(self, incident_id: str) -> HeldWait | None:
        try:
            item = self._escalations.get(f"INC#{incident_id}", "ESC#TOKEN", consistent_read=True)
        except self._escalations.DoesNotExist:
            return None
        if not item.token:
            return None
        waiting = WaitingAt.from_json(json.loads(item.waiting)) if item.waiting else None
        return HeldWait(item.token, item.execution or "", waiting)
