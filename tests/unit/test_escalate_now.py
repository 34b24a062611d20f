"""Escalate now on fakes: a person asks to page the next level before the level's delay runs out.

GIVEN the shipped siren.yaml (SEV2: the critical policy, three levels; everyone is texted at once and called two
minutes later), an incident in the fake store and its escalation run by the state machine's tasks as the machine
runs them (Step, the page tasks, AwaitAck's hold),
WHEN alice asks to escalate now (Incidents.escalate_now, via slack),
THEN the request is on the timeline with the level it leaves, the held wait ends early towards the next level (the
machine's AfterWait reads ``escalate_now``), and the next Step pages level 2 instead of level 1's voice call; a
second request for the level changes nothing and says who asked; an acknowledged incident, a run holding no wait
and the policy's last level refuse it and say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siren.app.escalation import Escalation, PagingSettings
from siren.app.escalation_events import EscalationShortcut
from siren.app.incidents import Incidents
from siren.config import load_config
from siren.domain.escalation import WaitingAt
from siren.domain.incidents import IncidentError, IncidentStatus, TimelineKind
from siren.domain.oncall import resolve_targets
from tests.fakes import FakeEscalationRuns, FakePager, FakeStore

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
OPENED = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def on_call(level: int) -> set[str]:
    return set(resolve_targets(CONFIG.policy_for_severity("SEV2").levels[level].targets, CONFIG, OPENED))


@dataclass
class Machine:
    """The escalation's tasks, run in the order the state machine runs them, on fakes; ``now`` moves by hand."""

    store: FakeStore = field(default_factory=FakeStore)
    pager: FakePager = field(default_factory=FakePager)
    runs: FakeEscalationRuns = field(default_factory=FakeEscalationRuns)
    now: datetime = OPENED
    tokens: int = 0

    def __post_init__(self) -> None:
        self.incidents = Incidents(
            self.store.incidents,
            CONFIG,
            clock=lambda: self.now,
            escalation=EscalationShortcut(self.store.escalations, self.runs),
        )
        self.escalation = Escalation(
            incidents=self.store.incidents,
            escalations=self.store.escalations,
            codes=self.store.codes,
            pager=self.pager,
            waits=self.runs,
            config=CONFIG,
            settings=PagingSettings(email_sender="siren@example.com"),
            clock=lambda: self.now,
        )
        self.incident_id = self.incidents.declare("Search is slow", "SEV2", "search", "", "carol").incident_id or ""

    def step(self, cursor: dict[str, Any]) -> dict[str, Any]:
        """Step, its page tasks, then AwaitAck's hold: the state the machine waits in (its token is ``token``)."""
        state = self.escalation.step(cursor)
        for task in state["pages"]:
            self.escalation.page(task, run="run-1")
        self.tokens += 1
        state["token"] = f"token-{self.tokens}"
        state["hold"] = self.escalation.hold(state["token"], state["cursor"], "run-1")
        return state

    def paged_users(self, channel: str) -> set[str]:
        phones = {user.phone: name for name, user in CONFIG.users.items()}
        return {phones[to] for sent_on, to, _ in self.pager.sent if sent_on == channel and to in phones}

    def timeline(self, kind: TimelineKind) -> list[Any]:
        return [entry for entry in self.store.incidents.timeline(self.incident_id) if entry.kind is kind]


@pytest.fixture
def machine() -> Machine:
    return Machine()


def test_escalate_now_ends_level_ones_wait_and_the_next_step_pages_level_two_not_level_ones_call(machine):
    # GIVEN level 1 texted, its wait for the voice call two minutes later held
    first = machine.step({"incident_id": machine.incident_id, "attempt": 1})
    assert machine.paged_users("sms") == on_call(0) and machine.paged_users("voice") == set()
    assert first["cursor"]["step"] == 1 and first["cursor"]["waiting"]["level"] == 0

    # WHEN alice asks to escalate now, from Slack
    request = machine.incidents.escalate_now(machine.incident_id, "alice", "slack")

    # THEN it is recorded with the level it leaves, and the held wait ended early towards the next level
    assert request.requested and request.wait_ended and request.from_level == "level 1"
    (entry,) = machine.timeline(TimelineKind.ESCALATION_REQUESTED)
    assert entry.actor == "alice" and entry.data["via"] == "slack" and entry.data["from"] == "a1.r0.l0"
    assert machine.runs.waits_escalated == [first["token"]] and machine.runs.waits_ended == []

    # WHEN the machine's AfterWait runs the next Step with the cursor it held (level 1, its voice step)
    second = machine.step(first["cursor"])

    # THEN level 2 is paged now, level 1's call is skipped, and the timeline says why it escalated
    assert machine.paged_users("sms") == on_call(0) | on_call(1)
    assert machine.paged_users("voice") == set()
    (escalated,) = machine.timeline(TimelineKind.ESCALATED)
    assert escalated.data["level"] == 2 and escalated.data["requested_by"] == "alice"
    assert "as alice asked" in escalated.detail
    assert second["cursor"]["waiting"]["level"] == 1 and second["hold"] == {"held": True}


def test_a_second_request_for_the_same_level_changes_nothing_and_says_who_asked(machine):
    machine.step({"incident_id": machine.incident_id, "attempt": 1})
    machine.incidents.escalate_now(machine.incident_id, "alice", "slack")

    again = machine.incidents.escalate_now(machine.incident_id, "bob", "slack")  # before the next Step ran

    assert not again.requested and "already asked by alice" in again.reason
    assert len(machine.timeline(TimelineKind.ESCALATION_REQUESTED)) == 1
    assert len(machine.runs.waits_escalated) == 1  # the wait ends once


