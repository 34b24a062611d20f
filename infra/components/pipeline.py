"""What the incident pipeline's components are built on, passed as one value."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from constructs import Construct

from infra.components.functions import FunctionBase


@dataclass(frozen=True)
class Pipeline:
    """Every component of the pipeline (ingest, escalation, status publisher, reports) builds its functions on the
    same base (layers, configuration), reads and writes the one incident table, and puts or follows lifecycle
    events on the one bus: one argument for them instead of the same three on each construct."""

    base: FunctionBase
    table: dynamodb.Table
    bus: events.IEventBus


def escalation_machine_name(scope: Construct) -> str:
    return f"{Stack.of(scope).stack_name}-escalation"


def escalation_machine_arn(scope: Construct) -> str:
    """The escalation machine's ARN, built from its name, not taken from the machine: the task functions' roles
    and the ingest functions (which start escalations at once) need it, and the machine needs the task functions,
    so a reference would be a cycle."""
    return Stack.of(scope).format_arn(
        service="states",
        resource="stateMachine",
        resource_name=escalation_machine_name(scope),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
