"""The Slack app's escalate, declare and update: as the mapped Siren user, through the signed request path.

GIVEN the shipped siren.yaml (alice is Slack member U07ALICE01), the store's fakes, a SEV2 incident whose escalation
holds its wait at level 1 (Escalation's tasks on fakes), and the app with the escalation shortcut over the fakes,
WHEN Slack sends signed ``/siren escalate``, ``declare`` and ``update`` commands and Escalate clicks,
THEN escalate ends the held wait towards the next level once (a double click is told who asked), an acknowledged
incident changes nothing and says why, declare opens an incident with the given severity and service (quoted and
curly-quoted titles), update posts a public update keeping the public status, and an unmapped member changes nothing.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from siren.app.escalation import Escalation, PagingSettings
from siren.app.escalation_events import EscalationShortcut
from siren.app.function_url import Request
from siren.app.incidents import Incidents
from siren.app.slack_app import SlackApp
from siren.app.slack_requests import SlackRequestVerifier
from siren.domain.incidents import IncidentStatus, TimelineKind
from siren_cli.slack_signing import click_form, slack_headers
from tests.fakes import FakeAckCodes, FakeEscalationRuns, FakePager, FakeStore
from tests.unit.test_slack_app import ALICE, CONFIG, NOW, SECRET, STRANGER


class Workspace:
    """The app over fakes, with a SEV2 incident whose level-1 wait is held (token-1)."""

    def __init__(self) -> None:
        self.store = FakeStore()
        self.runs = FakeEscalationRuns()
        self.clicks = 0
        self.incidents = Incidents(
            self.store.incidents,
            CONFIG,
            lambda: NOW,
            escalation=EscalationShortcut(self.store.escalations, self.runs),
        )
        verifier = SlackRequestVerifier(lambda: SECRET, FakeAckCodes(), lambda: NOW)
        self.app = SlackApp(verifier, CONFIG, lambda: self.incidents, lambda: NOW)
        self.incident_id = self.incidents.declare("Search is slow", "SEV2", "search", "", "carol").incident_id or ""
        escalation = Escalation(
            incidents=self.store.incidents,
            escalations=self.store.escalations,
            codes=self.store.codes,
            pager=FakePager(),
            waits=self.runs,
            config=CONFIG,
            settings=PagingSettings(email_sender="siren@example.com"),
            clock=lambda: NOW,
        )
        first = escalation.step({"incident_id": self.incident_id, "attempt": 1})
        assert escalation.hold("token-1", first["cursor"], "run-1") == {"held": True}

    def post(self, form: dict[str, str]) -> dict[str, Any]:
        body = urlencode(form).encode()
        event = {
            "requestContext": {"http": {"method": "POST", "sourceIp": "192.0.2.1"}},
            "rawPath": "/",
            "headers": slack_headers(SECRET, body, int(NOW.timestamp())),
            "body": body.decode(),
        }
        answer = self.app.answer(Request.of(event))
        assert answer.status == 200, answer.body
        return dict(answer.body)

    def command(self, text: str, member: str = ALICE) -> dict[str, Any]:
        return self.post({"command": "/siren", "text": text, "user_id": member, "team_id": "T1"})

    def click(self, action_id: str, member: str = ALICE) -> dict[str, Any]:
        self.clicks += 1  # each click is pressed at its own instant: its body differs from the last one's
        pressed = NOW.timestamp() + self.clicks / 10
        return self.post(click_form(action_id, self.incident_id, member, action_ts=pressed))

    def requests(self) -> list[Any]:
        timeline = self.incidents.get(self.incident_id).timeline
        return [entry for entry in timeline if entry.kind is TimelineKind.ESCALATION_REQUESTED]


@pytest.fixture
def slack() -> Workspace:
    return Workspace()


def test_the_escalate_button_ends_the_held_wait_as_alice_via_slack_and_a_double_click_escalates_once(slack):
    answer = slack.click("escalate")
    assert answer["response_type"] == "in_channel"
    assert f"{slack.incident_id} escalated by Alice Martin" in answer["text"] and "level 1" in answer["text"]
    (request,) = slack.requests()
    assert request.actor == "alice" and request.data["via"] == "slack"
    assert slack.runs.waits_escalated == ["token-1"]

    again = slack.click("escalate")  # the second click of a double click
    assert again["response_type"] == "ephemeral" and "already asked by alice" in again["text"]
    assert len(slack.requests()) == 1 and slack.runs.waits_escalated == ["token-1"]


def test_the_escalate_command_escalates(slack):
    answer = slack.command(f"escalate {slack.incident_id}")
    assert "escalated by Alice Martin" in answer["text"] and slack.runs.waits_escalated == ["token-1"]


def test_escalate_on_an_acknowledged_incident_changes_nothing_and_says_why(slack):
    slack.incidents.acknowledge(slack.incident_id, "dave", "sms")
    answer = slack.click("escalate")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Nothing was changed") and "acknowledged by dave" in answer["text"]
    assert slack.requests() == [] and slack.runs.waits_escalated == []


def test_an_unmapped_member_escalates_declares_and_updates_nothing(slack):
    for answer in (
        slack.click("escalate", STRANGER),
        slack.command(f"escalate {slack.incident_id}", STRANGER),
        slack.command('declare "Checkout down" --sev 1 --service checkout', STRANGER),
        slack.command(f"update {slack.incident_id} We are looking into it", STRANGER),
    ):
        assert answer["response_type"] == "ephemeral" and f"slack: {STRANGER}" in answer["text"]
    assert slack.requests() == [] and slack.runs.waits_escalated == []
    assert [i.id for i in slack.incidents.list()] == [slack.incident_id]
    assert slack.incidents.get(slack.incident_id).incident.public_updates == ()


@pytest.mark.parametrize(
    "text",
    [
        'declare "Checkout is down" --sev 1 --service checkout',
        "declare \u201cCheckout is down\u201d --sev SEV1 --service=checkout",  # what a Mac's Slack client types
        "declare Checkout is down --service checkout --sev 1",
    ],
)
def test_declare_opens_an_incident_as_alice_with_its_severity_and_service(slack, text):
    answer = slack.command(text)
    assert answer["response_type"] == "in_channel" and "declared by Alice Martin" in answer["text"]
    (declared,) = [i for i in slack.incidents.list() if i.id != slack.incident_id]
    assert (declared.title, declared.severity, declared.service) == ("Checkout is down", "SEV1", "checkout")
    assert declared.status is IncidentStatus.OPEN and declared.id in answer["text"]
    opened = slack.incidents.get(declared.id).timeline[0]
    assert "alice" in opened.detail + json.dumps(opened.data)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("declare --sev 1 --service checkout", "needs a title"),
        ('declare "Checkout down" --service checkout', "Give both --sev and --service"),
        ('declare "Checkout down" --sev 1 --service', "--service needs a value"),
        ('declare "Checkout down" --sev 1 --service checkout --team x', "Unknown option --team"),
        ('declare "Checkout down --sev 1 --service checkout', "A quote is not closed"),
        ('declare "Checkout down" --sev 9 --service checkout', "severity must be one of"),
    ],
)
def test_a_bad_declaration_declares_nothing_and_says_why(slack, text, says):
    answer = slack.command(text)
    assert answer["response_type"] == "ephemeral" and says in answer["text"]
    assert [i.id for i in slack.incidents.list()] == [slack.incident_id]


def test_update_posts_a_public_update_keeping_the_public_status(slack):
    answer = slack.command(f"update {slack.incident_id} We found the cause: a bad deploy. Rolling back.")
    assert answer["response_type"] == "in_channel" and "(investigating)" in answer["text"]
    slack.incidents.post_update(slack.incident_id, "Fixed, watching", "monitoring", "dave")

    slack.command(f'update {slack.incident_id} Error rates are back to normal, "still" watching')

    updates = slack.incidents.get(slack.incident_id).incident.public_updates
    assert [(u.status, u.author) for u in updates] == [
        ("investigating", "alice"),
        ("monitoring", "dave"),
        ("monitoring", "alice"),
    ]
    assert updates[0].body == "We found the cause: a bad deploy. Rolling back."
    assert updates[2].body == 'Error rates are back to normal, "still" watching'  # the text as typed


def test_update_without_text_or_of_an_unknown_incident_posts_nothing(slack):
    assert slack.command(f"update {slack.incident_id}")["text"].startswith("Usage: `/siren update ID")
    assert slack.command("update INC-nope some text")["text"].startswith("Nothing was posted")
    assert slack.incidents.get(slack.incident_id).incident.public_updates == ()


def test_the_usage_names_the_new_commands(slack):
    usage = slack.command("help")["text"]
    assert all(word in usage for word in ("/siren escalate ID", "/siren declare", "/siren update ID"))
