"""Is Siren itself healthy? The verdict of ``siren health``, from what it read (pure: no I/O).

Healthy means: no ``<stack>-...`` alarm is in ALARM, the canary came through within two intervals, no message
waits in a dead-letter queue, and the watchdog in the second region hears the canary. Repairs by the reconciler in
the last hour are shown but do not decide (their own alarm does, while it is in ALARM).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WATCHDOG_OK = "ok"


@dataclass(frozen=True, slots=True)
class AlarmState:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA


@dataclass(frozen=True, slots=True)
class Health:
    healthy: bool
    heartbeat_age_seconds: float | None  # None: the canary never came through
    alarms: tuple[AlarmState, ...]
    dead_letters: int
    repairs_last_hour: int
    watchdog: str  # "ok", or why not
    problems: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "heartbeat_age_seconds": None
            if self.heartbeat_age_seconds is None
            else round(self.heartbeat_age_seconds, 1),
            "alarms": [{"name": alarm.name, "state": alarm.state} for alarm in self.alarms],
            "dead_letters": self.dead_letters,
            "repairs_last_hour": self.repairs_last_hour,
            "watchdog": self.watchdog,
            "problems": list(self.problems),
        }


def watchdog_verdict(state: str | None, alarm_name: str, region: str) -> str:
    """What the watchdog's alarm state says about it: ``ok`` or why not."""
    if state is None:
        return f"no watchdog alarm {alarm_name} in {region}: deploy the SirenWatchdog stack there"
    if state == "OK":
        return WATCHDOG_OK
    if state == "ALARM":
        return f"{alarm_name} in {region} is in ALARM: it has not heard the canary for two intervals"
    return f"{alarm_name} in {region} has no data yet ({state})"


def assess(
    *,
    now: datetime,
    heartbeat_at: datetime | None,
    heartbeat_minutes: int,
    alarms: Sequence[AlarmState],
    dead_letters: int,
    repairs_last_hour: int,
    watchdog: str,
) -> Health:
    problems: list[str] = []
    age = None if heartbeat_at is None else max(0.0, (now - heartbeat_at).total_seconds())
    limit = 2 * heartbeat_minutes * 60
    if age is None:
        problems.append("the canary has never come through end to end")
    elif age > limit:
        problems.append(f"the canary last came through {age:.0f} s ago (more than two intervals, {limit} s)")
    problems.extend(f"alarm {alarm.name} is in ALARM" for alarm in alarms if alarm.state == "ALARM")
    if dead_letters:
        problems.append(f"{dead_letters} message(s) wait in dead-letter queues (siren dlq list)")
    if watchdog != WATCHDOG_OK:
        problems.append(f"watchdog: {watchdog}")
    ordered = tuple(sorted(alarms, key=lambda alarm: (alarm.state != "ALARM", alarm.name)))
    return Health(not problems, age, ordered, dead_letters, repairs_last_hour, watchdog, tuple(problems))
