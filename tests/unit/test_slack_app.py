"""The Slack app's slash command and buttons act through the incident use case, as the mapped Siren user.

GIVEN the shipped siren.yaml (alice is Slack member U07ALICE01), the store's fakes and an incident declared open,
WHEN Slack sends signed commands and block_actions clicks, THEN ack/resolve change the incident as alice ``via``
slack, ``oncall`` and ``status`` answer at once, an unmapped member changes nothing and is told why, and an unsigned
or replayed request is refused before anything is read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from siren.app.function_url import Request
from siren.app.incidents import Incidents
from siren.app.slack_app import SlackApp
from siren.app.slack_requests import SlackRequestVerifier
from siren.config import load_config
from siren.domain.incidents import IncidentStatus, TimelineKind
from siren.domain.oncall import on_call
from tests.fakes import FakeAckCodes, FakeStore

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
SECRET = "signing-secret-for-tests"
ALICE = "U07ALICE01"
STRANGER = "U0NOTMAPPED"


class Workspace:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.incidents = Incidents(self.store.incidents, CONFIG, lambda: NOW)
        self.built = 0
        self.app = SlackApp(
            SlackRequestVerifier(lambda: SECRET, FakeAckCodes(), lambda: NOW), CONFIG, self._incidents, lambda: NOW
        )
        self.incident_id = self.incidents.declare("Checkout down", "SEV1", "checkout", "", "test").incident_id or ""

    def _incidents(self) -> Incidents:
        self.built += 1
        return self.incidents

    def post(self, body: str, *, secret: str = SECRET, method: str = "POST") -> tuple[int, dict[str, Any]]:
        timestamp = str(int(NOW.timestamp()))
        digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
        event = {
            "requestContext": {"http": {"method": method, "sourceIp": "192.0.2.1"}},
            "rawPath": "/",
            "headers": {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"},
            "body": body,
        }
        answer = self.app.answer(Request.of(event))
        return answer.status, dict(answer.body)

    def command(self, text: str, member: str = ALICE) -> tuple[int, dict[str, Any]]:
        return self.post(urlencode({"command": "/siren", "text": text, "user_id": member, "team_id": "T1"}))

    def click(self, action_id: str, member: str = ALICE, value: str | None = None) -> tuple[int, dict[str, Any]]:
        payload = {
            "type": "block_actions",
            "user": {"id": member},
            "actions": [{"action_id": action_id, "value": value or self.incident_id, "type": "button"}],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}))

    def status(self) -> IncidentStatus:
        return self.incidents.get(self.incident_id).incident.status


def test_ack_command_acknowledges_as_the_mapped_user_via_slack() -> None:
    slack = Workspace()
    status, body = slack.command(f"ack {slack.incident_id}")
    assert status == 200 and body["response_type"] == "in_channel"
    assert "acknowledged by Alice Martin" in body["text"]
    incident = slack.incidents.get(slack.incident_id).incident
    assert incident.status is IncidentStatus.ACKNOWLEDGED
    acks = [e for e in slack.incidents.get(slack.incident_id).timeline if e.kind is TimelineKind.ACKNOWLEDGED]
    assert [e.actor for e in acks] == ["alice"] and "slack" in acks[0].detail + json.dumps(acks[0].data)


def test_resolve_command_resolves() -> None:
    slack = Workspace()
    assert slack.command(f"resolve {slack.incident_id}")[0] == 200
    assert slack.status() is IncidentStatus.RESOLVED


def test_acknowledge_button_acknowledges_and_resolve_button_resolves() -> None:
    slack = Workspace()
    assert slack.click("acknowledge")[0] == 200
    assert slack.status() is IncidentStatus.ACKNOWLEDGED
    assert slack.click("resolve")[0] == 200
    assert slack.status() is IncidentStatus.RESOLVED


def test_an_unmapped_member_changes_nothing_and_is_told_why() -> None:
    slack = Workspace()
    for answer in (slack.command(f"ack {slack.incident_id}", STRANGER), slack.click("resolve", STRANGER)):
        status, body = answer
        assert status == 200 and body["response_type"] == "ephemeral"
        assert "Nothing was changed" in body["text"] and f"slack: {STRANGER}" in body["text"]
    assert slack.status() is IncidentStatus.OPEN


def test_an_unknown_incident_is_told_not_raised() -> None:
    slack = Workspace()
    status, body = slack.command("ack no-such-incident")
    assert status == 200 and body["text"].startswith("Nothing was changed")


def test_oncall_names_who_is_on_call_now_by_schedule() -> None:
    slack = Workspace()
    expected = CONFIG.users[on_call(CONFIG.schedules["primary"], NOW) or ""].name
    status, body = slack.command("oncall primary", STRANGER)  # reading is open to the workspace
    assert status == 200 and body["response_type"] == "ephemeral"
    assert f"primary: {expected}" in body["text"]
    every = slack.command("oncall")[1]["text"]
    assert all(f"{name}:" in every for name in CONFIG.schedules)
    assert "No schedule nope" in slack.command("oncall nope")[1]["text"]


def test_status_lists_open_incidents() -> None:
    slack = Workspace()
    _, body = slack.command("status")
    assert slack.incident_id in body["text"] and "Checkout down" in body["text"]


def test_anything_else_gets_the_usage() -> None:
    slack = Workspace()
    for text in ("", "help", "ack", "ack a b"):
        assert slack.command(text)[1]["text"].startswith("Usage:")


def test_an_unsigned_or_replayed_request_is_refused_before_anything_is_read() -> None:
    slack = Workspace()
    slack.built = 0
    assert slack.post(urlencode({"command": "/siren", "text": "status"}), secret="forged")[0] == 401
    body = urlencode({"command": "/siren", "text": f"resolve {slack.incident_id}", "user_id": STRANGER})
    assert slack.post(body)[0] == 200
    assert slack.post(body)[0] == 401  # the same signed request again
    assert slack.built == 0  # neither refused request, nor the unmapped member's, built the use case
    assert slack.post("x=1", method="GET")[0] == 405


def test_the_page_function_answers_slack_through_its_handler() -> None:
    """The deployed entry point (functions/page: slack) hands the function URL event to the app and answers Lambda's
    function URL response: Slack reads the JSON body."""
    from tests.unit.test_handlers_on_fakes import Context, handlers

    slack = Workspace()
    body = urlencode({"command": "/siren", "text": f"ack {slack.incident_id}", "user_id": ALICE})
    timestamp = str(int(NOW.timestamp()))
    digest = hmac.new(SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    event = {
        "requestContext": {"http": {"method": "POST", "sourceIp": "192.0.2.1"}},
        "headers": {"x-slack-request-timestamp": timestamp, "x-slack-signature": f"v0={digest}"},
        "body": body,
    }
    response = handlers("page").slack(event, Context(), dependencies=slack.app)
    assert response["statusCode"] == 200 and response["headers"]["content-type"] == "application/json"
    assert "acknowledged by Alice Martin" in json.loads(response["body"])["text"]
    assert slack.status() is IncidentStatus.ACKNOWLEDGED


def test_the_builder_wants_the_signing_secret_and_reads_it_only_for_a_request(tmp_path: Path, monkeypatch: Any) -> None:
    """siren.bootstrap.slack_app: refused without SLACK_SIGNING_SECRET_ARN; with it, wired without a call to AWS
    (the secret is read when a request needs it, the incident use case built on the first change)."""
    import pytest

    from siren import bootstrap
    from siren.adapters import secrets
    from siren.settings import SettingsError, function_environment

    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG.to_json()))
    variables = {"TABLE_NAME": "incidents", "EVENT_BUS_NAME": "bus", "SIREN_CONFIG_PATH": str(config)}
    reads: list[str] = []
    monkeypatch.setattr(secrets, "secret_string", lambda arn: reads.append(arn) or SECRET)
    bootstrap.forget_built()
    try:
        with function_environment(variables), pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET_ARN"):
            bootstrap.slack_app()
        arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack"
        with function_environment({**variables, "SLACK_SIGNING_SECRET_ARN": arn}):
            app = bootstrap.slack_app()
            assert bootstrap.slack_app() is app and reads == []
            assert app.verifier.signing_secret() == SECRET and reads == [arn]
    finally:
        bootstrap.forget_built()
