"""Signals into incidents: dedup, flapping, severity, all under concurrent and redelivered signals."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from siren.app.clock import utc_now
from siren.domain.incidents import (
    MAX_CLOCK_SKEW,
    Incident,
    IncidentStatus,
    KeyState,
    Outcome,
    SeverityDecision,
    TimelineEntry,
    TimelineKind,
    decide,
)
from siren.domain.parsers._common import stable_hash
from siren.domain.policy import InsufficientData, ServicePolicy, SirenConfig
from siren.domain.records import RawAlert
from siren.domain.severity import resolve_service, resolve_severity
from siren.domain.signals import CLOCK_SKEW_NOTE, Signal, SignalStatus, clamped_to_receipt
from siren.ports import AfterCommit, ConcurrentChange, DuplicateDelivery, IncidentRepository

# Racing deliveries of one key retry with jittered, capped backoff; past this the caller's retry takes over.
MAX_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class IngestResult:
    action: str  # opened | appended | retriggered | recovered | resolved | ignored | duplicate_delivery
    reason: str
    incident_id: str | None = None
    dedup_key: str = ""
    note: str | None = None  # e.g. the sender's clock ran ahead and its time was taken as the receive time


def scoped_delivery_id(signal: Signal, key_state: KeyState, outcome: Outcome) -> str:
    """The delivery id of a signal whose sender gave none (``signal.scoped_delivery``): its content hash, scoped to
    the incident it applies to and to the key's state once it is applied.

    The key's version changes exactly when the key changes state (an incident opens, recovers, fires again,
    resolves), never for a plain duplicate. So a redelivery while nothing changed meets its own earlier record and is
    applied once, while the same alert after a resolve (the same failure the next night), or firing again after a
    recovery, is a new delivery.
    """
    after = outcome.key_state.version if outcome.key_state is not None else key_state.version
    incident_id = outcome.incident.id if outcome.incident is not None else key_state.open_incident_id
    return stable_hash([signal.delivery_id, incident_id or "", after])


def _with_delivery_id(outcome: Outcome, unscoped: str, delivery_id: str) -> Outcome:
    """``outcome`` whose timeline names ``delivery_id`` where it named the unscoped one."""
    timeline = tuple(
        replace(entry, data={**entry.data, "delivery_id": delivery_id})
        if entry.data.get("delivery_id") == unscoped
        else entry
        for entry in outcome.timeline
    )
    return replace(outcome, timeline=timeline)


def _is_plain_duplicate_candidate(signal: Signal, policy: ServicePolicy) -> bool:
    if signal.scoped_delivery:
        return False  # its delivery id needs the key's state: the full path reads it
    firing = signal.status is SignalStatus.FIRING or (
        signal.status is SignalStatus.INSUFFICIENT_DATA and policy.insufficient_data is InsufficientData.ALERT
    )
    ignored = ("actions_suppressed_by", "muted_by")
    multi_alarm_level = signal.details.get("alarm_type") == "multi_time_series" and not signal.details.get(
        "contributor_id"
    )
    return firing and not multi_alarm_level and not any(signal.details.get(key) for key in ignored)


@dataclass(frozen=True, slots=True, eq=False)
class Ingestor:
    incidents: IncidentRepository
    config: SirenConfig
    clock: Callable[[], datetime] = utc_now
    # Starts the escalation of an incident this ingest opened (and ends the wait of one it resolved) at once,
    # ahead of the relayed event: None where the function cannot (its tests, the CLI without the machine's ARN).
    after_commit: AfterCommit | None = None

    def ingest(
        self, signal: Signal, raw_payload: Mapping[str, Any], severity_override: SeverityDecision | None = None
    ) -> IngestResult:
        """Apply one signal. A time more than MAX_CLOCK_SKEW ahead of now is taken as now, with a note."""
        now = self.clock()
        signal = clamped_to_receipt(signal, now, MAX_CLOCK_SKEW)
        note = signal.details.get(CLOCK_SKEW_NOTE)
        service = resolve_service(signal, self.config)
        policy = self.config.service_policy(service)
        raw = RawAlert(str(signal.source), signal.delivery_id, now, raw_payload)

        if _is_plain_duplicate_candidate(signal, policy):
            entry = TimelineEntry(
                now,
                TimelineKind.ALERT_APPENDED,
                str(signal.source),
                "alert appended",
                {"delivery_id": signal.delivery_id, "summary": signal.summary[:500]},
            )
            try:
                appended = self.incidents.append_duplicate(signal.dedup_key, entry, raw)
            except DuplicateDelivery:
                return IngestResult("duplicate_delivery", "already applied", dedup_key=signal.dedup_key, note=note)
            if appended is not None:
                return IngestResult("appended", "duplicate of an open incident", appended, signal.dedup_key, note)

        for attempt in range(MAX_ATTEMPTS):
            key_state = self.incidents.key_state(signal.dedup_key)
            incident: Incident | None = None
            if key_state.open_incident_id:
                incident = self.incidents.get(key_state.open_incident_id)
                if incident is not None and incident.status is IncidentStatus.RESOLVED:
                    incident = None
            severity = severity_override or resolve_severity(signal, service, self.config)
            outcome = decide(
                signal,
                key_state=key_state,
                incident=incident,
                service=service,
                severity=severity,
                policy=policy,
                now=now,
            )
            if signal.scoped_delivery:
                delivery_id = scoped_delivery_id(signal, key_state, outcome)
                outcome = _with_delivery_id(outcome, signal.delivery_id, delivery_id)
                raw = replace(raw, delivery_id=delivery_id)
            try:
                if outcome.incident is None and outcome.key_state is None:
                    first = self.incidents.record_raw_alert(raw)
                    action = "ignored" if first else "duplicate_delivery"
                    return IngestResult(action, outcome.reason, dedup_key=signal.dedup_key, note=note)
                self.incidents.apply(outcome, raw, now)
            except DuplicateDelivery:
                return IngestResult("duplicate_delivery", "already applied", dedup_key=signal.dedup_key, note=note)
            except ConcurrentChange:
                # Another delivery changed this key or incident first: read again. Jitter spreads the racers.
                time.sleep(random.uniform(0, min(0.005 * (2**attempt), 0.25)))  # noqa: S311 - jitter, not security
                continue
            if self.after_commit is not None:
                self.after_commit.after_commit(outcome.events)
            incident_id = outcome.incident.id if outcome.incident else None
            return IngestResult(outcome.action, outcome.reason, incident_id, signal.dedup_key, note)
        raise ConcurrentChange(f"gave up on {signal.dedup_key} after {MAX_ATTEMPTS} concurrent changes")
