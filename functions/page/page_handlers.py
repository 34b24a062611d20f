"""Paging handlers: the escalation state machine's tasks, its start/stop on lifecycle events, SMS replies, links.

Thin: each hands its event to a use case. Module names are unique across functions/. Each takes an optional
``dependencies``: the use case, wired by siren.bootstrap when it is not given (tests pass one wired with fakes;
the Powertools decorators pass extra arguments through).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from siren import bootstrap
from siren.observability import logger, metrics

if TYPE_CHECKING:
    from siren.app.ack_links import AckLinkEndpoint
    from siren.app.escalation import Escalation
    from siren.app.escalation_events import EscalationEvents
    from siren.app.reconcile import Reconciler
    from siren.app.sms_replies import SmsReplies


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def escalation_step(
    event: dict[str, Any], context: LambdaContext, dependencies: Escalation | None = None
) -> dict[str, Any]:
    """State machine task: page who is due now; say how long to wait for an acknowledgement."""
    return (dependencies or bootstrap.escalation()).step(event["cursor"])


@logger.inject_lambda_context(clear_state=True)
def hold_for_ack(
    event: dict[str, Any], context: LambdaContext, dependencies: Escalation | None = None
) -> dict[str, Any]:
    """State machine callback task: keep the task token until an acknowledgement or resolve ends the wait."""
    escalation = dependencies or bootstrap.escalation()
    return escalation.hold(event["token"], event["cursor"], event.get("execution", ""))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def page_roles(event: dict[str, Any], context: LambdaContext, dependencies: Escalation | None = None) -> dict[str, Any]:
    """State machine task: SEV1/SEV2 also page the incident commander and the communications lead."""
    return (dependencies or bootstrap.escalation()).roles(event["cursor"])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def send_page(event: dict[str, Any], context: LambdaContext, dependencies: Escalation | None = None) -> dict[str, Any]:
    """State machine Map iteration: one recipient's notifications of a step, each recorded as it is sent."""
    return (dependencies or bootstrap.escalation()).page(event["page"], event.get("run", ""))


@logger.inject_lambda_context(clear_state=True)
def record_failure(
    event: dict[str, Any], context: LambdaContext, dependencies: Escalation | None = None
) -> dict[str, Any]:
    """State machine Catch: a failed task goes on the timeline and the escalation continues."""
    escalation = dependencies or bootstrap.escalation()
    if "page" in event:
        return escalation.record_page_failure(event["page"], event.get("error") or {})
    return escalation.record_failure(event["cursor"], event.get("error") or {}, event.get("state", ""))


@logger.inject_lambda_context(clear_state=True)
def lifecycle(
    event: dict[str, Any], context: LambdaContext, dependencies: EscalationEvents | None = None
) -> dict[str, Any]:
    """Incident Opened / Severity Changed (raised) start an escalation; Acknowledged / Resolved end its wait."""
    return (dependencies or bootstrap.escalation_events()).on_lifecycle_event(event)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def inbound_sms(
    event: dict[str, Any], context: LambdaContext, dependencies: SmsReplies | None = None
) -> dict[str, Any]:
    """Two-way SMS replies (End User Messaging -> SNS -> here)."""
    replies = dependencies or bootstrap.sms_replies()
    return {"results": [replies.reply(record["Sns"]["Message"]) for record in event.get("Records", [])]}


@logger.inject_lambda_context(clear_state=True)
def ack_link(
    event: dict[str, Any], context: LambdaContext, dependencies: AckLinkEndpoint | None = None
) -> dict[str, Any]:
    """Signed acknowledgement links (function URL): GET shows a confirmation, POST acknowledges or resolves."""
    return (dependencies or bootstrap.ack_link_endpoint()).handle(event).to_lambda()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def reconcile_escalations(
    event: dict[str, Any], context: LambdaContext, dependencies: Reconciler | None = None
) -> dict[str, Any]:
    """Every minute: each unresolved incident's escalation made to match the store (see app/reconcile.py)."""
    return (dependencies or bootstrap.reconciler()).sweep().to_json()
