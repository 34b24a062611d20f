"""Paging handlers: the escalation state machine's tasks, its start/stop on lifecycle events, SMS replies, links.

Thin: each hands its event to a use case. Module names are unique across functions/.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from siren import bootstrap
from siren.app.escalation_events import on_lifecycle_event
from siren.app.sms_replies import handle_inbound_sms
from siren.observability import logger, metrics
from siren.settings import Settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def escalation_step(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """State machine task: page who is due now; say how long to wait for an acknowledgement."""
    return bootstrap.escalation().step(event["cursor"])


@logger.inject_lambda_context(clear_state=True)
def hold_for_ack(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """State machine callback task: keep the task token until an acknowledgement or resolve ends the wait."""
    return bootstrap.escalation().hold(event["token"], event["cursor"], event.get("execution", ""))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def page_roles(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """State machine task: SEV1/SEV2 also page the incident commander and the communications lead."""
    return bootstrap.escalation().roles(event["cursor"])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def send_page(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """State machine Map iteration: one recipient's notifications of a step, each recorded as it is sent."""
    return bootstrap.escalation().page(event["page"], event.get("run", ""))


@logger.inject_lambda_context(clear_state=True)
def record_failure(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """State machine Catch: a failed task goes on the timeline and the escalation continues."""
    if "page" in event:
        return bootstrap.escalation().record_page_failure(event["page"], event.get("error") or {})
    return bootstrap.escalation().record_failure(event["cursor"], event.get("error") or {}, event.get("state", ""))


@logger.inject_lambda_context(clear_state=True)
def lifecycle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Incident Opened / Severity Changed (raised) start an escalation; Acknowledged / Resolved end its wait."""
    settings = Settings.load()
    return on_lifecycle_event(event, bootstrap.store(settings), bootstrap.state_machine_arn())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def inbound_sms(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Two-way SMS replies (End User Messaging -> SNS -> here)."""
    settings = Settings.load()
    results = [
        handle_inbound_sms(
            record["Sns"]["Message"],
            bootstrap.store(settings),
            bootstrap.incidents(),
            bootstrap.deployed_config(settings),
            bootstrap.pager(settings),
        )
        for record in event.get("Records", [])
    ]
    return {"results": results}


@logger.inject_lambda_context(clear_state=True)
def ack_link(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Signed acknowledgement links (function URL): GET shows a confirmation, POST acknowledges or resolves."""
    return bootstrap.ack_link_endpoint().handle(event).to_lambda()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def reconcile_escalations(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Every minute: each unresolved incident's escalation made to match the store (see app/reconcile.py)."""
    return bootstrap.reconciler().sweep().to_json()
