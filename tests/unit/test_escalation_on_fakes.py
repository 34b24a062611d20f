"""The escalation use case on fakes: who is paged, on which channel, with which code; what an acknowledgement
stops; how a failed channel falls back; who is paged as the incident's roles; the canary's dry run.

GIVEN the shipped siren.yaml team and an incident in the fake store (tests/fakes.py)
WHEN the escalation state machine's tasks run (step, page, hold, roles) and people answer
THEN the fake pager holds what went out, the fake machine what was started and ended, the timeline says so.

The page-task tests at the end moved here from tests/integration/test_ack_codes.py (same assertions); the store's
own code semantics stay tested there against the real store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siren.app.escalation import Escalation, PagingSettings
from siren.app.escalation_events import EscalationEvents
from siren.app.incidents import Incidents
from siren.config import load_config
from siren.domain.escalation import PageTask
from siren.domain.incidents import Incident, IncidentStatus, LifecycleEventType, TimelineKind
from siren.domain.oncall import resolve_targets
from tests.fakes import FakeAckLinks, FakeCanary, FakeEscalationRuns, FakePager, FakeStore

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def incident(number: int, status: IncidentStatus = IncidentStatus.OPEN, **changes: Any) -> Incident:
    fields: dict[str, Any] = {
        "id": f"INC-20261130-0300-{number:06x}",
        "status": status,
        "severity": "SEV2",
        "title": f"alarm {number}",
        "service": "search",
        "dedup_key": f"codes:{number}",
        "source": "test",
        "opened_at": NOW,
        "last_seen_at": NOW,
    }
    return Incident(**{**fields, **changes})


def drawing(*codes: str) -> Any:
    """A code source that draws ``codes`` in turn, then the last one forever."""
    queue = list(codes)
    return lambda: queue.pop(0) if len(queue) > 1 else queue[0]


class AlwaysDraws(random.Random):
    """An RNG whose every code is ``value`` (the code space as seen by a starved allocator)."""

    def __init__(self, value: int) -> None:
        super().__init__(0)
        self.value = value

    def randint(self, a: int, b: int) -> int:
        return self.value


@dataclass
class Paging:
    """The escalation wired with fakes, and the fakes to look at afterwards."""

    store: FakeStore = field(default_factory=FakeStore)
    pager: FakePager = field(default_factory=FakePager)
    runs: FakeEscalationRuns = field(default_factory=FakeEscalationRuns)
    links: FakeAckLinks = field(default_factory=FakeAckLinks)
    canary: FakeCanary = field(default_factory=FakeCanary)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    @property
    def escalation(self) -> Escalation:
        return Escalation(
            incidents=self.store.incidents,
            escalations=self.store.escalations,
            codes=self.store.codes,
            pager=self.pager,
            waits=self.runs,
            config=CONFIG,
            settings=PagingSettings(email_sender="siren@example.com", links=self.links),
            clock=lambda: NOW,
            rng=self.rng,
            canary=self.canary,
        )

    def timeline(self, incident_id: str) -> list[Any]:
        return self.store.incidents.timeline(incident_id)

    def run_step(self, incident_id: str) -> list[dict[str, Any]]:
        """The first step and every page task it plans, as the state machine runs them."""
        step = self.escalation.step({"incident_id": incident_id, "attempt": 1})
        assert step["action"] == "wait"
        for task in step["pages"]:
            self.escalation.page(task, run="run-1")
        return list(step["pages"])


@pytest.fixture
def paging() -> Paging:
    return Paging()


def on_call(level: int, severity: str = "SEV2") -> tuple[str, ...]:
    policy = CONFIG.policy_for_severity(severity)
    return tuple(resolve_targets(policy.levels[level].targets, CONFIG, NOW))


# -- page ---------------------------------------------------------------------------------------------------------
def test_the_first_step_pages_whoever_is_on_call_at_level_one_with_a_code_bound_to_their_number(paging):
    # GIVEN an open SEV2 incident
    opened = paging.store.incidents.put(incident(1))

    # WHEN the escalation's first step runs with its page tasks
    tasks = paging.run_step(opened.id)

    # THEN each person on call at level 1 got one task and a text with the incident's code, bound to their number
    users = on_call(0)
    assert users and [task["user"] for task in tasks] == list(users)
    for user in users:
        phone = CONFIG.users[user].phone
        assert phone is not None
        (text,) = paging.pager.to(phone, "sms")
        code = text.split("Reply ACK ")[1].split()[0]
        binding = paging.store.codes.code_binding(code, NOW)
        assert binding is not None and binding[0] == opened.id and phone in binding[1]
    paged = {entry.data["user"] for entry in paging.timeline(opened.id) if entry.kind is TimelineKind.PAGED}
    assert paged == set(users)


# -- ack ----------------------------------------------------------------------------------------------------------
def test_an_acknowledgement_ends_the_held_wait_and_the_next_page_task_pages_nobody(paging):
    # GIVEN an incident being escalated, its wait held by the machine's run
    opened = paging.store.incidents.put(incident(2))
    tasks = paging.run_step(opened.id)
    assert paging.escalation.hold("token-1", {"incident_id": opened.id, "attempt": 1}, "run-1") == {"held": True}
    sent_before = len(paging.pager.sent)

    # WHEN a person acknowledges it, and the lifecycle event written with that reaches the escalation
    Incidents(paging.store.incidents, CONFIG, clock=lambda: NOW).acknowledge(opened.id, "alice", via="sms")
    (acknowledged,) = paging.store.incidents.events_of(LifecycleEventType.ACKNOWLEDGED)
    events = EscalationEvents(
        incidents=paging.store.incidents,
        escalations=paging.store.escalations,
        codes=paging.store.codes,
        runs=paging.runs,
        clock=lambda: NOW,
    )
    answer = events.on_lifecycle_event({"detail-type": acknowledged.detail_type, "detail": acknowledged.detail})

    # THEN the wait ended, and a page task still on its way pages nobody
    assert answer["stopped"] is True and paging.runs.waits_ended == ["token-1"]
    assert paging.escalation.page(tasks[0], run="run-2")["skipped"] == "acknowledged"
    assert len(paging.pager.sent) == sent_before


def test_a_wait_held_after_the_acknowledgement_ends_at_once(paging):
    acknowledged = paging.store.incidents.put(incident(3, IncidentStatus.ACKNOWLEDGED))

    assert paging.escalation.hold("token-late", {"incident_id": acknowledged.id, "attempt": 1}, "run-1")["held"]

    assert paging.runs.waits_ended == ["token-late"] and paging.runs.reasons["token-late"] == "acknowledged"


def test_a_wait_of_a_superseded_attempt_is_refused_and_ended(paging):
    raised = paging.store.incidents.put(incident(4))
    paging.store.escalations.supersede_escalation(raised.id, 3)

    assert paging.escalation.hold("token-old", {"incident_id": raised.id, "attempt": 1}, "run-1") == {"held": False}
    assert paging.runs.waits_ended == ["token-old"]


# -- fallback -----------------------------------------------------------------------------------------------------
def test_a_failed_voice_call_falls_back_to_a_text_and_both_are_on_the_timeline(paging):
    # GIVEN voice calls fail
    opened = paging.store.incidents.put(incident(5))
    paging.pager.failing = {"voice"}
    phone = CONFIG.users["bob"].phone

    # WHEN bob's voice page is sent
    result = paging.escalation.page(PageTask(opened.id, "bob", ("voice",), "s").to_json(), run="r")

    # THEN the call failed, a text went out instead, and the page counts as sent
    assert [(channel, to) for channel, to, _ in paging.pager.sent] == [("voice", phone), ("sms", phone)]
    assert result["sent"] == ["voice"]
    kinds = [(entry.kind, entry.data.get("channel")) for entry in paging.timeline(opened.id)]
    assert (TimelineKind.PAGE_FAILED, "voice") in kinds and (TimelineKind.PAGED, "sms") in kinds


def test_a_text_that_end_user_messaging_refuses_goes_by_sns(paging):
    opened = paging.store.incidents.put(incident(6))
    paging.pager.failing = {"end-user-messaging"}

    paging.escalation.page(PageTask(opened.id, "alice", ("sms",), "s").to_json(), run="r")

    vias = [(entry.kind, entry.data.get("via")) for entry in paging.timeline(opened.id) if entry.data.get("channel")]
    assert vias == [(TimelineKind.PAGE_FAILED, "end-user-messaging"), (TimelineKind.PAGED, "sns")]


def test_a_page_that_reached_nobody_is_retried_and_sends_again(paging):
    opened = paging.store.incidents.put(incident(7))
    paging.pager.failing = {"sms"}
    task = PageTask(opened.id, "alice", ("sms",), "s").to_json()

    assert paging.escalation.page(task, run="r")["sent"] == []
    paging.pager.failing = set()
    assert paging.escalation.page(task, run="r")["sent"] == ["sms"]


# -- roles --------------------------------------------------------------------------------------------------------
def test_a_sev1_also_pages_the_incident_commander_and_the_comms_lead_marked_with_their_role(paging):
    # GIVEN a SEV1 (roles are paged for SEV1 and SEV2)
    opened = paging.store.incidents.put(incident(8, severity="SEV1"))
    commander = (
        resolve_targets([CONFIG.roles.commander], CONFIG, NOW) if CONFIG.roles and CONFIG.roles.commander else []
    )
    comms = resolve_targets([CONFIG.roles.comms], CONFIG, NOW) if CONFIG.roles and CONFIG.roles.comms else []

    # WHEN the roles task runs and its page tasks are sent
    answer = paging.escalation.roles({"incident_id": opened.id, "attempt": 1})
    for task in answer["pages"]:
        paging.escalation.page(task, run="run-1")

    # THEN both roles were paged, each page marked with its role
    assert commander and comms
    assert set(answer["paged"]) == set(commander) | set(comms)
    roles = {entry.data.get("role") for entry in paging.timeline(opened.id) if entry.kind is TimelineKind.PAGED}
    assert roles == {"commander", "comms"}


def test_a_sev3_pages_no_roles(paging):
    opened = paging.store.incidents.put(incident(9, severity="SEV3"))
    assert paging.escalation.roles({"incident_id": opened.id}) == {"paged": [], "pages": []}


# -- the canary ---------------------------------------------------------------------------------------------------
def test_the_canary_checks_its_texts_sends_nothing_records_its_heartbeat_and_resolves(paging):
    canary = paging.store.incidents.put(incident(10, severity="SEV1", canary=True, dedup_key="canary:1"))

    answer = paging.escalation.step({"incident_id": canary.id, "attempt": 1})

    assert answer["action"] == "stop" and answer["reason"] == "canary checked"
    assert paging.pager.sent == [] and len(paging.pager.checked) == len(on_call(0, "SEV1"))
    assert [at for at, _ in paging.canary.heartbeats] == [NOW] and paging.canary.resolved == [canary.id]


def test_a_failed_canary_check_records_no_heartbeat(paging):
    canary = paging.store.incidents.put(incident(11, severity="SEV1", canary=True, dedup_key="canary:1"))
    paging.pager.failing = {"sms"}

    assert paging.escalation.step({"incident_id": canary.id})["reason"] == "canary check failed"
    assert paging.canary.heartbeats == [] and paging.canary.resolved == [canary.id]


# -- page tasks and codes (from tests/integration/test_ack_codes.py) ----------------------------------------------
def test_a_page_goes_out_without_a_code_when_none_can_be_drawn_and_the_timeline_says_so(paging):
    holder, starved = paging.store.incidents.put(incident(18)), paging.store.incidents.put(incident(19))
    taken = paging.store.codes.ack_code(holder.id, drawing("777777"), NOW)
    assert taken is not None
    paging.rng = AlwaysDraws(int(taken))
    task = PageTask(starved.id, "alice", ("sms", "voice"), "a1.r0.l0.s0")

    result = paging.escalation.page(task.to_json(), run="run-1")

    assert result["sent"] == ["sms", "voice"]
    (sms,) = [body for channel, _, body in paging.pager.sent if channel == "sms"]
    assert "ACK" not in sms and sms.endswith(f"Ack: https://ack.example.com/?i={starved.id}&a=ack&u=alice")
    kinds = [(entry.kind, entry.detail) for entry in paging.timeline(starved.id)]
    assert (TimelineKind.PAGE_FAILED, "no acknowledgement code could be allocated: paging without one") in kinds
    assert paging.store.codes.code_binding(taken, NOW) == (holder.id, [])  # the live code's holder is untouched


def test_a_retried_page_task_skips_what_it_sent_and_tries_again_what_failed(paging):
    paged = paging.store.incidents.put(incident(20))
    paging.pager.failing = {"email"}
    task = PageTask(paged.id, "alice", ("sms", "email"), "a1.r0.l0.s0").to_json()
    pages = paging.escalation

    first = pages.page(task, run="run-2")
    paging.pager.failing.clear()
    retried = pages.page(task, run="run-2")  # the state machine's retry of the same task in the same run
    another_run = pages.page(task, run="run-2-r1")  # a repair run pages afresh

    assert first["sent"] == ["sms"]
    assert retried["sent"] == ["sms", "email"]
    assert [channel for channel, _, _ in paging.pager.sent] == ["sms", "email", "email", "sms", "email"]
    entries = [entry for entry in paging.timeline(paged.id) if entry.data.get("channel")]
    assert [(entry.kind, entry.data["channel"]) for entry in entries].count((TimelineKind.PAGED, "sms")) == 2
    assert (TimelineKind.PAGE_FAILED, "email") in [(entry.kind, entry.data["channel"]) for entry in entries]
    assert another_run["sent"] == ["sms", "email"]


def test_an_incident_acknowledged_before_its_page_task_runs_pages_nobody(paging):
    acknowledged = paging.store.incidents.put(incident(21, IncidentStatus.ACKNOWLEDGED))

    result = paging.escalation.page(PageTask(acknowledged.id, "alice", ("sms",), "s").to_json(), run="r")

    assert paging.pager.sent == [] and result["skipped"] == "acknowledged"


def test_a_code_bound_to_a_page_is_the_incidents_and_carries_the_number(paging):
    paged = paging.store.incidents.put(incident(22))

    paging.escalation.page(PageTask(paged.id, "bob", ("voice", "sms"), "s").to_json(), run="r")

    (sms,) = [body for channel, _, body in paging.pager.sent if channel == "sms"]
    code = sms.split("Reply ACK ")[1].split()[0]
    assert len(code) == 6
    assert paging.store.codes.code_binding(code, NOW) == (paged.id, [CONFIG.users["bob"].phone] * 2)
