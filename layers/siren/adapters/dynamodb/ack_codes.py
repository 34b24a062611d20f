"""Acknowledgement codes, single-use link nonces and the SMS reply window (siren.ports.AckCodes).

A code is two items with one expiry: the binding pk=INC#<id> sk=ESC#CODE (incident -> code, an escalation item)
and the code record pk=ACKCODE#<code> sk=CODE (code -> incident and the numbers paged with it). They are written
together, each on the condition that it is free (absent or expired: TTL deletes within days, not on time) or
already this incident's, so a code is never held by two live incidents and never outlives its binding.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TransactWriteError

from siren.adapters.dynamodb.escalations import EscalationItem
from siren.adapters.dynamodb.table import Item, StringListAttribute, bound_table, cancellation_codes, iso, won

ACK_CODE_TTL = timedelta(days=7)  # a code lives this long after its incident last paged with it
ACK_CODE_GRACE = timedelta(hours=1)  # after a resolve, late replies still get "already resolved"
SMS_REPLY_WINDOW = timedelta(minutes=1)


class AckCodeItem(Item, discriminator="ack_code"):
    """pk=ACKCODE#<code> sk=CODE: the code's incident and the numbers paged with it."""

    incident_id = UnicodeAttribute()
    numbers = StringListAttribute(default=list)


class LinkNonceItem(Item, discriminator="link_nonce"):
    """pk=LINKNONCE#<nonce> sk=USED: a signed acknowledgement link that has been used (TTL: the link's expiry)."""

    used_at = UnicodeAttribute()
    incident_id = UnicodeAttribute()


class SmsReplyItem(Item, discriminator="sms_reply"):
    """pk=SMSREPLY#<number> sk=WINDOW: when the number may next get an SMS answer (``expires_at``, also its TTL)."""


