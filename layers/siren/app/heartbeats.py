"""Heartbeats of users' jobs: pings in, missed pings out as signals through the same ingest as every alert.

A missed deadline becomes a firing signal with dedup key ``heartbeat:<name>``, the heartbeat's service and (as an
explicitly stated severity) its severity; the next ping becomes the resolved signal for it. So folding, severity
rules, flapping, ``on_recovery`` and escalation work for heartbeats exactly as they do for alarms. The deadline
arithmetic is pure (:mod:`siren.domain.heartbeats`); this module reads and records state and sends the signals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from siren.app.clock import utc_now
from siren.app.ingest import Ingestor
from siren.domain.heartbeats import Action, HeartbeatState, HeartbeatStatus, Verdict, reading, verdict
from siren.domain.policy import Heartbeat, SirenConfig
from siren.domain.signals import SeverityHints, Signal, SignalStatus, Source
from siren.observability import logger, metrics
from siren.ports import HeartbeatRecords


@dataclass(frozen=True, slots=True)
class HeartbeatView:
    """A heartbeat as ``siren heartbeats list`` and a ping's answer show it."""

    name: str
    service: str
    status: HeartbeatStatus
    last_ping_at: datetime | None
    due_at: datetime | None  # the next ping is expected by then
    deadline: datetime | None  # down without a ping by then (None: Siren has not checked it yet)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "service": self.service,
            "status": str(self.status),
            "last_ping_at": _text(self.last_ping_at),
            "due_at": _text(self.due_at),
            "next_deadline": _text(self.deadline),
        }


@dataclass(frozen=True, slots=True, eq=False)
class Heartbeats:
    heartbeats: HeartbeatRecords
    config: SirenConfig
    ingestor: Ingestor
    clock: Callable[[], datetime] = utc_now

    def known(self, name: str) -> bool:
        return name in self.config.heartbeats

    def ping(self, name: str) -> HeartbeatView:
        """A job's ping: recorded, and an incident its silence opened is resolved (or recovered). KeyError: unknown."""
        heartbeat = self.config.heartbeats[name]
        now = self.clock()
        state = self.heartbeats.record_heartbeat_ping(name, now)
        self._settle(heartbeat, state, now)
        return _view(heartbeat, state, now)

    def check(self) -> dict[str, Any]:
        """Every heartbeat past its deadline opens an incident (once per missed deadline); a recovery owed is sent.

        One heartbeat that fails does not stop the others; the failure is raised at the end, so that the run counts
        as an error (and Siren's own error alarm sees it).
        """
        now = self.clock()
        states = self.heartbeats.heartbeat_states() if self.config.heartbeats else {}
        actions: dict[str, str] = {}
        down = 0
        failed: list[str] = []
        for name, heartbeat in self.config.heartbeats.items():
            try:
                state = states.get(name) or HeartbeatState()
                if state.first_seen_at is None:
                    state = self.heartbeats.heartbeat_seen(name, now)  # its first deadline counts from now
                actions[name] = str(self._settle(heartbeat, state, now).action)
                down += reading(heartbeat.interval, heartbeat.grace, state, now).status is HeartbeatStatus.DOWN
            except Exception:
                logger.exception("heartbeat check failed", extra={"heartbeat": name})
                failed.append(name)
        # Every check says how many are down (0 too): a metric users can alarm or graph on.
        metrics.add_metric(name="HeartbeatsDown", unit=MetricUnit.Count, value=down)
        if failed:
            raise RuntimeError(f"heartbeat check failed for {', '.join(failed)} (the others were checked)")
        return {"checked": len(actions), "actions": actions}

    def views(self) -> list[HeartbeatView]:
        """Every configured heartbeat's status now, in file order (one Query)."""
        now = self.clock()
        states = self.heartbeats.heartbeat_states()
        return [
            _view(heartbeat, states.get(name) or HeartbeatState(), now)
            for name, heartbeat in self.config.heartbeats.items()
        ]

    def _settle(self, heartbeat: Heartbeat, state: HeartbeatState, now: datetime) -> Verdict:
        """Send what :func:`verdict` says is owed, then remember it was sent (the signal first: a crash between the
        two sends the same delivery again, which the store applies once)."""
        decided = verdict(heartbeat.interval, heartbeat.grace, state, now)
        if decided.action is Action.NOTHING or decided.deadline is None:
            return decided
        if decided.action is Action.REPORT_MISSED:
            result = self.ingestor.ingest(_missed_signal(heartbeat, state, decided, now), _raw(heartbeat, state))
            self.heartbeats.mark_heartbeat_missed(heartbeat.name, decided.deadline)
            metrics.add_metric(name="HeartbeatsMissed", unit=MetricUnit.Count, value=1)
        else:
            result = self.ingestor.ingest(_recovered_signal(heartbeat, state, decided, now), _raw(heartbeat, state))
            self.heartbeats.mark_heartbeat_recovered(heartbeat.name, decided.deadline)
        logger.info(
            "heartbeat reported",
            extra={
                "heartbeat": heartbeat.name,
                "verdict": str(decided.action),
                "deadline": _text(decided.deadline),
                "action": result.action,
                "incident_id": result.incident_id,
            },
        )
        return decided


