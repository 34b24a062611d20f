"""Report handler: the scheduled leadership report (weekly and monthly, from EventBridge Scheduler).

Thin: the use case (siren.app.reports) aggregates and renders; SES v2 sends. Module names are unique across
functions/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from siren import bootstrap
from siren.app.reports import monthly_period
from siren.domain.reports import Period
from siren.entrypoint import Event, Response, lambda_handler
from siren.observability import logger, metrics


@lambda_handler(bootstrap.scheduled_reports)
def scheduled_report(event: Event, job: bootstrap.ScheduledReports) -> Response:
    """``{"period": "weekly"}``: the last 7 days; ``{"period": "monthly"}``: the previous calendar month.
    ``job``: the use case and its mailer (the handler's ``dependencies``, wired by siren.bootstrap when not given)."""
    now = datetime.now(UTC)
    kind = str(event.get("period", "weekly"))
    if kind == "monthly":
        period, title = monthly_period(now, job.time_zone), "Siren monthly incident report"
    elif kind == "weekly":
        period, title = Period(now - timedelta(days=7), now), "Siren weekly incident report"
    else:
        raise ValueError(f'period must be "weekly" or "monthly", got {kind!r}')
    rendered = job.reports.build(period, title)
    message_id = job.reports.send(rendered, job.mailer, job.sender)
    logger.info("report sent", extra={"period": kind, "subject": rendered.subject, "message_id": message_id})
    metrics.add_metric(name="ReportsSent", unit="Count", value=1)
    return {"sent": True, "subject": rendered.subject, "message_id": message_id}
