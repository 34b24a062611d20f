"""Game-day drills: a scripted incident, the responses expected, and the scorecard.

CLI-only (``siren gameday``; it reads YAML), so it lives here, not in the Lambda layer. Pure: the scenario is read
from YAML text, and the scorecard is computed from the drill incident's timeline. A drill runs through the real
pipeline (webhook, escalation, paging, acknowledgement) in drill mode: the incident is marked as a drill, pages
only the scenario's participants, never reaches the public status page and is left out of the MTTA/MTTR reports.

Scenario (YAML)::

    name: checkout-outage
    description: What is rehearsed.
    severity: SEV1
    service: checkout
    title: "[DRILL] Checkout API 5xx rate above 5%"
    participants: [alice, bob]        # users of siren.yaml who may be paged
    steps:                            # minutes from the start, in drill time
      - {at: 0, fire: true}
      - {at: 6, ack: {level: 2}}      # the first person paged at level 2 acknowledges (or {user: bob})
      - {at: 8, resolve: true}
    expect:
      first_page_within_seconds: 30      # no wait comes before the first page: real seconds, not drill time
      acknowledged_within_minutes: 10    # includes the policy's waits: drill minutes
      levels_reached: 2
      failures: 0

Time: the scenario's steps and the policy's waits run ``--time-scale`` times faster than written (drill minutes).
The first page is preceded by no wait, only by the pipeline's own latency, which a time scale does not shorten:
it is measured in real seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import yaml

from siren.domain.incidents import Incident, TimelineEntry, TimelineKind
from siren.domain.pages import as_page, count_pages
from siren.domain.signals import SEVERITIES

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
EXPECTATIONS = ("first_page_within_seconds", "acknowledged_within_minutes", "levels_reached", "failures")


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Step:
    at_minutes: float
    action: str  # fire | ack | resolve
    ack_level: int | None = None
    ack_user: str | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    severity: str
    service: str
    title: str
    participants: tuple[str, ...]
    steps: tuple[Step, ...]
    expect: Mapping[str, float]

    @property
    def length_minutes(self) -> float:
        return max((step.at_minutes for step in self.steps), default=0.0)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioError(message)


def load_scenario(text: str, source: str, users: Sequence[str]) -> Scenario:
    """Read and check a scenario; every problem names the file and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"{source}: not valid YAML: {error}") from None
    _require(isinstance(data, dict), f"{source}: a scenario is a mapping")
    known = {"name", "description", "severity", "service", "title", "participants", "steps", "expect"}
    unknown = sorted(set(data) - known)
    _require(
        not unknown, f"{source}: unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})" if unknown else ""
    )
    name = str(data.get("name", ""))
    _require(bool(_NAME.fullmatch(name)), f"{source}: name must be lowercase letters, digits and '-' (got {name!r})")
    severity = str(data.get("severity", "SEV3"))
    _require(severity in SEVERITIES, f"{source}: severity must be one of {', '.join(SEVERITIES)}")
    participants = data.get("participants")
    _require(isinstance(participants, list) and bool(participants), f"{source}: participants: a list of users")
    for person in participants:
        _require(person in users, f"{source}: participants: unknown user {person!r} (users: {', '.join(users)})")
    raw_steps = data.get("steps")
    _require(isinstance(raw_steps, list) and bool(raw_steps), f"{source}: steps: a list of timed actions")
    steps = tuple(_step(raw, f"{source}: steps[{index}]", participants) for index, raw in enumerate(raw_steps))
    _require(steps[0].action == "fire", f"{source}: steps[0] must fire the alarm")
    _require(list(steps) == sorted(steps, key=lambda s: s.at_minutes), f"{source}: steps must be in time order")
    expect = data.get("expect") or {}
    _require(isinstance(expect, dict), f"{source}: expect: a mapping")
    for key, value in expect.items():
        _require(key in EXPECTATIONS, f"{source}: expect.{key}: unknown (known: {', '.join(EXPECTATIONS)})")
        _require(isinstance(value, int | float) and value >= 0, f"{source}: expect.{key}: a number >= 0")
    return Scenario(
        name=name,
        description=str(data.get("description", "")),
        severity=severity,
        service=str(data.get("service", "default")),
        title=str(data.get("title") or f"[DRILL] {name}"),
        participants=tuple(participants),
        steps=steps,
        expect={k: float(v) for k, v in expect.items()},
    )


