"""Lifecycle events onto Siren's EventBridge bus."""

from __future__ import annotations

import json
from collections.abc import Sequence

from siren.clients import client
from siren.ports import BusEvent

MAX_ENTRIES_PER_CALL = 10  # EventBridge PutEvents limit


class PublishFailed(RuntimeError):
    pass


class EventBus:
    def __init__(self, bus_name: str) -> None:
        self._bus_name = bus_name

    def put(self, events: Sequence[BusEvent]) -> int:
        """Put every event; raises PublishFailed naming the failures (the caller's retry redelivers them)."""
        events_client = client("events")
        failures: list[str] = []
        for start in range(0, len(events), MAX_ENTRIES_PER_CALL):
            batch = events[start : start + MAX_ENTRIES_PER_CALL]
            response = events_client.put_events(
                Entries=[
                    {
                        "EventBusName": self._bus_name,
                        "Source": event.source,
                        "DetailType": event.detail_type,
                        "Detail": json.dumps(event.detail, default=str),
                    }
                    for event in batch
                ]
            )
            for event, entry in zip(batch, response.get("Entries", []), strict=False):
                if entry.get("ErrorCode"):
                    failures.append(f"{event.detail_type}: {entry['ErrorCode']} {entry.get('ErrorMessage', '')}")
        if failures:
            raise PublishFailed(f"{len(failures)} of {len(events)} events were not put: {failures[:3]}")
        return len(events)
