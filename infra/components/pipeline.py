"""What the incident pipeline's components are built on, passed as one value."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events

from infra.components.functions import FunctionBase


@dataclass(frozen=True)
class Pipeline:
    """Every component of the pipeline (ingest, escalation, status publisher, reports) builds its functions on the
    same base (layers, configuration), reads and writes the one incident table, and puts or follows lifecycle
    events on the one bus: one argument for them instead of the same three on each construct."""

    base: FunctionBase
    table: dynamodb.Table
    bus: events.IEventBus
