"""Ingest handlers: the front door for alerts. Thin: each hands its event to a use case.

Module names are unique across functions/ so that the embedded local AWS can load every handler in one process.
Each takes an optional ``dependencies`` (what siren.bootstrap wires when it is not given; tests pass fakes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from siren import bootstrap
from siren.app import publisher
from siren.observability import logger, metrics

if TYPE_CHECKING:
    from siren.app.heartbeats import Heartbeats
    from siren.app.intake import Intake
    from siren.ports import AlertPoster, EventBus


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def cloudwatch_alarm_event(
    event: dict[str, Any], context: LambdaContext, dependencies: Intake | None = None
) -> dict[str, Any]:
    """A "CloudWatch Alarm State Change" event from the default bus."""
    return (dependencies or bootstrap.intake()).cloudwatch_event(event)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def cloudwatch_alarm_sns(
    event: dict[str, Any], context: LambdaContext, dependencies: Intake | None = None
) -> dict[str, Any]:
    """CloudWatch alarm actions published to the alarm topic (SNS -> Lambda)."""
    return (dependencies or bootstrap.intake()).cloudwatch_sns(event)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def webhook(event: dict[str, Any], context: LambdaContext, dependencies: Intake | None = None) -> dict[str, Any]:
    """Alertmanager, Grafana and generic webhooks (Lambda function URL, payload format 2.0)."""
    return (dependencies or bootstrap.intake()).webhook(event)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def webhook_chunk(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One chunk of a large webhook request, queued by the front door (Lambda asynchronous invoke)."""
    return bootstrap.webhook_chunk(event)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def check_heartbeats(
    event: dict[str, Any], context: LambdaContext, dependencies: Heartbeats | None = None
) -> dict[str, Any]:
    """Every minute (EventBridge Scheduler): a heartbeat past its deadline opens an incident on its service."""
    return (dependencies or bootstrap.heartbeats()).check()


@logger.inject_lambda_context(clear_state=True)
def publish_lifecycle_events(
    event: dict[str, Any], context: LambdaContext, dependencies: EventBus | None = None
) -> dict[str, Any]:
    """The table's stream: lifecycle events written with each change, onto Siren's bus."""
    return publisher.publish(event, dependencies or bootstrap.event_bus())


@logger.inject_lambda_context(clear_state=True)
def send_canary(
    event: dict[str, Any], context: LambdaContext, dependencies: AlertPoster | None = None
) -> dict[str, Any]:
    """Every operations.heartbeat_minutes: Siren's canary alert through its own webhook (see app/canary.py)."""
    return bootstrap.send_canary(dependencies)
