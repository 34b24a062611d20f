"""Siren's end-to-end canary: every ``operations.heartbeat_minutes``, a synthetic alert goes through the real front
door and becomes an incident marked ``canary``; its escalation's first step runs without sending (End User
Messaging ``DryRun``; no voice, email or chat), records the heartbeat and the end-to-end seconds, and resolves it.

A canary incident never pages anyone and never reaches the status page, chat or reports; ``siren incidents list``
hides it unless ``--all``. When the canary stops coming, the ``<stack>-CanaryMissing`` alarm (missing data is
breaching) notifies the operations contacts, and the SirenWatchdog stack in another region does too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from siren.domain.incidents import IncidentError
from siren.observability import logger, metrics
from siren.ports import AlertPoster, HeartbeatRecords, Watchdog

ACTOR = "siren-canary"
HEARTBEAT_METRIC = "CanaryHeartbeat"
END_TO_END_METRIC = "CanaryEndToEndSeconds"
CANARY_SEVERITY = "SEV1"  # the most important path is the one checked


def canary_alert(now: datetime) -> dict[str, Any]:
    """The canary's alert, in the generic format. Its key is the time it was sent (epoch milliseconds): each run is
    its own incident, and the first step reads the end-to-end time from it."""
    return {
        "dedup_key": str(int(now.timestamp() * 1000)),
        "title": "Siren canary",
        "severity": CANARY_SEVERITY,
        "summary": "Siren's end-to-end canary: checks the path from the webhook to the first page, sends nothing.",
        "occurred_at": now.isoformat(),
    }


def send_canary(webhook_url: str, token: Callable[[], str], now: datetime, post: AlertPoster) -> dict[str, Any]:
    """Send one canary alert through the webhook; raises (siren.adapters.canary.CanaryNotDelivered) when the
    front door refuses it."""
    answer = post(webhook_url, token(), canary_alert(now))
    logger.info("canary sent", extra={"answer": answer})
    return answer


@dataclass(frozen=True, slots=True, eq=False)
class CanaryRecorder:
    """What the escalation's first step does for a canary incident besides the dry run (app/escalation.py)."""

    heartbeats: HeartbeatRecords
    resolve_incident: Callable[[str, str, str | None], Any]  # (incident id, actor, note)
    beacon: Watchdog

    def heartbeat(self, at: datetime, end_to_end_seconds: float) -> None:
        metrics.add_metric(name=HEARTBEAT_METRIC, unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=END_TO_END_METRIC, unit=MetricUnit.Seconds, value=end_to_end_seconds)
        self.heartbeats.record_canary(at, end_to_end_seconds)
        self.beacon.beat()

    def resolve(self, incident_id: str) -> None:
        with contextlib.suppress(IncidentError):  # already resolved: a retried step
            self.resolve_incident(incident_id, ACTOR, "canary checked")
