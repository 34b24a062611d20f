"""Paging handlers: the escalation state machine's tasks, its start/stop on lifecycle events, SMS replies, links,
the Slack app.

Thin: each hands its event to a use case. Module names are unique across functions/. Each takes an optional
``dependencies``: the use case, wired by siren.bootstrap when it is not given (tests pass one wired with fakes;
see siren.entrypoint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from siren import bootstrap
from siren.app.function_url import Request
from siren.entrypoint import Event, Response, lambda_handler

if TYPE_CHECKING:
    from siren.app.ack_links import AckLinkEndpoint
    from siren.app.escalation import Escalation
    from siren.app.escalation_events import EscalationEvents
    from siren.app.reconcile import Reconciler
    from siren.app.slack_app import SlackApp
    from siren.app.slack_messages import SlackMessages
    from siren.app.sms_replies import SmsReplies


@lambda_handler(bootstrap.escalation)
def escalation_step(event: Event, escalation: Escalation) -> Response:
    """State machine task: page who is due now; say how long to wait for an acknowledgement."""
    return escalation.step(event["cursor"])


@lambda_handler(bootstrap.escalation, flush_metrics=False)
def hold_for_ack(event: Event, escalation: Escalation) -> Response:
    """State machine callback task: keep the task token until an acknowledgement or resolve ends the wait."""
    return escalation.hold(event["token"], event["cursor"], event.get("execution", ""))


@lambda_handler(bootstrap.escalation)
def page_roles(event: Event, escalation: Escalation) -> Response:
    """State machine task: SEV1/SEV2 also page the incident commander and the communications lead."""
    return escalation.roles(event["cursor"])


@lambda_handler(bootstrap.escalation)
def send_page(event: Event, escalation: Escalation) -> Response:
    """State machine Map iteration: one recipient's notifications of a step, each recorded as it is sent."""
    return escalation.page(event["page"], event.get("run", ""))


@lambda_handler(bootstrap.escalation, flush_metrics=False)
def record_failure(event: Event, escalation: Escalation) -> Response:
    """State machine Catch: a failed task goes on the timeline and the escalation continues."""
    if "page" in event:
        return escalation.record_page_failure(event["page"], event.get("error") or {})
    return escalation.record_failure(event["cursor"], event.get("error") or {}, event.get("state", ""))


@lambda_handler(bootstrap.escalation_events, flush_metrics=False)
def lifecycle(event: Event, escalation_events: EscalationEvents) -> Response:
    """Incident Opened / Severity Changed (raised) start an escalation; Acknowledged / Resolved end its wait."""
    return escalation_events.on_lifecycle_event(event)


@lambda_handler(bootstrap.sms_replies)
def inbound_sms(event: Event, replies: SmsReplies) -> Response:
    """Two-way SMS replies (End User Messaging -> SNS -> here)."""
    return {"results": [replies.reply(record["Sns"]["Message"]) for record in event.get("Records", [])]}


@lambda_handler(bootstrap.ack_link_endpoint, flush_metrics=False)
def ack_link(event: Event, endpoint: AckLinkEndpoint) -> Response:
    """Signed acknowledgement links (function URL): GET shows a confirmation, POST acknowledges or resolves."""
    return endpoint.handle(event).to_lambda()


@lambda_handler(bootstrap.slack_app, flush_metrics=False)
def slack(event: Event, app: SlackApp) -> Response:
    """The Slack app (function URL): the ``/siren`` command and the incident message's buttons, verified first."""
    return app.answer(Request.of(event)).to_lambda()


@lambda_handler(bootstrap.slack_messages, flush_metrics=False)
def slack_notify(event: Event, messages: SlackMessages) -> Response:
    """On each lifecycle event (a rule of its own, off the paging path): the incident's Slack message posted once,
    then updated in place, its changes replied in its thread. A Slack failure raises: retried, then dead-lettered."""
    result = messages.on_event(event)
    return result.to_json() if result is not None else {"action": "ignored"}


@lambda_handler(bootstrap.reconciler)
def reconcile_escalations(event: Event, reconciler: Reconciler) -> Response:
    """Every minute: each unresolved incident's escalation made to match the store (see app/reconcile.py)."""
    return reconciler.sweep().to_json()
