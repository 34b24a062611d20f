"""The escalation cursor: which notifications are due now, and how long to wait for an acknowledgement.

An escalation runs a policy's levels in order, ``repeat`` times. Within a level, each paged user is notified
by their notification rules (e.g. SMS at 0 minutes, voice at 2): the level is a series of steps at the distinct
offsets of those rules, and after the last step the state machine waits for the rest of the level's delay.
The state machine holds the cursor; this module moves it. Pure: no clock reads, no I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Notification:
    user: str
    method: str  # sms | voice | email | chat
    after_minutes: int


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where an escalation is; serialized into the state machine's state between steps."""

    incident_id: str
    attempt: int = 1
    round: int = 0
    level: int = 0
    step: int = 0
    # The users paged at this level, resolved when the level starts (so delayed rules reach the same people).
    users: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "attempt": self.attempt,
            "round": self.round,
            "level": self.level,
            "step": self.step,
            "users": list(self.users),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cursor:
        return cls(
            incident_id=str(data["incident_id"]),
            attempt=int(data.get("attempt", 1)),
            round=int(data.get("round", 0)),
            level=int(data.get("level", 0)),
            step=int(data.get("step", 0)),
            users=tuple(str(user) for user in data.get("users", ())),
        )


@dataclass(frozen=True, slots=True)
class LevelShape:
    """A policy level as the cursor needs it: its delay and the notification rules of each user."""

    delay_minutes: int
    rules_by_user: Mapping[str, Sequence[tuple[str, int]]] = field(default_factory=dict)  # user -> (method, min)


@dataclass(frozen=True, slots=True)
class Step:
    """What to do now: notify ``due``, then wait ``wait_seconds`` for an acknowledgement, then ``next``."""

    due: tuple[Notification, ...]
    wait_seconds: int
    next: Cursor | None  # None: the policy is exhausted after this wait
    starts_level: bool


def offsets(level: LevelShape, users: Sequence[str]) -> list[int]:
    found = {minutes for user in users for _, minutes in level.rules_by_user.get(user, ()) if minutes >= 0}
    return sorted(found | {0})


def plan_step(cursor: Cursor, levels: Sequence[LevelShape], repeat: int) -> Step:
    """The step at ``cursor`` (whose ``users`` are already resolved for its level)."""
    level = levels[cursor.level]
    times = offsets(level, cursor.users)
    now_offset = times[cursor.step]
    due = tuple(
        Notification(user, method, minutes)
        for user in cursor.users
        for method, minutes in level.rules_by_user.get(user, ())
        if minutes == now_offset
    )
    if cursor.step + 1 < len(times):
        wait = (times[cursor.step + 1] - now_offset) * 60
        following: Cursor | None = replace(cursor, step=cursor.step + 1)
    else:
        # Wait out the rest of the level's delay (at least a minute: a level never escalates instantly).
        wait = max(level.delay_minutes * 60 - now_offset * 60, 60)
        following = next_level(cursor, len(levels), repeat)
    return Step(due=due, wait_seconds=wait, next=following, starts_level=cursor.step == 0)


CHAT = "chat"  # the team's chat channel: a page task without a person


@dataclass(frozen=True, slots=True)
class PageTask:
    """One recipient's notifications of one escalation step: a task of its own in the state machine, so that a
    slow or hanging provider holds up that recipient only, and a retry re-pages nobody else.

    ``user`` None is the team's chat channel. ``step`` says where in the escalation the task comes from; with the
    run's name it identifies each send, so that a retried task skips what it already sent."""

    incident_id: str
    user: str | None
    methods: tuple[str, ...]
    step: str
    role: str | None = None

    def page_id(self, run: str) -> str:
        return f"{run}/{self.step}/{self.role or 'level'}/{self.user or CHAT}"

    def to_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "user": self.user,
            "methods": list(self.methods),
            "step": self.step,
            "role": self.role,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PageTask:
        user, role = data.get("user"), data.get("role")
        return cls(
            incident_id=str(data["incident_id"]),
            user=str(user) if user else None,
            methods=tuple(str(method) for method in data.get("methods", ())),
            step=str(data.get("step", "")),
            role=str(role) if role else None,
        )


def step_label(cursor: Cursor) -> str:
    return f"a{cursor.attempt}.r{cursor.round}.l{cursor.level}.s{cursor.step}"


def page_tasks(cursor: Cursor, due: Sequence[Notification], role: str | None = None) -> list[PageTask]:
    """``due`` as one task per person (their methods in rule order), people in the order they are due."""
    methods_by_user: dict[str, list[str]] = {}
    for notification in due:
        methods = methods_by_user.setdefault(notification.user, [])
        if notification.method not in methods:
            methods.append(notification.method)
    return [
        PageTask(cursor.incident_id, user, tuple(methods), step_label(cursor), role)
        for user, methods in methods_by_user.items()
    ]


