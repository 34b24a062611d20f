"""Each incident's Slack message record (siren.ports.SlackThreads): pk=SLACKMSG#<incident id>, sk=MESSAGE.

A family of its own, not the incident's partition: the Slack notifier may write these items and nothing of the
incident (``dynamodb:LeadingKeys`` is by partition). Every write is conditional: the claim only when there is no
record or an expired claim without a ts, a save only over the version it read (the record's optimistic lock).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from siren.adapters.dynamodb.table import Item, StringListAttribute, bound_table, iso, won
from siren.domain.slack_blocks import SlackThread

SLACK_MESSAGE_SK: Final = "MESSAGE"


def slack_message_pk(incident_id: str) -> str:
    return f"SLACKMSG#{incident_id}"


class SlackThreadItem(Item, discriminator="slack_thread"):
    """pk=SLACKMSG#<id> sk=MESSAGE: where the incident's message is and how far its thread and channel have gone."""

    incident_id = UnicodeAttribute()
    claimed_at = UnicodeAttribute()
    channel = UnicodeAttribute(null=True)
    ts = UnicodeAttribute(null=True)
    replies = NumberAttribute(default=0)
    incident_channel = UnicodeAttribute(null=True)
    invited = StringListAttribute(null=True)
    archived = BooleanAttribute(default=False)
    version = NumberAttribute()


class DynamoSlackThreads:
    def __init__(self, table_name: str) -> None:
        self._items = bound_table(table_name).model(SlackThreadItem)

    def slack_thread(self, incident_id: str) -> SlackThread | None:
        try:
            item = self._items.get(slack_message_pk(incident_id), SLACK_MESSAGE_SK, consistent_read=True)
        except self._items.DoesNotExist:
            return None
        return _thread(item)

    def claim_slack_thread(self, incident_id: str, now: datetime, lease: timedelta) -> SlackThread | None:
        model = self._items
        current = self.slack_thread(incident_id)
        if current is not None and (current.posted or current.claimed_at > now - lease):
            return None
        claim = SlackThread(incident_id, now, version=1 if current is None else current.version + 1)
        # No record, or the very claim read above (its version) still without a ts: one claimant wins.
        condition = (
            model.pk.does_not_exist()
            if current is None
            else (model.version == current.version) & model.ts.does_not_exist()
        )
        return claim if won(lambda: _item(model, claim).save(condition=condition)) else None

    def save_slack_thread(self, thread: SlackThread) -> SlackThread | None:
        model = self._items
        saved = replace(thread, version=thread.version + 1)
        return saved if won(lambda: _item(model, saved).save(condition=model.version == thread.version)) else None


def _item(model: type[SlackThreadItem], thread: SlackThread) -> SlackThreadItem:
    return model(
        slack_message_pk(thread.incident_id),
        SLACK_MESSAGE_SK,
        incident_id=thread.incident_id,
        claimed_at=iso(thread.claimed_at),
        channel=thread.channel,
        ts=thread.ts,
        replies=thread.replies,
        incident_channel=thread.incident_channel,
        invited=list(thread.invited) or None,
        archived=thread.archived,
        version=thread.version,
    )


def _thread(item: SlackThreadItem) -> SlackThread:
    return SlackThread(
        incident_id=item.incident_id,
        claimed_at=datetime.fromisoformat(item.claimed_at),
        channel=item.channel,
        ts=item.ts,
        replies=int(item.replies or 0),
        incident_channel=item.incident_channel,
        invited=tuple(item.invited or ()),
        archived=bool(item.archived),
        version=int(item.version),
    )
