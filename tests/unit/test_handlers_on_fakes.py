"""The Lambda handlers take their use case as ``dependencies`` (through the Powertools decorators), so a test runs
the deployed entry point on fakes: the event in, the answer out, the fakes holding what happened.

GIVEN a handler and its use case wired with tests/fakes.py
WHEN the handler is called as Lambda calls it (event, context), plus the dependencies
THEN it answers as deployed, and nothing reached AWS.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from siren import bootstrap
from siren.app.escalation import Escalation, PagingSettings
from siren.app.escalation_events import EscalationEvents
from siren.app.incidents import Incidents
from siren.app.reports import Reports
from siren.app.sms_replies import SmsReplies
from siren.app.status_page import StatusPage
from siren.config import load_config
from siren.domain.escalation import PageTask
from siren.domain.incidents import Incident, IncidentStatus
from siren.ports import BusEvent
from tests.fakes import (
    FakeAlertPoster,
    FakeEscalationRuns,
    FakeEventBus,
    FakeMailer,
    FakePager,
    FakeStatusSite,
    FakeStore,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "siren.yaml")
NOW = datetime.now(UTC).replace(microsecond=0)


def handlers(name: str) -> ModuleType:
    """functions/<name>/<name>_handlers.py, as the Lambda runtime loads it (its directory is the code root)."""
    module = f"{name}_handlers"
    if module not in sys.modules:
        spec = importlib.util.spec_from_file_location(module, ROOT / "functions" / name / f"{module}.py")
        assert spec is not None and spec.loader is not None
        sys.modules[module] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[module])
    return sys.modules[module]


@dataclass
class Context:
    """What Lambda passes as the context (the fields Powertools' logger reads)."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "request-1"


def open_incident(severity: str = "SEV2") -> Incident:
    return Incident(
        id="INC-20261130-0300-00beef",
        status=IncidentStatus.OPEN,
        severity=severity,
        title="checkout errors",
        service="checkout",
        dedup_key="checkout",
        source="test",
        opened_at=NOW - timedelta(minutes=5),
        last_seen_at=NOW - timedelta(minutes=5),
    )


def escalation(store: FakeStore, pager: FakePager, runs: FakeEscalationRuns) -> Escalation:
    return Escalation(
        incidents=store.incidents,
        escalations=store.escalations,
        codes=store.codes,
        pager=pager,
        waits=runs,
        config=CONFIG,
        settings=PagingSettings(email_sender="siren@example.com"),
        clock=lambda: NOW,
    )


def test_send_page_pages_through_the_fake_pager():
    store, pager, runs = FakeStore(), FakePager(), FakeEscalationRuns()
    incident = store.incidents.put(open_incident())
    task = PageTask(incident.id, "alice", ("sms",), "a1.r0.l0.s0").to_json()

    answer = handlers("page").send_page(
        {"page": task, "run": "run-1"}, Context(), dependencies=escalation(store, pager, runs)
    )

    assert answer == {"user": "alice", "sent": ["sms"]}
    assert [to for _, to, _ in pager.sent] == [CONFIG.users["alice"].phone]


def test_hold_for_ack_of_an_acknowledged_incident_ends_the_wait():
    store, pager, runs = FakeStore(), FakePager(), FakeEscalationRuns()
    store.incidents.put(replace(open_incident(), status=IncidentStatus.ACKNOWLEDGED))
    event = {"token": "t-1", "cursor": {"incident_id": open_incident().id, "attempt": 1}, "execution": "run-1"}

    assert handlers("page").hold_for_ack(event, Context(), dependencies=escalation(store, pager, runs)) == {
        "held": True
    }
    assert runs.waits_ended == ["t-1"]


def test_lifecycle_starts_the_escalation_of_an_opened_incident():
    store, runs = FakeStore(), FakeEscalationRuns()
    incident = store.incidents.put(open_incident())
    events = EscalationEvents(incidents=store.incidents, escalations=store.escalations, codes=store.codes, runs=runs)
    event = {"detail-type": "Incident Opened", "source": "siren.incidents", "detail": incident.event_detail()}

    answer = handlers("page").lifecycle(event, Context(), dependencies=events)

    assert answer == {"incident_id": incident.id, "started": True} and len(runs.started) == 1


def test_inbound_sms_answers_each_record():
    store, pager = FakeStore(), FakePager()
    replies = SmsReplies(
        incidents=store.incidents,
        codes=store.codes,
        changes=Incidents(store.incidents, CONFIG),
        config=CONFIG,
        pager=pager,
    )
    message = json.dumps({"originationNumber": "+14255559999", "messageBody": "HELP"})

    answer = handlers("page").inbound_sms({"Records": [{"Sns": {"Message": message}}]}, Context(), dependencies=replies)

    assert answer == {"results": [{"outcome": "help"}]} and [to for _, to, _ in pager.sent] == ["+14255559999"]


def test_the_relay_puts_the_streams_lifecycle_events_on_the_bus():
    bus = FakeEventBus()
    image = {
        "pk": {"S": "EVENT#e-1"},
        "kind": {"S": "event"},
        "source": {"S": "siren.incidents"},
        "detail_type": {"S": "Incident Opened"},
        "detail": {"S": json.dumps({"incident_id": "INC-1"})},
    }
    stream = {"Records": [{"eventName": "INSERT", "dynamodb": {"NewImage": image}}]}

    answer = handlers("ingest").publish_lifecycle_events(stream, Context(), dependencies=bus)

    assert answer == {"published": 1}
    assert bus.published == [
        BusEvent("siren.incidents", "Incident Opened", {"incident_id": "INC-1", "event_id": "e-1"})
    ]


def test_the_canary_posts_its_alert_through_the_given_poster(monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example.com/webhook")
    monkeypatch.setenv("WEBHOOK_TOKEN_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:token")
    monkeypatch.setattr("siren.adapters.secrets.secret_string", lambda arn: "the-token")
    poster = FakeAlertPoster()

    answer = handlers("ingest").send_canary({}, Context(), dependencies=poster)

    ((url, token, body),) = poster.posted
    assert answer == poster.answer and url == "https://hooks.example.com/webhook" and token == "the-token"
    assert body["title"] == "Siren canary" and body["severity"] == "SEV1"


def test_the_status_function_publishes_to_the_given_site():
    store, site = FakeStore(), FakeStatusSite()
    store.incidents.put(open_incident("SEV1"))
    status_page = StatusPage(store.incidents, store.status_page, CONFIG, "https://status.example.com")

    answer = handlers("status").publish({}, Context(), dependencies=bootstrap.StatusPublishing(status_page, site))

    assert answer["published"] is True and answer["written"] == len(site.objects) > 0


@pytest.mark.parametrize("period", ["weekly", "monthly"])
def test_the_report_function_mails_the_report_through_the_given_mailer(period):
    store, mailer = FakeStore(), FakeMailer()
    reports = Reports(store.incidents, store.action_items, CONFIG)
    job = bootstrap.ScheduledReports(reports, mailer, "siren@example.com", CONFIG.reports.time_zone)

    answer = handlers("report").scheduled_report({"period": period}, Context(), dependencies=job)

    (mail,) = mailer.sent
    assert answer == {"sent": True, "subject": mail["subject"], "message_id": "message-1"}
    assert mail["recipients"] == list(CONFIG.reports.recipients) and period in mail["subject"].lower()


def test_a_report_period_it_does_not_know_is_refused_and_nothing_is_mailed():
    store, mailer = FakeStore(), FakeMailer()
    job = bootstrap.ScheduledReports(
        Reports(store.incidents, store.action_items, CONFIG), mailer, "siren@example.com", "UTC"
    )
    with pytest.raises(ValueError, match="weekly"):
        handlers("report").scheduled_report({"period": "daily"}, Context(), dependencies=job)
    assert mailer.sent == []


def test_without_dependencies_the_handler_builds_them_from_the_environment(monkeypatch):
    # The deployed path: no dependencies given, so bootstrap wires the real adapters (here: refused for want of
    # the function's settings, before anything reaches AWS).
    from siren.settings import SettingsError

    monkeypatch.delenv("TABLE_NAME", raising=False)
    with pytest.raises(SettingsError):
        handlers("page").send_page({"page": {}, "run": "r"}, Context())