def next_level(cursor: Cursor, level_count: int, repeat: int) -> Cursor | None:
    if cursor.level + 1 < level_count:
        return replace(cursor, level=cursor.level + 1, step=0, users=())
    if cursor.round + 1 < repeat:
        return replace(cursor, round=cursor.round + 1, level=0, step=0, users=())
    return None


@dataclass(frozen=True, slots=True)
class WaitingAt:
    """The level a held wait belongs to: what "escalate now" escalates from. ``last``: the policy has no level after
    this one (its last level of its last round), so there is nobody further to page.

    The state machine carries it in the cursor (``waiting``) from the step that paged to the wait that holds the
    token and back to the next step; the held wait's record keeps it, so a request can name the level it asks to
    leave, and a second request for the same level (a double click) is told it was asked already."""

    attempt: int
    round: int
    level: int
    last: bool

    @property
    def label(self) -> str:
        return f"a{self.attempt}.r{self.round}.l{self.level}"

    def describe(self) -> str:
        return f"level {self.level + 1}" + (f" (round {self.round + 1})" if self.round else "")

    def to_json(self) -> dict[str, Any]:
        return {"attempt": self.attempt, "round": self.round, "level": self.level, "last": self.last}

    @classmethod
    def from_json(cls, data: Any) -> WaitingAt | None:
        """None for anything that is not one (a cursor from before this field, a done cursor without it)."""
        if not isinstance(data, Mapping):
            return None
        try:
            return cls(int(data["attempt"]), int(data["round"]), int(data["level"]), bool(data.get("last", False)))
        except (KeyError, TypeError, ValueError):
            return None


def waiting_at(cursor: Cursor, level_count: int, repeat: int) -> WaitingAt:
    """Where a wait that follows a step at ``cursor`` stands."""
    last = next_level(cursor, level_count, repeat) is None
    return WaitingAt(cursor.attempt, cursor.round, cursor.level, last)


@dataclass(frozen=True, slots=True)
class HeldWait:
    """The wait an incident's current escalation run holds: its task token, its run, and its level (None: held by a
    run from before levels were recorded with the token)."""

    token: str
    execution: str
    waiting: WaitingAt | None


def execution_name(incident_id: str, attempt: int, repair: int = 0) -> str:
    """Step Functions execution names: unique per incident and attempt, so a redelivered start is harmless. A run
    the reconciler starts again, after the attempt's run ended before an acknowledgement, is its ``repair``-th:
    two reconcilers repairing the same run at once pick the same name, and only one starts."""
    return (f"{incident_id}-a{attempt}" + (f"-r{repair}" if repair else ""))[:80]


_RUN_NAME = re.compile(r"^(?P<incident>.+)-a(?P<attempt>[0-9]+)(?:-r(?P<repair>[0-9]+))?$")


@dataclass(frozen=True, slots=True)
class RunName:
    incident_id: str
    attempt: int
    repair: int


def parse_execution_name(name: str) -> RunName | None:
    """The incident, attempt and repair an escalation run's name stands for (None: not an escalation run's)."""
    match = _RUN_NAME.match(name)
    if match is None:
        return None
    return RunName(match["incident"], int(match["attempt"]), int(match["repair"] or 0))


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"


@dataclass(frozen=True, slots=True)
class Run:
    name: str
    status: RunStatus


@dataclass(frozen=True, slots=True)
class StartRepair:
    """Start run ``name`` of the incident's current attempt, because ``why``."""

    name: str
    why: str


def repair_for_unacknowledged(
    incident_id: str, attempt: int, latest: Run | None, *, opened_at: datetime, now: datetime, grace: timedelta
) -> StartRepair | None:
    """What an unacknowledged incident's escalation needs, given the latest run of its current attempt.

    - running: nothing;
    - none at all: start it, once the incident is older than ``grace`` (its start may be on its way: the relay
      and the lifecycle function take a moment; later, the Incident Opened event was lost);
    - succeeded: nothing; the run ended by its own decision (the policy was exhausted, or it read a state that
      has since changed and the next change starts what is needed);
    - failed, timed out or aborted: start the next repair run; the escalation ended before anyone acknowledged.
    """
    if latest is None:
        if now - opened_at < grace:
            return None
        return StartRepair(execution_name(incident_id, attempt), "no escalation run was started (event lost)")
    if latest.status in (RunStatus.RUNNING, RunStatus.SUCCEEDED):
        return None
    parsed = parse_execution_name(latest.name)
    repair = (parsed.repair if parsed else 0) + 1
    return StartRepair(execution_name(incident_id, attempt, repair), f"run {latest.name} ended {latest.status.lower()}")