def _view(heartbeat: Heartbeat, state: HeartbeatState, now: datetime) -> HeartbeatView:
    current = reading(heartbeat.interval, heartbeat.grace, state, now)
    return HeartbeatView(
        heartbeat.name, heartbeat.service, current.status, state.last_ping_at, current.due_at, current.deadline
    )


def _missed_signal(heartbeat: Heartbeat, state: HeartbeatState, decided: Verdict, now: datetime) -> Signal:
    since = (
        f"the last ping at {_text(state.last_ping_at)}"
        if state.last_ping_at
        else (f"Siren started watching it at {_text(state.first_seen_at)}, and it has never pinged")
    )
    summary = (
        f"No ping from heartbeat {heartbeat.name} since {since}: it pings every {heartbeat.interval_minutes} min, "
        f"with {heartbeat.grace_minutes} min of grace, so it was due by {_text(decided.deadline)}."
    )
    return _heartbeat_signal(
        heartbeat,
        decided,
        status=SignalStatus.FIRING,
        occurred_at=min(decided.deadline or now, now),
        summary=summary,
        severity=heartbeat.severity,
    )


def _recovered_signal(heartbeat: Heartbeat, state: HeartbeatState, decided: Verdict, now: datetime) -> Signal:
    return _heartbeat_signal(
        heartbeat,
        decided,
        status=SignalStatus.RESOLVED,
        occurred_at=min(state.last_ping_at or now, now),
        summary=f"Heartbeat {heartbeat.name} pinged again at {_text(state.last_ping_at)}.",
        severity=None,
    )


def _heartbeat_signal(
    heartbeat: Heartbeat,
    decided: Verdict,
    *,
    status: SignalStatus,
    occurred_at: datetime,
    summary: str,
    severity: str | None,
) -> Signal:
    """A heartbeat's signal: the missed and the recovered one share the heartbeat's dedup key (so the recovery
    settles the incident the miss opened) and the verdict names the delivery; only a miss states a severity."""
    return Signal(
        source=Source.GENERIC,
        delivery_id=decided.delivery_id(heartbeat.name),
        dedup_key=heartbeat.dedup_key,
        status=status,
        title=f"Heartbeat {heartbeat.name} missed",
        occurred_at=occurred_at,
        service=heartbeat.service,
        summary=summary,
        hints=SeverityHints(explicit=severity, labels={"heartbeat": heartbeat.name}),
        details={"heartbeat": heartbeat.name, "deadline": _text(decided.deadline) or ""},
    )


def _raw(heartbeat: Heartbeat, state: HeartbeatState) -> Mapping[str, Any]:
    """What the raw alert keeps: the heartbeat and what Siren knew of it when it reported."""
    return {
        "heartbeat": heartbeat.to_json(),
        "first_seen_at": _text(state.first_seen_at),
        "last_ping_at": _text(state.last_ping_at),
        "missed_deadline": _text(state.missed_deadline),
    }


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")
