"""SMS replies to pages: what Siren texts back, and when it stays silent.

GIVEN a code bound to an incident and the numbers paged with it, a stranger's reply gets the same answer whether
the code is live, dead or never existed; an opt-out keyword (any of End User Messaging's) gets no answer at all;
and answers that are not a paged number's confirmations go out at most once a minute to a number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siren.app.incidents import Incidents
from siren.app.sms_replies import SmsReplies
from siren.domain.ack import OPT_OUT_KEYWORDS, ReplyKind, SmsCommand, SmsCommandKind, parse_sms_reply, reply_text
from siren.domain.incidents import Incident, IncidentStatus
from siren.domain.policy import SirenConfig, User
from tests.fakes import FakePager, FakeStore

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PAGED = "+14255550182"
STRANGER = "+14255559999"
LIVE_CODE = "482193"
INCIDENT = Incident(
    id="INC-1",
    status=IncidentStatus.OPEN,
    severity="SEV2",
    title="disk full",
    service="billing",
    dedup_key="generic:disk",
    source="generic",
    opened_at=NOW,
    last_seen_at=NOW,
)


@dataclass
class FakeIncidents:
    acknowledged: list[tuple[str, str]] = field(default_factory=list)
    resolved: list[tuple[str, str]] = field(default_factory=list)

    def acknowledge(self, incident_id: str, actor: str, via: str) -> None:
        self.acknowledged.append((incident_id, actor))

    def resolve(self, incident_id: str, actor: str, note: str | None = None) -> None:
        self.resolved.append((incident_id, actor))


class Phone:
    """Texts Siren from a number at a settable time; keeps what came back."""

    def __init__(self) -> None:
        self.store, self.pager, self.incidents = FakeStore(), FakePager(), FakeIncidents()
        self.store.incidents.put(INCIDENT)
        # The live code, bound to the paged number (the store reads a binding's life by the wall clock).
        issued = datetime.now(UTC)
        assert self.store.codes.ack_code("INC-1", lambda: LIVE_CODE, issued) == LIVE_CODE
        assert self.store.codes.bind_number(LIVE_CODE, "INC-1", PAGED, issued)
        self.config = SirenConfig(users={"alice": User("alice", "Alice", phone=PAGED)})
        self.now = NOW
        self.replies = SmsReplies(
            incidents=self.store.incidents,
            codes=self.store.codes,
            changes=self.incidents,  # type: ignore[arg-type]
            config=self.config,
            pager=self.pager,
            clock=lambda: self.now,
        )

    def text(self, sender: str, body: str) -> dict[str, Any]:
        return self.replies.reply({"originationNumber": sender, "messageBody": body})

    def answers_to(self, number: str) -> list[str]:
        return self.pager.to(number)


@pytest.fixture
def phone() -> Phone:
    return Phone()


# -- one answer for every code a number may not use -----------------------------------------------------------
def test_a_stranger_cannot_tell_a_live_code_from_a_dead_one(phone):
    # GIVEN a live code bound to another number, and a code that was never issued, each from a fresh number
    phone.text("+14255550001", f"ACK {LIVE_CODE}")
    phone.text("+14255550002", "ACK 123456")
    phone.text("+14255550003", "RES 99")
    phone.text("+14255550004", "ok thanks")

    # THEN each got the very same answer, and nothing was acknowledged
    answers = [text for _, _, text in phone.pager.sent]
    assert len(answers) == 4 and len(set(answers)) == 1
    assert answers[0] == reply_text(ReplyKind.CODE_REFUSED)
    assert "INC-1" not in answers[0] and LIVE_CODE not in answers[0]
    assert phone.incidents.acknowledged == []


def test_the_paged_number_acknowledges_and_is_told_so(phone):
    outcome = phone.text(PAGED, f"ack {LIVE_CODE}")
    assert outcome == {"outcome": "acknowledged", "incident_id": "INC-1", "by": "alice"}
    assert phone.incidents.acknowledged == [("INC-1", "alice")]
    assert phone.answers_to(PAGED) == [reply_text(ReplyKind.ACKNOWLEDGED, "INC-1", LIVE_CODE)]


# -- opt-out: silence ----------------------------------------------------------------------------------------
AWS_OPT_OUT_KEYWORDS = ["ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD", "UNSUBSCRIBE"]


def test_every_end_user_messaging_opt_out_keyword_is_known():
    # End User Messaging SMS user guide, "Required opt-out keywords"
    assert set(AWS_OPT_OUT_KEYWORDS) <= OPT_OUT_KEYWORDS


@pytest.mark.parametrize("keyword", sorted(OPT_OUT_KEYWORDS))
@pytest.mark.parametrize("spelt", [str.upper, str.lower, str.title, lambda k: f"  {k}. "])
def test_an_opt_out_keyword_is_never_answered(phone, keyword, spelt):
    assert parse_sms_reply(spelt(keyword)) == SmsCommand(SmsCommandKind.STOP)
    for sender in (STRANGER, PAGED):
        assert phone.text(sender, spelt(keyword)) == {"outcome": "opt-out left to AWS"}
    assert phone.pager.sent == []


@pytest.mark.parametrize("reply", ["Arrêt", "opt out", "Stop texting me", "STOP 482193", "td."])
def test_a_reply_that_starts_with_an_opt_out_keyword_is_not_answered(phone, reply):
    assert phone.text(STRANGER, reply) == {"outcome": "opt-out left to AWS"}
    assert phone.pager.sent == []


@pytest.mark.parametrize("reply", ["ENDED", "Tdy", "Removal", "Stopwatch"])
def test_words_that_only_begin_like_a_keyword_are_not_opt_outs(reply):
    assert parse_sms_reply(reply) == SmsCommand(SmsCommandKind.UNKNOWN)


# -- at most one answer a minute ---------------------------------------------------------------------------
def test_a_number_that_keeps_texting_gets_one_answer_a_minute(phone):
    for second in range(0, 60, 5):
        phone.now = NOW + timedelta(seconds=second)
        phone.text(STRANGER, f"ACK {1000 + second}")
    phone.text(STRANGER, "HELP")
    assert len(phone.answers_to(STRANGER)) == 1

    phone.now = NOW + timedelta(minutes=1)
    phone.text(STRANGER, "HELP")
    assert len(phone.answers_to(STRANGER)) == 2
    # another number has its own minute
    phone.text("+14255550001", "HELP")
    assert len(phone.answers_to("+14255550001")) == 1


def test_a_withheld_answer_is_said_in_the_outcome(phone):
    phone.text(STRANGER, "ACK 123456")
    assert phone.text(STRANGER, "ACK 123457") == {"outcome": "unknown code", "reply": "withheld: one a minute"}


def test_a_paged_numbers_confirmations_are_never_withheld(phone):
    # GIVEN the paged number asked for help first (its one refusal-or-help answer of the minute)
    phone.text(PAGED, "HELP")
    # WHEN it acknowledges, then resolves, within the same minute
    phone.text(PAGED, f"ACK {LIVE_CODE}")
    phone.text(PAGED, f"RES {LIVE_CODE}")
    # THEN both are confirmed
    answers = phone.answers_to(PAGED)
    assert answers[1:] == [
        reply_text(ReplyKind.ACKNOWLEDGED, "INC-1", LIVE_CODE),
        reply_text(ReplyKind.RESOLVED, "INC-1", LIVE_CODE),
    ]


# -- through the real incident use case, on the fake store ---------------------------------------------------
def test_an_ack_reply_acknowledges_the_incident_in_the_store_and_a_late_res_is_told_it_is_resolved():
    # GIVEN the incident and its code in the fake store, and the real Incidents use case over it
    phone = Phone()
    changes = Incidents(phone.store.incidents, phone.config, clock=lambda: phone.now)
    phone.replies = SmsReplies(
        incidents=phone.store.incidents,
        codes=phone.store.codes,
        changes=changes,
        config=phone.config,
        pager=phone.pager,
        clock=lambda: phone.now,
    )

    # WHEN the paged number acknowledges, then resolves, then resolves again
    assert phone.text(PAGED, f"ACK {LIVE_CODE}")["outcome"] == "acknowledged"
    acknowledged = phone.store.incidents.get("INC-1")
    assert phone.text(PAGED, f"RES {LIVE_CODE}")["outcome"] == "resolved"
    late = phone.text(PAGED, f"RES {LIVE_CODE}")

    # THEN the store went acknowledged (by alice, by SMS) then resolved, each with its lifecycle event, and the
    # late reply is answered "already resolved"
    assert acknowledged is not None and acknowledged.status is IncidentStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged_by == "alice"
    assert phone.store.incidents.incidents["INC-1"].status is IncidentStatus.RESOLVED
    kinds = [str(event.detail_type) for event in phone.store.incidents.outbox]
    assert kinds == ["Incident Acknowledged", "Incident Resolved"]
    assert late == {"outcome": "already resolved", "incident_id": "INC-1"}
    assert phone.answers_to(PAGED)[-1] == reply_text(ReplyKind.ALREADY_RESOLVED, "INC-1", LIVE_CODE)
