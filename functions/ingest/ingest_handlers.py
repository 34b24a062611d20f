"""Ingest handlers: the front door for alerts. Thin: each hands its event to a use case.

Module names are unique across functions/ so that the embedded local AWS can load every handler in one process.
Each takes an optional ``dependencies`` (what siren.bootstrap wires when it is not given; tests pass fakes): see
siren.entrypoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from siren import bootstrap
from siren.app import publisher
from siren.entrypoint import Event, Response, lambda_handler
from siren.observability import logger, metrics

if TYPE_CHECKING:
    from siren.app.heartbeats import Heartbeats
    from siren.app.intake import Intake
    from siren.ports import AlertPoster, EventBus


@lambda_handler(bootstrap.intake)
def cloudwatch_alarm_event(event: Event, intake: Intake) -> Response:
    """A "CloudWatch Alarm State Change" event from the default bus."""
    return intake.cloudwatch_event(event)


@lambda_handler(bootstrap.intake)
def cloudwatch_alarm_sns(event: Event, intake: Intake) -> Response:
    """CloudWatch alarm actions published to the alarm topic (SNS -> Lambda)."""
    return intake.cloudwatch_sns(event)


@lambda_handler(bootstrap.intake)
def cloudwatch_alarm_action(event: Event, intake: Intake) -> Response:
    """CloudWatch alarm actions that invoke this function directly (Lambda alarm actions, the alarmData payload)."""
    return intake.cloudwatch_alarm_action(event)


@lambda_handler(bootstrap.intake)
def webhook(event: Event, intake: Intake) -> Response:
    """Alertmanager, Grafana, Datadog and generic webhooks (Lambda function URL, payload format 2.0)."""
    return intake.webhook(event)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def webhook_chunk(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One chunk of a large webhook request, queued by the front door (Lambda asynchronous invoke)."""
    return bootstrap.webhook_chunk(event)


@lambda_handler(bootstrap.heartbeats)
def check_heartbeats(event: Event, heartbeats: Heartbeats) -> Response:
    """Every minute (EventBridge Scheduler): a heartbeat past its deadline opens an incident on its service."""
    return heartbeats.check()


@lambda_handler(bootstrap.event_bus, flush_metrics=False)
def publish_lifecycle_events(event: Event, bus: EventBus) -> Response:
    """The table's stream: lifecycle events written with each change, onto Siren's bus."""
    return publisher.publish(event, bus)


@logger.inject_lambda_context(clear_state=True)
def send_canary(
    event: dict[str, Any], context: LambdaContext, dependencies: AlertPoster | None = None
) -> dict[str, Any]:
    """Every operations.heartbeat_minutes: Siren's canary alert through its own webhook (see app/canary.py).
    ``dependencies``: the poster only (siren.bootstrap wires the rest of the canary itself)."""
    return bootstrap.send_canary(dependencies)
