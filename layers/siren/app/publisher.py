"""The outbox relay: lifecycle events written with each change (DynamoDB stream) onto Siren's bus.

At-least-once: a failed put fails the batch and the stream redelivers it; consumers are idempotent (each event
carries its ``event_id``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from siren.ports import BusEvent, EventBus


def lifecycle_events_in(stream_event: Mapping[str, Any]) -> list[BusEvent]:
    found: list[BusEvent] = []
    for record in stream_event.get("Records", []):
        if record.get("eventName") != "INSERT":
            continue
        image = record.get("dynamodb", {}).get("NewImage", {})
        if image.get("kind", {}).get("S") != "event":
            continue
        detail = json.loads(image["detail"]["S"])
        detail["event_id"] = image["pk"]["S"].removeprefix("EVENT#")
        found.append(BusEvent(source=image["source"]["S"], detail_type=image["detail_type"]["S"], detail=detail))
    return found


def publish(stream_event: Mapping[str, Any], bus: EventBus) -> dict[str, int]:
    events = lifecycle_events_in(stream_event)
    if events:
        bus.put(events)
    return {"published": len(events)}
