"""Acknowledgement codes and page tasks against the real store (in-process local AWS, the deployed table).

GIVEN incidents written straight to the store and a recording pager
WHEN codes are drawn, renewed, freed and expire, and page tasks run (and are retried)
THEN a code is never live for two incidents, a resolved incident's code goes back to the pool, a page goes out
even when no code can be drawn (and says so on the timeline), and a retried page task re-pages nobody.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siren.adapters.dynamodb import DynamoStore, dynamo_store
from siren.adapters.dynamodb.ack_codes import ACK_CODE_GRACE, ACK_CODE_TTL
from siren.app.escalation import Escalation, PagingSettings
from siren.config import load_config
from siren.domain.ack import AckAction
from siren.domain.escalation import PageTask
from siren.domain.incidents import Incident, IncidentStatus, TimelineKind
from siren.domain.messages import EmailMessage
from siren.ports import Delivery
from tests.conftest import running_runtime
from tests.fakes import FakeEscalationRuns

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def stores(siren_assembly: Path) -> Iterator[DynamoStore]:
    for runtime in running_runtime("in-process", 600, siren_assembly):
        runtime.pause_schedules("Siren-")  # nothing but the test writes to the table
        assert runtime.drain(30)
        yield dynamo_store(runtime.stacks["Siren"].outputs["IncidentsTableName"])


def incident(number: int, status: IncidentStatus = IncidentStatus.OPEN) -> Incident:
    return Incident(
        id=f"INC-20261130-0300-{number:06x}",
        status=status,
        severity="SEV2",
        title=f"alarm {number}",
        service="search",
        dedup_key=f"codes:{number}",
        source="test",
        opened_at=NOW,
        last_seen_at=NOW,
    )


def drawing(*codes: str) -> Any:
    """A code source that draws ``codes`` in turn, then the last one forever."""
    queue = list(codes)
    return lambda: queue.pop(0) if len(queue) > 1 else queue[0]


# -- codes ------------------------------------------------------------------------------------------------
def test_a_live_incident_keeps_its_code_and_renews_it_while_it_pages(stores):
    first = incident(1)
    stores.incidents.bulk_put([first])

    code = stores.ack_codes.ack_code(first.id, drawing("111111"), NOW)
    # Six days later it pages again: same code, and its life runs from now (it outlives the first week).
    assert stores.ack_codes.ack_code(first.id, drawing("222222"), NOW + timedelta(days=6)) == code
    assert stores.ack_codes.code_binding(code, NOW + ACK_CODE_TTL + timedelta(days=5)) == (first.id, [])


def test_an_expired_code_and_its_binding_go_together_and_never_cross_to_another_incident(stores):
    """The review's crossing: an incident open past the code's life kept its binding while the code expired; once
    another incident drew the code, the first incident's re-page reused it, and its responders' ACK reached the
    second incident."""
    old, new = incident(2), incident(3)
    stores.incidents.bulk_put([old, new])
    code = stores.ack_codes.ack_code(old.id, drawing("333333"), NOW)
    assert stores.ack_codes.bind_number(code, old.id, "+14255550101", NOW)

    later = NOW + ACK_CODE_TTL + timedelta(hours=1)  # both expired (TTL has not deleted them yet)
    assert stores.ack_codes.code_binding(code, later) is None
    assert stores.ack_codes.ack_code(new.id, drawing(code), later) == code  # the other incident draws the freed code

    repaged = stores.ack_codes.ack_code(old.id, drawing(code, "444444"), later)
    assert repaged == "444444"  # not the other incident's live code
    assert stores.ack_codes.code_binding(code, later) == (new.id, [])  # the old responder's number is not on it
    assert not stores.ack_codes.bind_number(code, old.id, "+14255550101", later)  # and cannot be put on it
    assert stores.ack_codes.bind_number(repaged, old.id, "+14255550101", later)
    assert stores.ack_codes.code_binding(repaged, later) == (old.id, ["+14255550101"])


def test_a_resolved_incidents_code_is_freed_after_a_grace_for_late_replies(stores):
    resolved, next_one = incident(4), incident(5)
    stores.incidents.bulk_put([resolved, next_one])
    code = stores.ack_codes.ack_code(resolved.id, drawing("555555"), NOW)

    assert stores.ack_codes.free_ack_code(resolved.id, NOW) == code
    assert stores.ack_codes.free_ack_code(resolved.id, NOW) == code  # a redelivered "Incident Resolved" changes nothing
    assert stores.ack_codes.code_binding(code, NOW + ACK_CODE_GRACE / 2) == (
        resolved.id,
        [],
    )  # "already resolved" still
    after = NOW + ACK_CODE_GRACE + timedelta(seconds=1)
    assert stores.ack_codes.code_binding(code, after) is None
    assert stores.ack_codes.ack_code(next_one.id, drawing(code), after) == code


def test_no_code_is_handed_out_when_every_draw_is_live(stores):
    holder, starved = incident(6), incident(7)
    stores.incidents.bulk_put([holder, starved])
    code = stores.ack_codes.ack_code(holder.id, drawing("666666"), NOW)

    assert stores.ack_codes.ack_code(starved.id, drawing(code), NOW, attempts=5) is None
    assert stores.ack_codes.code_binding(code, NOW) == (holder.id, [])


# -- page tasks -------------------------------------------------------------------------------------------
@dataclass
class RecordingPager:
    """The pager as the escalation uses it; records each send, fails the channels in ``failing``."""

    failing: set[str] = field(default_factory=set)
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (channel, to, body)

    def _deliver(self, channel: str, to: str, body: str, via: str) -> Delivery:
        self.sent.append((channel, to, body))
        ok = channel not in self.failing
        return Delivery(channel, to, via, ok, message_id="m-1" if ok else None, error=None if ok else "down")

    def send_sms(self, to: str, text: str) -> list[Delivery]:
        return [self._deliver("sms", to, text, "end-user-messaging")]

    def check_sms(self, to: str, text: str) -> Delivery:
        return Delivery("sms", to, "end-user-messaging", True)

    def send_voice(self, to: str, ssml: str) -> Delivery:
        return self._deliver("voice", to, ssml, "end-user-messaging")

    def send_email(self, to: str, message: EmailMessage, sender: str) -> Delivery:
        return self._deliver("email", to, message.text, "ses")

    def send_chat(self, webhook_url: str, payload: Mapping[str, Any]) -> Delivery:
        return self._deliver("chat", "hooks.example.com", str(payload.get("text")), "webhook")


class Links:
    def link(self, incident_id: str, action: AckAction, user: str, now: datetime) -> str:
        return f"https://ack.example.com/?i={incident_id}&a={action}&u={user}"


class AlwaysDraws(random.Random):
    """An RNG whose every code is ``value`` (the code space as seen by a starved allocator)."""

    def __init__(self, value: int) -> None:
        super().__init__(0)
        self.value = value

    def randint(self, a: int, b: int) -> int:
        return self.value


def escalation(stores: DynamoStore, pager: RecordingPager, rng: random.Random | None = None) -> Escalation:
    settings = PagingSettings(email_sender="siren@example.com", links=Links())
    return Escalation(
        incidents=stores.incidents,
        escalations=stores.escalations,
        codes=stores.ack_codes,
        pager=pager,
        waits=FakeEscalationRuns(),
        config=CONFIG,
        settings=settings,
        clock=lambda: NOW,
        rng=rng or random.Random(7),
    )


def timeline(stores: DynamoStore, incident_id: str) -> list[Any]:
    view = stores.incidents.view(incident_id)
    assert view is not None
    return view.timeline


def test_a_page_goes_out_without_a_code_when_none_can_be_drawn_and_the_timeline_says_so(stores):
    holder, starved = incident(8), incident(9)
    stores.incidents.bulk_put([holder, starved])
    taken = stores.ack_codes.ack_code(holder.id, drawing("777777"), NOW)
    pager = RecordingPager()
    task = PageTask(starved.id, "alice", ("sms", "voice"), "a1.r0.l0.s0")

    result = escalation(stores, pager, AlwaysDraws(int(taken))).page(task.to_json(), run="run-1")

    assert result["sent"] == ["sms", "voice"]
    (sms,) = [body for channel, _, body in pager.sent if channel == "sms"]
    assert "ACK" not in sms and sms.endswith(f"Ack: https://ack.example.com/?i={starved.id}&a=ack&u=alice")
    kinds = [(entry.kind, entry.detail) for entry in timeline(stores, starved.id)]
    assert (TimelineKind.PAGE_FAILED, "no acknowledgement code could be allocated: paging without one") in kinds
    assert stores.ack_codes.code_binding(taken, NOW) == (holder.id, [])  # the live code's holder is untouched


def test_a_retried_page_task_skips_what_it_sent_and_tries_again_what_failed(stores):
    paged = incident(10)
    stores.incidents.bulk_put([paged])
    pager = RecordingPager(failing={"email"})
    task = PageTask(paged.id, "alice", ("sms", "email"), "a1.r0.l0.s0").to_json()
    pages = escalation(stores, pager)

    first = pages.page(task, run="run-2")
    pager.failing.clear()
    retried = pages.page(task, run="run-2")  # the state machine's retry of the same task in the same run
    another_run = pages.page(task, run="run-2-r1")  # a repair run pages afresh

    assert first["sent"] == ["sms"]
    assert retried["sent"] == ["sms", "email"]
    assert [channel for channel, _, _ in pager.sent] == ["sms", "email", "email", "sms", "email"]
    entries = [entry for entry in timeline(stores, paged.id) if entry.data.get("channel")]
    assert [(entry.kind, entry.data["channel"]) for entry in entries].count((TimelineKind.PAGED, "sms")) == 2
    assert (TimelineKind.PAGE_FAILED, "email") in [(entry.kind, entry.data["channel"]) for entry in entries]
    assert another_run["sent"] == ["sms", "email"]


def test_an_incident_acknowledged_before_its_page_task_runs_pages_nobody(stores):
    acknowledged = incident(11, IncidentStatus.ACKNOWLEDGED)
    stores.incidents.bulk_put([acknowledged])
    pager = RecordingPager()

    result = escalation(stores, pager).page(PageTask(acknowledged.id, "alice", ("sms",), "s").to_json(), run="r")

    assert pager.sent == [] and result["skipped"] == "acknowledged"


def test_a_code_bound_to_a_page_is_the_incidents_and_carries_the_number(stores):
    paged = incident(12)
    stores.incidents.bulk_put([paged])
    pager = RecordingPager()

    escalation(stores, pager).page(PageTask(paged.id, "bob", ("voice", "sms"), "s").to_json(), run="r")

    (sms,) = [body for channel, _, body in pager.sent if channel == "sms"]
    code = sms.split("Reply ACK ")[1].split()[0]
    assert len(code) == 6
    assert stores.ack_codes.code_binding(code, NOW) == (paged.id, [CONFIG.users["bob"].phone] * 2)
