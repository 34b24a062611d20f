"""Siren's own event bus: lifecycle events (Incident Opened, Acknowledged, ...) that the other parts react to."""

from __future__ import annotations

from aws_cdk import aws_events as events
from constructs import Construct


class IncidentEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", description="Siren incident lifecycle events")
