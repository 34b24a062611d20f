"""Status page subscription handlers: the function URL customers subscribe, confirm and unsubscribe at, and the
mail of a public incident's life to them.

Thin: the use case (siren.app.subscriptions) decides who is mailed what. A function of its own, not the status
publisher's: only these handlers can send mail (SES) or read subscribers, and a slow or refused mail never holds
back or retries the page's publish. Module names are unique across functions/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from siren import bootstrap
from siren.entrypoint import Event, Response, lambda_handler
from siren.observability import logger, metrics

if TYPE_CHECKING:
    from siren.app.subscription_links import SubscriptionEndpoint
    from siren.app.subscriptions import SubscriberNotices


@lambda_handler(bootstrap.subscription_endpoint, flush_metrics=False)
def subscriptions(event: Event, endpoint: SubscriptionEndpoint) -> Response:
    """Function URL: the page's form subscribes, a mail's links confirm and unsubscribe (a button each), and RFC
    8058's one-click POST unsubscribes."""
    return endpoint.handle(event).to_lambda()


@lambda_handler(bootstrap.subscriber_notices)
def notify_subscribers(event: Event, notices: SubscriberNotices) -> Response:
    """On each lifecycle event (an EventBridge rule of its own, beside the publisher's): mail the public news of a
    public incident to the confirmed subscribers it concerns."""
    notified = notices.on_event(event)
    sent = notified.sent if notified is not None else 0
    refused = len(notified.refused) if notified is not None else 0
    logger.info("subscribers notified", extra={"trigger": event.get("detail-type"), "sent": sent, "refused": refused})
    metrics.add_metric(name="SubscriberMailsSent", unit="Count", value=sent)
    return {"sent": sent, "refused": refused}
