"""Status page handler: republish the customer status page.

Thin: the use case (siren.app.status_page) decides what is public and writes only what changed. Module names are
unique across functions/.
"""

from __future__ import annotations

from dataclasses import asdict

from siren import bootstrap
from siren.app.status_page import publish_trigger
from siren.entrypoint import Event, Response, lambda_handler
from siren.observability import logger, metrics


@lambda_handler(bootstrap.status_publishing)
def publish(event: Event, publishing: bootstrap.StatusPublishing) -> Response:
    """On every lifecycle event (within seconds of each change) and on a schedule (maintenance windows, the
    uptime day): render what changed and write it. ``publishing``: the use case and the site (the handler's
    ``dependencies``, wired by siren.bootstrap when not given)."""
    touched, full = publish_trigger(event)
    report = publishing.page.publish(publishing.site, touched, full=full)
    logger.info("status page published", extra={"trigger": event.get("detail-type", "schedule"), **asdict(report)})
    metrics.add_metric(name="StatusObjectsWritten", unit="Count", value=report.written)
    return asdict(report)