class DynamoAckCodes:
    """Acknowledgement codes and the numbers they were sent to, single-use link nonces, the SMS reply window."""

    def __init__(self, table_name: str) -> None:
        self._table = bound_table(table_name)
        self._codes = self._table.model(AckCodeItem)
        self._bindings = self._table.model(EscalationItem)
        self._nonces = self._table.model(LinkNonceItem)
        self._sms_replies = self._table.model(SmsReplyItem)

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
        codes, bindings = self._codes, self._bindings
        now_s, expires = int(now.timestamp()), int((now + ttl).timestamp())
        current = self._code_of(incident_id, now_s)
        if current is not None and self._renew_code(incident_id, current, now_s, expires):
            return current
        for _ in range(attempts):
            code = new_code()
            binding_free = bindings.pk.does_not_exist() | (bindings.expires_at <= now_s)
            if current is not None:  # a live binding whose code record was lost: replace that binding only
                binding_free = binding_free | (bindings.code == current)
            try:
                with self._table.transaction() as transaction:
                    transaction.save(
                        codes(f"ACKCODE#{code}", "CODE", incident_id=incident_id, numbers=[], expires_at=expires),
                        condition=codes.pk.does_not_exist() | (codes.expires_at <= now_s),
                    )
                    transaction.save(
                        bindings(f"INC#{incident_id}", "ESC#CODE", code=code, expires_at=expires),
                        condition=binding_free,
                    )
            except TransactWriteError as failure:
                reasons = cancellation_codes(failure)
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
            item = self._bindings.get(f"INC#{incident_id}", "ESC#CODE", consistent_read=True)
        except self._bindings.DoesNotExist:
            return None
        if not item.code or (item.expires_at is not None and item.expires_at <= now_s):
            return None
        return str(item.code)

    def _renew_code(self, incident_id: str, code: str, now_s: int, expires: int) -> bool:
        """Push the expiry of a live code and its binding to ``expires``; False when the code is no longer this
        incident's (freed or expired meanwhile)."""
        codes, bindings = self._codes, self._bindings
        try:
            with self._table.transaction() as transaction:
                transaction.update(
                    codes(f"ACKCODE#{code}", "CODE"),
                    actions=[codes.expires_at.set(expires)],
                    condition=(codes.incident_id == incident_id) & (codes.expires_at > now_s),
                )
                transaction.update(
                    bindings(f"INC#{incident_id}", "ESC#CODE"),
                    actions=[bindings.expires_at.set(expires)],
                    condition=(bindings.code == code) & (bindings.expires_at > now_s),
                )
        except TransactWriteError as failure:
            if failure.cause_response_code == "TransactionCanceledException":
                return False
            raise
        return True

    def bind_number(self, code: str, incident_id: str, number: str, now: datetime) -> bool:
        """Record that ``number`` is paged with ``code`` for ``incident_id``: only those numbers may answer with it.
        Conditional on the code being this incident's and live: False (nothing written) when it is not."""
        codes = self._codes
        return won(
            lambda: codes(f"ACKCODE#{code}", "CODE").update(
                actions=[codes.numbers.set(codes.numbers.append([number]))],
                condition=(codes.incident_id == incident_id) & (codes.expires_at > int(now.timestamp())),
            )
        )

    def free_ack_code(self, incident_id: str, now: datetime, grace: timedelta = ACK_CODE_GRACE) -> str | None:
        """A resolved incident gives its code back: the code and its binding expire after ``grace`` (a late
        "RES <code>" from a paged number is still answered "already resolved"), then the code can be drawn again.
        Idempotent; returns the code freed, if any."""
        codes, bindings = self._codes, self._bindings
        now_s = int(now.timestamp())
        code = self._code_of(incident_id, now_s)
        if code is None:
            return None
        ends = int((now + grace).timestamp())
        try:
            with self._table.transaction() as transaction:
                transaction.update(
                    codes(f"ACKCODE#{code}", "CODE"),
                    actions=[codes.expires_at.set(ends)],
                    condition=codes.incident_id == incident_id,
                )
                transaction.update(
                    bindings(f"INC#{incident_id}", "ESC#CODE"),
                    actions=[bindings.expires_at.set(ends)],
                    condition=bindings.code == code,
                )
        except TransactWriteError as failure:
            if failure.cause_response_code != "TransactionCanceledException":
                raise
            # The code record is another incident's already (this binding was stale): end the binding alone.
            bindings(f"INC#{incident_id}", "ESC#CODE").update(
                actions=[bindings.expires_at.set(now_s)], condition=bindings.code == code
            )
        return code

    def code_binding(self, code: str, now: datetime | None = None) -> tuple[str, list[str]] | None:
        """The live code's incident and the numbers paged with it; None for a code that is free or expired."""
        try:
            item = self._codes.get(f"ACKCODE#{code}", "CODE", consistent_read=True)
        except self._codes.DoesNotExist:
            return None
        at = (now or datetime.now(UTC)).timestamp()
        if item.expires_at is not None and item.expires_at <= at:
            return None
        return str(item.incident_id), list(item.numbers or [])

    def use_link_nonce(self, nonce: str, incident_id: str, expires_at: datetime, now: datetime) -> bool:
        """Mark a signed link as used; False when it already was (a conditional put: one winner under races)."""
        nonces = self._nonces
        return won(
            lambda: nonces(
                f"LINKNONCE#{nonce}",
                "USED",
                used_at=iso(now),
                incident_id=incident_id,
                expires_at=int(expires_at.timestamp()),
            ).save(condition=nonces.pk.does_not_exist())
        )

    def release_link_nonce(self, nonce: str) -> None:
        """Give a link back when the action it was used for failed, so that the person can try it again."""
        self._nonces(f"LINKNONCE#{nonce}", "USED").delete()

    def claim_sms_reply(self, number: str, now: datetime, window: timedelta = SMS_REPLY_WINDOW) -> bool:
        """Take ``number``'s one SMS reply of ``window``; False when it had one less than ``window`` ago.

        A conditional put (one winner under races) that reads the expiry itself, because TTL deletes within days,
        not on time."""
        replies = self._sms_replies
        ends = int((now + window).timestamp())
        return won(
            lambda: replies(f"SMSREPLY#{number}", "WINDOW", expires_at=ends).save(
                condition=replies.pk.does_not_exist() | (replies.expires_at <= int(now.timestamp()))
            )
        )
