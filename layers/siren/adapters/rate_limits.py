"""Per-sender request rates: a counter item per sender and window in the incident table.

  rate  pk=RATE#<sender>#<window start, epoch seconds>  sk=COUNT  ``count``; TTL ``expires_at`` (a window later)

One conditional-free UpdateItem (ADD) per request: concurrent requests each get their own count, and the one that
goes past the limit knows it. A fixed window is coarse (a burst across a window's edge gets up to twice the limit)
and that is fine here: the limit is there to stop a runaway sender from starving everyone else, not to meter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from siren.clients import client


class RequestRates:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def take(self, sender: str, now: datetime, limit: int, window: timedelta) -> int | None:
        """Count one request of ``sender``; None while it is within ``limit`` requests a ``window``, else how many
        seconds remain until the window ends (for Retry-After)."""
        length = int(window.total_seconds())
        start = int(now.timestamp()) // length * length
        end = start + length
        answer = client("dynamodb").update_item(
            TableName=self._table_name,
            Key={"pk": {"S": f"RATE#{sender}#{start}"}, "sk": {"S": "COUNT"}},
            UpdateExpression="ADD #count :one SET #kind = :kind, expires_at = :expires",
            ExpressionAttributeNames={"#count": "count", "#kind": "kind"},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":kind": {"S": "rate"},
                ":expires": {"N": str(end + length)},
            },
            ReturnValues="UPDATED_NEW",
        )
        count = int(answer["Attributes"]["count"]["N"])
        if count <= limit:
            return None
        return max(1, end - int(now.timestamp()))
