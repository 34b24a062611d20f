"""Report handler: the scheduled leadership report (weekly and monthly, from EventBridge Scheduler).

Thin: the use case (siren.app.reports) aggregates and renders; SES v2 sends. Module names are unique across
functions/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from siren import bootstrap
from siren.adapters.report_mail import ReportMail
from siren.app.reports import monthly_period
from siren.domain.reports import Period
from siren.observability import logger, metrics
from siren.settings import Settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def scheduled_report(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """``{"period": "weekly"}``: the last 7 days; ``{"period": "monthly"}``: the previous calendar month."""
    reports = bootstrap.reports()
    settings = Settings.load()
    config = bootstrap.deployed_config(settings)
    now = datetime.now(UTC)
    kind = str(event.get("period", "weekly"))
    if kind == "monthly":
        period, title = monthly_period(now, config.reports.time_zone), "Siren monthly incident report"
    elif kind == "weekly":
        period, title = Period(now - timedelta(days=7), now), "Siren weekly incident report"
    else:
        raise ValueError(f'period must be "weekly" or "monthly", got {kind!r}')
    rendered = reports.build(period, title)
    message_id = reports.send(rendered, ReportMail(), settings.email_sender)
    logger.info("report sent", extra={"period": kind, "subject": rendered.subject, "message_id": message_id})
    metrics.add_metric(name="ReportsSent", unit="Count", value=1)
    return {"sent": True, "subject": rendered.subject, "message_id": message_id}
