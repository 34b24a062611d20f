"""Ingest handlers: the front door for alerts. Thin: parse, call the domain, report.

Module names are unique across functions/ so that the embedded local AWS can load every handler in one process.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from siren.adapters.store import IncidentStore, RawAlert
from siren.observability import logger, metrics
from siren.settings import Settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def cloudwatch_alarm_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A "CloudWatch Alarm State Change" event from the default bus."""
    settings = Settings.load()
    store = IncidentStore(settings.table_name, timedelta(days=settings.raw_alert_ttl_days))
    recorded = store.record_raw_alert(
        RawAlert(source="cloudwatch", delivery_id=str(event["id"]), received_at=datetime.now(UTC), payload=event)
    )
    metrics.add_metric(name="AlertsReceived" if recorded else "AlertsRedelivered", unit=MetricUnit.Count, value=1)
    logger.info("alarm event received", extra={"event_id": event["id"], "first_delivery": recorded})
    return {"recorded": recorded}
