"""Status page handler: republish the customer status page.

Thin: the use case (siren.app.status_page) decides what is public and writes only what changed. Module names are
unique across functions/.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from siren import bootstrap
from siren.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def publish(
    event: dict[str, Any], context: LambdaContext, dependencies: bootstrap.StatusPublishing | None = None
) -> dict[str, Any]:
    """On every lifecycle event (within seconds of each change) and on a schedule (maintenance windows, the
    uptime day): render the site and write what changed. ``dependencies``: the use case and the site (siren.bootstrap
    wires them when not given; tests pass fakes)."""
    publishing = dependencies or bootstrap.status_publishing()
    report = publishing.page.publish(publishing.site)
    logger.info("status page published", extra={"trigger": event.get("detail-type", "schedule"), **asdict(report)})
    metrics.add_metric(name="StatusObjectsWritten", unit="Count", value=report.written)
    return asdict(report)
