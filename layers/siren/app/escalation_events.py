"""Escalation reacting to lifecycle events: start on "Incident Opened", restart when "Severity Changed" raises
the severity, stop on "Incident Acknowledged" / "Incident Resolved"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from siren.adapters.escalations import complete_wait, start_escalation
from siren.adapters.store import IncidentStore
from siren.domain.incidents import LifecycleEventType


def on_lifecycle_event(event: Mapping[str, Any], store: IncidentStore, state_machine_arn: str) -> dict[str, Any]:
    detail_type = event.get("detail-type")
    detail = event.get("detail") or {}
    incident_id = str(detail["incident_id"])
    if detail_type == LifecycleEventType.OPENED:
        started = start_escalation(state_machine_arn, incident_id, attempt=1)
        return {"incident_id": incident_id, "started": started}
    if detail_type == LifecycleEventType.SEVERITY_CHANGED and detail.get("raised"):
        # Each raise is its own attempt: the version of the incident makes the execution name unique. The new
        # attempt becomes current first, so the one it replaces can no longer hold a wait or page again.
        attempt = int(detail.get("version", 2))
        previous_wait = store.supersede_escalation(incident_id, attempt)
        stopped = complete_wait(previous_wait, {"stopped": "severity raised"}) if previous_wait else False
        started = start_escalation(state_machine_arn, incident_id, attempt=attempt)
        return {"incident_id": incident_id, "restarted": started, "stopped_previous": stopped}
    if detail_type in (LifecycleEventType.ACKNOWLEDGED, LifecycleEventType.RESOLVED):
        return {"incident_id": incident_id, "stopped": _end_wait(store, incident_id, str(detail_type))}
    return {"incident_id": incident_id, "ignored": detail_type}


def _end_wait(store: IncidentStore, incident_id: str, why: str) -> bool:
    held = store.held_token(incident_id)
    if held is None:
        return False
    token, _execution = held
    return complete_wait(token, {"stopped": why})
