"""Heartbeats: a job that stops pinging is an incident (Opsgenie heartbeats, healthchecks.io, Dead Man's Snitch).

A heartbeat (``heartbeats`` in siren.yaml) expects a ping every ``interval``, and gives ``grace`` more before it
calls the job down. Time is counted from the last ping, or, before the first ping, from when Siren first saw the
heartbeat (its first check after the deploy that added it). This module is the pure part: what state a heartbeat
is in at an instant (:func:`reading`), and what the minute-by-minute check must do about it (:func:`verdict`).

Every signal a heartbeat sends is named after the deadline it is about (see :func:`verdict`), so a check and a
ping that race, or two checks that overlap, send the same delivery twice at worst, and the incident store applies
it once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class HeartbeatStatus(enum.StrEnum):
    UP = "up"  # pinged within the interval
    LATE = "late"  # past the interval, within the grace
    DOWN = "down"  # past interval + grace (pinged before, or not once since Siren first saw it)
    NEVER = "never"  # not pinged yet, and its first deadline has not passed


@dataclass(frozen=True, slots=True)
class HeartbeatState:
    """What the store remembers of a heartbeat. ``missed_deadline`` is the deadline last reported as missed (an
    incident was opened for it), and ``recovered`` whether a ping since has been reported (the incident resolved or
    recovered)."""

    first_seen_at: datetime | None = None
    last_ping_at: datetime | None = None
    missed_deadline: datetime | None = None
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class Reading:
    status: HeartbeatStatus
    due_at: datetime | None  # when the next ping is expected; None before Siren has seen the heartbeat
    deadline: datetime | None  # when it is down without a ping (in the past when it is down)


def reading(interval: timedelta, grace: timedelta, state: HeartbeatState, now: datetime) -> Reading:
    """The heartbeat's status at ``now``: counted from the last ping, else from when it was first seen."""
    reference = state.last_ping_at or state.first_seen_at
    if reference is None:
        return Reading(HeartbeatStatus.NEVER, None, None)
    due = reference + interval
    deadline = due + grace
    if now >= deadline:
        return Reading(HeartbeatStatus.DOWN, due, deadline)
    if state.last_ping_at is None:
        return Reading(HeartbeatStatus.NEVER, due, deadline)
    return Reading(HeartbeatStatus.LATE if now >= due else HeartbeatStatus.UP, due, deadline)


class Action(enum.StrEnum):
    NOTHING = "nothing"
    REPORT_MISSED = "report_missed"  # send a firing signal: an incident opens (or the open one folds it in)
    REPORT_RECOVERED = "report_recovered"  # send a resolved signal: the incident resolves or recovers


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    deadline: datetime | None = None  # the missed deadline the signal is about; it names the delivery

    def delivery_id(self, name: str) -> str:
        """The signal's idempotency key: the same verdict, from any check or ping, is the same delivery."""
        moment = "" if self.deadline is None else self.deadline.isoformat(timespec="microseconds")
        return f"heartbeat:{name}:{self.action}:{moment}"


def verdict(interval: timedelta, grace: timedelta, state: HeartbeatState, now: datetime) -> Verdict:
    """What to report about a heartbeat at ``now``, given what was reported before.

    A deadline is reported missed once: an incident resolved by hand while the job is still down stays resolved
    until the job pings and misses again. A missed deadline is reported recovered once, after a later ping.
    """
    current = reading(interval, grace, state, now)
    if current.status is HeartbeatStatus.DOWN:
        if current.deadline != state.missed_deadline:
            return Verdict(Action.REPORT_MISSED, current.deadline)
        return Verdict(Action.NOTHING)
    # Not down, so a ping came after the reference of any deadline missed before (the deadline moved on).
    if state.missed_deadline is not None and not state.recovered and state.last_ping_at is not None:
        return Verdict(Action.REPORT_RECOVERED, state.missed_deadline)
    return Verdict(Action.NOTHING)
