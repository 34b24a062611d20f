"""Status page subscribers (siren.ports.Subscribers): one partition, pk=SUBSCRIBERS, sk=<normalised email>.

One partition, so that the subscribers to mail are one paginated Query (no Scan of the shared table); a status
page's thousands of subscribers are far from a partition's limits. A pending subscription carries the table's TTL
(its confirmation link's lifetime), cleared when it is confirmed: an address that never confirms leaves nothing.
Subscribers live here only, never in the status bucket (which is public).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Final

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from siren.adapters.dynamodb.table import Item, StringListAttribute, bound_table, iso, parse_iso
from siren.domain.subscriptions import NoticeProgress, Subscriber

SUBSCRIBERS_PK: Final = "SUBSCRIBERS"
NOTICE_PREFIX: Final = "NOTICE#"  # pk=NOTICE#<news key>: how far its mailing got; its own partition, so the
# subscribers' Query never reads these
NOTICE_SK: Final = "PROGRESS"
# Long past any retry of the news's delivery (EventBridge retries for up to 24 hours).
NOTICE_LIFETIME: Final = timedelta(days=7)
_CONDITION_FAILED: Final = "ConditionalCheckFailedException"


class SubscriberItem(Item, discriminator="subscriber"):
    """pk=SUBSCRIBERS sk=<email>: one address, pending (TTL) or confirmed, with its consent times and token."""

    token = UnicodeAttribute()
    consented_at = UnicodeAttribute()
    confirmed_at = UnicodeAttribute(null=True)
    components = StringListAttribute(null=True)  # none: every incident


class NoticeProgressItem(Item, discriminator="notice_progress"):
    """pk=NOTICE#<news key> sk=PROGRESS: the last address a piece of news was mailed to, and whether all were."""

    done = BooleanAttribute()
    through = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()


class DynamoSubscribers:
    """The status page's subscribers."""

    def __init__(self, table_name: str) -> None:
        table = bound_table(table_name)
        self._subscribers = table.model(SubscriberItem)
        self._notices = table.model(NoticeProgressItem)

    def subscriber(self, email: str) -> Subscriber | None:
        try:
            return _subscriber(self._subscribers.get(SUBSCRIBERS_PK, email, consistent_read=True))
        except self._subscribers.DoesNotExist:
            return None

    def put_pending(self, subscriber: Subscriber, expires_at: datetime) -> bool:
        """Writes a pending subscription over a pending one (a new token: the old links die), never over a confirmed
        one (False: an address is subscribed once)."""
        model = self._subscribers
        try:
            model(
                SUBSCRIBERS_PK,
                subscriber.email,
                token=subscriber.token,
                consented_at=iso(subscriber.consented_at),
                components=sorted(subscriber.components) or None,
                expires_at=int(expires_at.timestamp()),
            ).save(condition=model.pk.does_not_exist() | model.confirmed_at.does_not_exist())
        except PutError as error:
            if error.cause_response_code == _CONDITION_FAILED:
                return False
            raise
        return True

    def confirm(self, email: str, token: str, now: datetime) -> Subscriber | None:
        """Confirms the subscription whose token this is (once: confirming again keeps the first time); None when
        the address has no subscription with this token (resubscribed since, unsubscribed, or expired)."""
        model = self._subscribers
        try:
            item = model.get(SUBSCRIBERS_PK, email, consistent_read=True)
        except model.DoesNotExist:
            return None
        if item.token != token:
            return None
        if item.confirmed_at is None:
            try:
                item.update(
                    actions=[model.confirmed_at.set(iso(now)), model.expires_at.remove()],
                    condition=(model.token == token) & model.confirmed_at.does_not_exist(),
                )
            except UpdateError as error:
                if error.cause_response_code == _CONDITION_FAILED:
                    return self._still(email, token)
                raise
        return _subscriber(item)

    def _still(self, email: str, token: str) -> Subscriber | None:
        """After a lost race: confirmed by the other request with the same token, or replaced."""
        found = self.subscriber(email)
        return found if found is not None and found.token == token and found.confirmed else None

    def remove(self, email: str, token: str) -> bool:
        """Deletes the subscription whose token this is; False when there is none (already gone: nothing to do)."""
        model = self._subscribers
        try:
            model(SUBSCRIBERS_PK, email).delete(condition=model.token == token)
        except DeleteError as error:
            if error.cause_response_code == _CONDITION_FAILED:
                return False
            raise
        return True

    def confirmed(self) -> Iterator[Subscriber]:
        """Every confirmed subscriber, by address (one Query, paginated by PynamoDB)."""
        model = self._subscribers
        for item in model.query(SUBSCRIBERS_PK, filter_condition=model.confirmed_at.exists()):
            yield _subscriber(item)

    def notice_progress(self, key: str) -> NoticeProgress | None:
        try:
            item = self._notices.get(NOTICE_PREFIX + key, NOTICE_SK, consistent_read=True)
        except self._notices.DoesNotExist:
            return None
        return NoticeProgress(bool(item.done), item.through)

    def record_notice_progress(self, key: str, progress: NoticeProgress, now: datetime) -> None:
        """Overwrites: only the delivery mailing this news writes it, moving forward in address order."""
        self._notices(
            NOTICE_PREFIX + key,
            NOTICE_SK,
            done=progress.done,
            through=progress.through,
            updated_at=iso(now),
            expires_at=int((now + NOTICE_LIFETIME).timestamp()),
        ).save()


def _subscriber(item: SubscriberItem) -> Subscriber:
    return Subscriber(
        email=item.sk,
        components=frozenset(item.components or ()),
        consented_at=datetime.fromisoformat(item.consented_at),
        token=item.token,
        confirmed_at=parse_iso(item.confirmed_at),
    )