def _step(raw: Any, where: str, participants: Sequence[str]) -> Step:
    _require(isinstance(raw, dict), f"{where}: a mapping such as {{at: 0, fire: true}}")
    at = raw.get("at")
    _require(isinstance(at, int | float) and at >= 0, f"{where}.at: minutes from the start, >= 0")
    actions = [key for key in ("fire", "ack", "resolve") if key in raw]
    _require(len(actions) == 1, f"{where}: exactly one of fire, ack, resolve")
    action = actions[0]
    if action != "ack":
        return Step(float(at), action)
    target = raw["ack"]
    _require(
        isinstance(target, dict) and len(target) == 1 and ("level" in target or "user" in target),
        f"{where}.ack: {{level: N}} or {{user: id}}",
    )
    if "user" in target:
        _require(target["user"] in participants, f"{where}.ack.user: must be a participant")
        return Step(float(at), action, ack_user=str(target["user"]))
    _require(isinstance(target["level"], int) and target["level"] >= 1, f"{where}.ack.level: 1 or more")
    return Step(float(at), action, ack_level=int(target["level"]))


# -- the scorecard ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Check:
    name: str
    expected: str
    actual: str
    passed: bool


@dataclass(frozen=True, slots=True)
class Scorecard:
    scenario: str
    incident_id: str
    first_page_seconds: float | None
    acknowledge_minutes: float | None
    acknowledged_by: str | None
    levels_reached: int
    pages: int  # siren.domain.pages: notifications that reached a person (as the report and postmortem count)
    failures: int
    skipped_non_participants: int
    checks: tuple[Check, ...]
    chat_posts: int = 0
    failed_attempts: int = 0  # sends that failed, a fallback may have reached the person after

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def first_paged_at_level(timeline: Sequence[TimelineEntry], level: int) -> str | None:
    """The first user paged at ``level`` (1-based), from the timeline's escalation and page entries."""
    current = 1
    for entry in timeline:
        if entry.kind is TimelineKind.ESCALATED:
            current = int(entry.data.get("level", current))
        elif current == level and (page := as_page(entry)) is not None and page.role is None:
            return page.user  # a chat post or a role's page is not the level's
    return None


def scorecard(
    scenario: Scenario, incident: Incident, timeline: Sequence[TimelineEntry], time_scale: float
) -> Scorecard:
    """Drill-time minutes (wall seconds x time scale / 60), from the incident's own timeline."""

    def minutes(delta: timedelta) -> float:
        return round(delta.total_seconds() * time_scale / 60.0, 2)

    counted = count_pages(timeline)
    skipped = [e for e in timeline if e.kind is TimelineKind.PAGE_FAILED and e.data.get("skipped")]
    failures = [
        e
        for e in timeline
        if (e.kind is TimelineKind.PAGE_FAILED and not e.data.get("skipped"))
        or e.kind is TimelineKind.ESCALATION_FAILED
    ]
    levels = max((int(e.data.get("level", 1)) for e in timeline if e.kind is TimelineKind.ESCALATED), default=1)
    first_at = counted.first_at
    first_page = round((first_at - incident.opened_at).total_seconds(), 2) if first_at else None
    acknowledged = minutes(incident.acknowledged_at - incident.opened_at) if incident.acknowledged_at else None
    actual: dict[str, float | None] = {
        "first_page_within_seconds": first_page,
        "acknowledged_within_minutes": acknowledged,
        "levels_reached": float(levels),
        "failures": float(len(failures)),
    }
    checks = []
    for key, expected in scenario.expect.items():
        value = actual[key]
        if key in ("levels_reached", "failures"):
            passed = value == expected
            shown = f"= {expected:g}"
        else:
            passed = value is not None and value <= expected
            shown = f"<= {expected:g} {'s' if key.endswith('seconds') else 'min'}"
        checks.append(Check(key, shown, "never" if value is None else f"{value:g}", passed))
    return Scorecard(
        scenario=scenario.name,
        incident_id=incident.id,
        first_page_seconds=first_page,
        acknowledge_minutes=acknowledged,
        acknowledged_by=incident.acknowledged_by,
        levels_reached=levels,
        pages=counted.total,
        failures=len(failures),
        skipped_non_participants=len(skipped),
        checks=tuple(checks),
        chat_posts=counted.chat_posts,
        failed_attempts=len(counted.failed_attempts),
    )


def run_started(now: datetime) -> str:
    """A run id for the drill's dedup key: each run is its own incident."""
    return f"{now:%Y%m%d%H%M%S}"
