"""The incident store: one DynamoDB table, several typed item kinds, through PynamoDB.

Keys (single-table design):
  alert       pk=ALERT#<source>#<delivery id>  sk=ALERT      raw payload, TTL ``expires_at``

PynamoDB reads ``Meta`` when a model class is defined, so models are bound to a table at run time by
:func:`models_for` rather than at import time.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from siren.clients import endpoint_url, region_name


@dataclass(frozen=True, slots=True)
class BoundModels:
    # Classes made at run time (see _bind); typed loosely because their attributes are made there too.
    raw_alert: Any


@functools.cache
def _bind(table_name: str, region: str, host: str | None) -> BoundModels:
    meta_attributes: dict[str, Any] = {"table_name": table_name, "region": region}
    if host:
        meta_attributes["host"] = host

    class RawAlertItem(Model):
        """A received alert exactly as it arrived, kept for audit and replay until its TTL."""

        Meta: Any = type("Meta", (), meta_attributes)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        kind = UnicodeAttribute(default="alert")
        source = UnicodeAttribute()
        delivery_id = UnicodeAttribute()
        received_at = UnicodeAttribute()
        payload = UnicodeAttribute()
        expires_at = NumberAttribute()

    return BoundModels(raw_alert=RawAlertItem)


def models_for(table_name: str) -> BoundModels:
    return _bind(table_name, region_name(), endpoint_url())


@dataclass(frozen=True, slots=True)
class RawAlert:
    source: str
    delivery_id: str
    received_at: datetime
    payload: dict[str, Any]


class IncidentStore:
    """Data access for incidents, their timelines and the raw alerts behind them."""

    def __init__(self, table_name: str, raw_alert_ttl: timedelta = timedelta(days=30)) -> None:
        self._models = models_for(table_name)
        self._raw_alert_ttl = raw_alert_ttl

    def record_raw_alert(self, alert: RawAlert) -> bool:
        """Keep the alert as received. Returns False when this delivery was already recorded (a redelivery)."""
        item = self._models.raw_alert(
            f"ALERT#{alert.source}#{alert.delivery_id}",
            "ALERT",
            source=alert.source,
            delivery_id=alert.delivery_id,
            received_at=alert.received_at.isoformat(),
            payload=json.dumps(alert.payload, separators=(",", ":"), sort_keys=True),
            expires_at=int((alert.received_at + self._raw_alert_ttl).timestamp()),
        )
        try:
            item.save(condition=self._models.raw_alert.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_raw_alert(self, source: str, delivery_id: str) -> RawAlert | None:
        try:
            item = self._models.raw_alert.get(f"ALERT#{source}#{delivery_id}", "ALERT")
        except self._models.raw_alert.DoesNotExist:
            return None
        return RawAlert(
            source=item.source,
            delivery_id=item.delivery_id,
            received_at=datetime.fromisoformat(item.received_at),
            payload=json.loads(item.payload),
        )
