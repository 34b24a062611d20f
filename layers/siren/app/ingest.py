"""Signals into incidents: dedup, flapping, severity, all under concurrent and redelivered signals."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from siren.adapters.store import ConcurrentChange, DuplicateDelivery, IncidentStore, RawAlert
from siren.config import SirenConfig
from siren.domain.incidents import (
    Incident,
    IncidentStatus,
    InsufficientData,
    Policy,
    Recovery,
    SeverityChoice,
    TimelineEntry,
    TimelineKind,
    check_signal_time,
    decide,
)
from siren.domain.severity import policy_for, resolve_service, resolve_severity
from siren.domain.signals import Signal, SignalStatus

# Racing deliveries of one key retry with jittered, capped backoff; past this the caller's retry takes over.
MAX_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class IngestResult:
    action: str  # opened | appended | retriggered | recovered | resolved | ignored | duplicate_delivery
    reason: str
    incident_id: str | None = None
    dedup_key: str = ""


def service_policy(service: str, config: SirenConfig) -> Policy:
    configured = policy_for(service, config)
    return Policy(
        on_recovery=Recovery(configured.on_recovery),
        insufficient_data=InsufficientData(configured.insufficient_data),
        flapping_transitions=configured.flapping_transitions,
        flapping_window=configured.flapping_window,
    )


def _is_plain_duplicate_candidate(signal: Signal, policy: Policy) -> bool:
    firing = signal.status is SignalStatus.FIRING or (
        signal.status is SignalStatus.INSUFFICIENT_DATA and policy.insufficient_data is InsufficientData.ALERT
    )
    ignored = ("actions_suppressed_by", "muted_by")
    multi_alarm_level = signal.details.get("alarm_type") == "multi_time_series" and not signal.details.get(
        "contributor_id"
    )
    return firing and not multi_alarm_level and not any(signal.details.get(key) for key in ignored)


class Ingestor:
    def __init__(
        self,
        store: IncidentStore,
        config: SirenConfig,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock

    def ingest(
        self, signal: Signal, raw_payload: Mapping[str, Any], severity_override: SeverityChoice | None = None
    ) -> IngestResult:
        """Apply one signal. Raises ParseError for a signal that must be refused (e.g. stamped in the future)."""
        now = self._clock()
        check_signal_time(signal, now)
        service = resolve_service(signal, self._config)
        policy = service_policy(service, self._config)
        raw = RawAlert(str(signal.source), signal.delivery_id, now, raw_payload)

        if _is_plain_duplicate_candidate(signal, policy):
            entry = TimelineEntry(now, TimelineKind.ALERT_APPENDED, str(signal.source), "alert appended",
                                  {"delivery_id": signal.delivery_id, "summary": signal.summary[:500]})  # fmt: skip
            try:
                appended = self._store.append_duplicate(signal.dedup_key, entry, raw)
            except DuplicateDelivery:
                return IngestResult("duplicate_delivery", "already applied", dedup_key=signal.dedup_key)
            if appended is not None:
                return IngestResult("appended", "duplicate of an open incident", appended, signal.dedup_key)

        for attempt in range(MAX_ATTEMPTS):
            key_state = self._store.key_state(signal.dedup_key)
            incident: Incident | None = None
            if key_state.open_incident_id:
                incident = self._store.get(key_state.open_incident_id)
                if incident is not None and incident.status is IncidentStatus.RESOLVED:
                    incident = None
            if severity_override is not None:
                severity = severity_override
            else:
                decision = resolve_severity(signal, service, self._config)
                severity = SeverityChoice(decision.severity, decision.rule, decision.reason)
            outcome = decide(
                signal, key_state=key_state, incident=incident, service=service, severity=severity, policy=policy,
                now=now,
            )  # fmt: skip
            try:
                if outcome.incident is None and outcome.key_state is None:
                    first = self._store.record_raw_alert(raw)
                    action = "ignored" if first else "duplicate_delivery"
                    return IngestResult(action, outcome.reason, dedup_key=signal.dedup_key)
                self._store.apply(outcome, raw, now)
            except DuplicateDelivery:
                return IngestResult("duplicate_delivery", "already applied", dedup_key=signal.dedup_key)
            except ConcurrentChange:
                # Another delivery changed this key or incident first: read again. Jitter spreads the racers.
                time.sleep(random.uniform(0, min(0.005 * (2**attempt), 0.25)))  # noqa: S311 - jitter, not security
                continue
            incident_id = outcome.incident.id if outcome.incident else None
            return IngestResult(outcome.action, outcome.reason, incident_id, signal.dedup_key)
        raise ConcurrentChange(f"gave up on {signal.dedup_key} after {MAX_ATTEMPTS} concurrent changes")
