"""Postmortem action items (siren.ports.ActionItems): one partition, pk=ACTIONS, read in one Query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from pynamodb.attributes import UnicodeAttribute

from siren.adapters.dynamodb.table import Item, bound_table, iso, parse_iso
from siren.domain.records import ActionItemRecord

ACTIONS_PK = "ACTIONS"


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


class DynamoActionItems:
    """Postmortem action items, tracked to completion."""

    def __init__(self, table_name: str) -> None:
        self._items = bound_table(table_name).model(ActionItemItem)

    def add_action_item(self, item: ActionItemRecord) -> None:
        self._items(
            ACTIONS_PK,
            item.id,
            incident_id=item.incident_id,
            title=item.title,
            owner=item.owner,
            due=item.due.isoformat(),
            created_at=iso(item.created_at),
            created_by=item.created_by,
        ).save(condition=self._items.pk.does_not_exist())

    def complete_action_item(self, action_id: str, actor: str, now: datetime) -> ActionItemRecord | None:
        """Mark done (once); None when there is no such item. Done again: unchanged."""
        model = self._items
        try:
            item = model.get(ACTIONS_PK, action_id, consistent_read=True)
        except model.DoesNotExist:
            return None
        if not item.done_at:
            item.update(actions=[model.done_at.set(iso(now)), model.done_by.set(actor)])
        return _action_item(item)

    def action_items(self) -> Iterator[ActionItemRecord]:
        for item in self._items.query(ACTIONS_PK):
            yield _action_item(item)


def _action_item(item: ActionItemItem) -> ActionItemRecord:
    return ActionItemRecord(
        id=item.sk,
        incident_id=item.incident_id,
        title=item.title,
        owner=item.owner,
        due=date.fromisoformat(item.due),
        created_at=datetime.fromisoformat(item.created_at),
        created_by=item.created_by,
        done_at=parse_iso(item.done_at),
        done_by=item.done_by,
    )
