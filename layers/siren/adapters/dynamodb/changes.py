"""Changes of each service (siren.ports.ChangeEvents): pk=CHANGE#<service>, sk=<instant>#<change id>.

The sort key starts with the change's instant as fixed-width UTC text, so that the changes of a time window are
one Query of a key range; the change's id (its content hash) ends it, so that the same event recorded twice is
one item. Each expires CHANGE_TTL after it was recorded (the table's TTL): a change matters for the incidents
that follow it shortly, not for the reports of next quarter.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Final

from pynamodb.attributes import UnicodeAttribute

from siren.adapters.dynamodb.table import Item, StringListAttribute, bound_table, instant
from siren.domain.changes import ChangeLink, ServiceChange

CHANGE_TTL: Final = timedelta(days=7)
# After every "#<id>" of an instant: the end of a key range that includes the changes of its last instant.
_AFTER_IDS: Final = "#~"


class ChangeItem(Item, discriminator="change"):
    """pk=CHANGE#<service> sk=<instant>#<id>: one change of the service (a deploy, a config change); TTL."""

    at = UnicodeAttribute()
    summary = UnicodeAttribute()
    source = UnicodeAttribute(null=True)
    integration = UnicodeAttribute(null=True)
    custom_details = UnicodeAttribute(null=True)  # JSON text, as sent
    link_hrefs = StringListAttribute(null=True)
    link_texts = StringListAttribute(null=True)  # "" for a link without text


def _pk(service: str) -> str:
    return f"CHANGE#{service}"


class DynamoChangeEvents:
    """The recent changes of each service, by time."""

    def __init__(self, table_name: str) -> None:
        self._changes = bound_table(table_name).model(ChangeItem)

    def record(self, change: ServiceChange, now: datetime) -> None:
        """A plain put: the same change again (same content, same instant) writes the same item."""
        self._changes(
            _pk(change.service),
            f"{instant(change.at)}#{change.id}",
            at=instant(change.at),
            summary=change.summary,
            source=change.source,
            integration=change.integration,
            custom_details=None if change.custom_details is None else json.dumps(change.custom_details),
            link_hrefs=[link.href for link in change.links] or None,
            link_texts=[link.text or "" for link in change.links] or None,
            expires_at=int((now + CHANGE_TTL).timestamp()),
        ).save()

    def recent(self, service: str, since: datetime, until: datetime, limit: int = 10) -> list[ServiceChange]:
        """One Query, newest first, stopped at ``limit``; returned oldest first."""
        model = self._changes
        items = model.query(
            _pk(service),
            model.sk.between(instant(since), instant(until) + _AFTER_IDS),
            scan_index_forward=False,
            limit=limit,
            consistent_read=True,
        )
        return [_change(service, item) for item in items][::-1]


def _change(service: str, item: ChangeItem) -> ServiceChange:
    links = tuple(
        ChangeLink(href, text or None) for href, text in zip(item.link_hrefs or [], item.link_texts or [], strict=False)
    )
    return ServiceChange(
        service=service,
        at=datetime.fromisoformat(item.at),
        summary=item.summary,
        id=item.sk.rpartition("#")[2],
        source=item.source,
        integration=item.integration,
        custom_details=None if item.custom_details is None else json.loads(item.custom_details),
        links=links,
    )