def test_a_double_click_landing_after_the_next_level_is_held_does_not_skip_that_level_too(machine):
    first = machine.step({"incident_id": machine.incident_id, "attempt": 1})
    machine.incidents.escalate_now(machine.incident_id, "alice", "slack")
    machine.step(first["cursor"])  # level 2 paged, its wait held
    machine.now += timedelta(seconds=2)

    late = machine.incidents.escalate_now(machine.incident_id, "alice", "slack")

    assert not late.requested and "ask again if the level now paged does not answer" in late.reason
    assert len(machine.runs.waits_escalated) == 1

    # Level 2 does not answer either: a request a minute later escalates from level 2.
    machine.now += timedelta(minutes=1)
    later = machine.incidents.escalate_now(machine.incident_id, "alice", "slack")
    assert later.requested and later.wait_ended and later.from_level == "level 2"


def test_a_request_made_while_the_level_is_paging_ends_its_wait_as_soon_as_it_is_held(machine):
    # GIVEN a held wait at level 1's first step, then its timeout ran the next Step (level 1's voice call)
    first = machine.escalation.step({"incident_id": machine.incident_id, "attempt": 1})
    machine.escalation.hold("token-1", first["cursor"], "run-1")
    second = machine.escalation.step(first["cursor"])

    # WHEN alice asks while that step's pages go out (the held token is the timed-out one: nothing to end)
    request = machine.incidents.escalate_now(machine.incident_id, "alice", "slack")
    assert request.requested and machine.runs.waits_escalated == ["token-1"]  # the stale token: the fake ends it

    # THEN the wait the voice step holds at level 1 ends at once towards level 2, and the Step after it pages level 2
    assert machine.escalation.hold("token-2", second["cursor"], "run-1") == {"held": True, "escalated": "alice"}
    assert machine.runs.waits_escalated == ["token-1", "token-2"]
    third = machine.escalation.step(second["cursor"])
    assert {task["user"] for task in third["pages"]} == on_call(1)


def test_escalate_now_on_an_acknowledged_incident_changes_nothing_and_says_why(machine):
    machine.step({"incident_id": machine.incident_id, "attempt": 1})
    machine.incidents.acknowledge(machine.incident_id, "dave", "sms")

    with pytest.raises(IncidentError, match="acknowledged by dave: its escalation has stopped"):
        machine.incidents.escalate_now(machine.incident_id, "alice", "slack")

    assert machine.timeline(TimelineKind.ESCALATION_REQUESTED) == []
    assert machine.runs.waits_escalated == []
    assert machine.incidents.get(machine.incident_id).incident.status is IncidentStatus.ACKNOWLEDGED


def test_a_resolved_incident_a_run_holding_no_wait_and_the_last_level_refuse_it(machine):
    with pytest.raises(IncidentError, match="not waiting on anyone right now"):
        machine.incidents.escalate_now(machine.incident_id, "alice", "slack")  # the run has not held a wait yet

    last = WaitingAt(attempt=1, round=2, level=2, last=True)
    machine.store.escalations.hold_token(machine.incident_id, "token-last", "run-1", 1, last)
    with pytest.raises(IncidentError, match="the last of its escalation policy"):
        machine.incidents.escalate_now(machine.incident_id, "alice", "slack")

    machine.incidents.resolve(machine.incident_id, "alice")
    with pytest.raises(IncidentError, match="is resolved"):
        machine.incidents.escalate_now(machine.incident_id, "alice", "slack")
    assert machine.timeline(TimelineKind.ESCALATION_REQUESTED) == [] and machine.runs.waits_escalated == []


def test_without_the_machine_escalate_now_is_refused():
    store = FakeStore()
    incidents = Incidents(store.incidents, CONFIG, clock=lambda: OPENED)
    declared = incidents.declare("Search is slow", "SEV2", "search", "", "carol").incident_id or ""
    with pytest.raises(IncidentError, match="needs the escalation state machine"):
        incidents.escalate_now(declared, "alice", "cli")


def test_the_machine_runs_the_next_step_on_the_output_the_adapter_sends_and_ends_on_any_other(monkeypatch):
    """AwaitAck's success goes to AfterWait, which reads the key StepFunctionsRuns.escalate_wait sends: Step for an
    escalate now, the end for an acknowledgement's ``stopped``; a timeout still goes to Step."""
    import json

    from infra.components.escalation import ASL
    from siren.adapters import escalations

    branch = json.loads(ASL.read_text())["States"]["Escalate"]["Branches"][0]["States"]
    after_wait = branch[branch["AwaitAck"]["Next"]]
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(escalations, "complete_wait", lambda token, output: sent.append(output) or True)
    runs = escalations.StepFunctionsRuns("arn:aws:states:us-east-1:123456789012:stateMachine:m")
    assert runs.escalate_wait("t1", "alice") and runs.end_wait("t2", "acknowledged")

    def next_state(output: dict[str, Any]) -> str:
        ack = {"ack": output}  # AwaitAck's ResultPath
        for choice in after_wait["Choices"]:
            path = choice["Variable"].removeprefix("$.").split(".")
            value: Any = ack
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if choice.get("IsPresent") is (value is not None):
                return str(choice["Next"])
        return str(after_wait["Default"])

    assert after_wait["Type"] == "Choice"
    assert [next_state(output) for output in sent] == ["Step", "EscalationEnded"]
    timeouts = [c for c in branch["AwaitAck"]["Catch"] if "States.Timeout" in c["ErrorEquals"]]
    assert [c["Next"] for c in timeouts] == ["Step"]
