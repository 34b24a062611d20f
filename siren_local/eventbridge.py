"""EventBridge rules deliver to Lambda functions and Step Functions state machines, and honour DISABLED.

moto 5.2.5 matches patterns but delivers only to logs, SQS, archives and other buses, and delivers even for
DISABLED rules. :func:`_send_to_targets` replaces ``Rule.send_to_targets``: a disabled rule delivers nothing;
Lambda targets are invoked asynchronously (as EventBridge does) through the in-process runtime; state machine
targets start an execution; SQS targets get the event as AWS sends it (moto's template breaks on an ISO time);
every other target kind is left to moto. Events keep AWS's shape: an ISO-8601
``time`` and the whole event as input unless the target says otherwise (Input, InputPath, InputTransformer).
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from jsonpath_ng.ext.parser import parse as parse_json_path
from moto.events import models as events_models
from moto.events.utils import EventTemplateParser

from siren_local.lambda_runtime import active_runtime, send_to_queue

log = logging.getLogger("siren.local.eventbridge")

_original_send_to_targets = events_models.Rule.send_to_targets

# Every delivery, in order: (rule ARN, target ARN, event id). Tests and the outbox count on it.
deliveries: list[tuple[str, str, str]] = []


def _iso_time(value: Any) -> str:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What a target receives, by the target's Input, InputPath or InputTransformer."""
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        matches = parse_json_path(target["InputPath"]).find(event)
        return matches[0].value if matches else None
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=cast(Any, event),
        )
    return {key: value for key, value in event.items() if key != "ingestion-time"}


def _deliver_to_lambda(target_arn: str, payload: Any) -> None:
    from moto.awslambda.utils import get_backend

    _, _, _, region, account, _rest = target_arn.split(":", 5)
    try:
        function = get_backend(account, region).get_function(target_arn)
    except Exception:
        raise LookupError(f"no such function {target_arn}") from None
    active_runtime().invoke_async(function, payload)


def _deliver_to_state_machine(target_arn: str, payload: Any, rule_name: str) -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    _, _, _, region, account, _rest = target_arn.split(":", 5)
    backend = stepfunctions_parser_backends[account][region]
    # EventBridge names executions itself; a unique name keeps the ARN unique (moto would use "None").
    backend.start_execution(target_arn, name=f"{rule_name[:40]}-{uuid.uuid4()}", execution_input=json.dumps(payload))


def _deliver_to_queue(target_arn: str, payload: Any, target: dict[str, Any]) -> None:
    from moto.sqs.models import sqs_backends

    # moto's SQS delivery renders the event through a template that breaks on AWS's ISO-8601 time.
    _, _, _, region, account, name = target_arn.split(":", 5)
    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    sqs_backends[account][region].send_message(
        name, json.dumps(payload), group_id=group_id, deduplication_id=str(uuid.uuid4()) if group_id else None
    )


def _send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
    if self.state != "ENABLED":
        return
    if not self.event_pattern.matches_event(original_event):
        return
    event = copy.deepcopy(original_event)
    event["time"] = _iso_time(event.get("time"))
    others = []
    for target in self.targets:
        arn: str = target["Arn"]
        service = arn.split(":")[2]
        if service not in ("lambda", "states", "sqs"):
            others.append(target)
            continue
        payload = target_input(target, event) if transform_input else event
        try:
            if service == "lambda":
                _deliver_to_lambda(arn, payload)
            elif service == "sqs":
                _deliver_to_queue(arn, payload, target)
            else:
                _deliver_to_state_machine(arn, payload, self.name)
            deliveries.append((self.arn, arn, str(event.get("id"))))
        except Exception as error:
            # A target that cannot take the event: its dead-letter queue keeps it, as on AWS.
            dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
            log.error("rule %s could not deliver to %s: %s", self.name, arn, error)
            if dead_letter:
                send_to_queue(dead_letter, json.dumps(event), {"ERROR_MESSAGE": str(error)[:1000]})
            else:
                raise
    if others:
        # A shallow copy with only the other targets: the rule itself is shared by concurrent put_events.
        rest = copy.copy(self)
        rest.targets = others
        # moto's own delivery expects its own event form (a numeric time).
        _original_send_to_targets(rest, cast(Any, original_event), transform_input)


def install() -> None:
    setattr(events_models.Rule, "send_to_targets", _send_to_targets)  # noqa: B010
