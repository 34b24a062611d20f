"""The signed acknowledgement link endpoint on fakes of its ports (no AWS): opening a link changes nothing, the
click acts once, and every refusal is a page with the security headers.

GIVEN an open incident and a link signed for it, WHEN the link is opened (GET or HEAD), THEN a confirmation is shown
and nothing is spent; WHEN its form is posted, THEN the incident is acknowledged and the nonce is spent, so that
posting it again is refused; WHEN the action fails, THEN the nonce is given back; WHEN the method, form or link is
wrong, THEN a refusal page says why and nothing changes.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from siren.app.ack_link_signer import LinkSigner
from siren.app.ack_links import MAX_FORM_BYTES, AckLinkEndpoint
from siren.domain.ack import AckAction
from siren.domain.incidents import Incident, IncidentError, IncidentStatus
from siren.render.ack_pages import SECURITY_HEADERS

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SECRET = b"a secret of at least sixteen bytes"
INCIDENT = Incident(
    id="INC-1",
    status=IncidentStatus.OPEN,
    severity="SEV2",
    title="Disk full",
    service="payments",
    dedup_key="generic:disk-full",
    source="generic",
    opened_at=NOW,
    last_seen_at=NOW,
)


class FakeRepository:
    def __init__(self, *incidents: Incident) -> None:
        self.incidents = {incident.id: incident for incident in incidents}

    def get(self, incident_id: str, consistent: bool = True) -> Incident | None:
        return self.incidents.get(incident_id)


class FakeCodes:
    def __init__(self) -> None:
        self.spent: set[str] = set()
        self.released: list[str] = []

    def use_link_nonce(self, nonce: str, incident_id: str, expires_at: datetime, now: datetime) -> bool:
        if nonce in self.spent:
            return False
        self.spent.add(nonce)
        return True

    def release_link_nonce(self, nonce: str) -> None:
        self.spent.discard(nonce)
        self.released.append(nonce)


class FakeIncidents:
    """Acknowledges and resolves in the fake repository, or raises ``failure`` once."""

    def __init__(self, repository: FakeRepository) -> None:
        self.repository = repository
        self.failure: Exception | None = None
        self.done: list[tuple[str, str, str]] = []

    def acknowledge(self, incident_id: str, actor: str, via: str) -> Incident:
        return self._change(incident_id, actor, IncidentStatus.ACKNOWLEDGED)

    def resolve(self, incident_id: str, actor: str, note: str | None = None) -> Incident:
        return self._change(incident_id, actor, IncidentStatus.RESOLVED)

    def _change(self, incident_id: str, actor: str, status: IncidentStatus) -> Incident:
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure
        changed = dataclasses.replace(self.repository.incidents[incident_id], status=status)
        self.repository.incidents[incident_id] = changed
        self.done.append((incident_id, actor, str(status)))
        return changed


class Links:
    def __init__(self, *incidents: Incident, now: datetime = NOW) -> None:
        self.repository = FakeRepository(*incidents)
        self.codes = FakeCodes()
        self.incidents = FakeIncidents(self.repository)
        self.endpoint = AckLinkEndpoint(
            self.repository,
            self.codes,
            self.incidents,  # type: ignore[arg-type]
            lambda: SECRET,
            clock=lambda: now,
        )

    def request(self, method: str, query: str = "", body: str = "", **extra: Any) -> tuple[int, dict[str, str], str]:
        response = self.endpoint.handle(
            {"rawPath": "/", "rawQueryString": query, "requestContext": {"http": {"method": method}}, "body": body}
            | extra
        ).to_lambda()
        return response["statusCode"], response["headers"], response["body"]


def link(action: AckAction = AckAction.ACK, incident_id: str = "INC-1") -> str:
    """The query string of a link signed for alice."""
    return urlsplit(LinkSigner("https://ack.example/", lambda: SECRET).link(incident_id, action, "alice", NOW)).query


def form_of(page: str) -> str:
    fields = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    return urlencode({unescape(name): unescape(value) for name, value in fields})


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_opening_a_link_shows_a_confirmation_and_changes_nothing(method):
    links = Links(INCIDENT)
    status, headers, page = links.request(method, link())
    assert status == 200 and "Acknowledge as alice" in page
    assert headers == dict(SECURITY_HEADERS)
    assert links.codes.spent == set() and links.incidents.done == []


def test_posting_the_form_acknowledges_once_and_spends_the_link():
    links = Links(INCIDENT)
    _, _, page = links.request("GET", link())

    status, headers, done = links.request("POST", body=form_of(page))
    assert status == 200 and "INC-1 is acknowledged by alice" in done
    assert headers == dict(SECURITY_HEADERS)
    assert links.incidents.done == [("INC-1", "alice", "acknowledged")] and len(links.codes.spent) == 1

    status, _, again = links.request("POST", body=form_of(page))
    assert status == 409 and "used already" in again
    assert len(links.incidents.done) == 1


def test_a_failed_action_gives_the_link_back_so_that_it_can_be_used_again():
    links = Links(INCIDENT)
    form = form_of(links.request("GET", link())[2])
    links.incidents.failure = RuntimeError("the store is down")

    status, _, page = links.request("POST", body=form)
    assert status == 503 and "try again" in page
    assert links.codes.released and links.codes.spent == set()

    assert links.request("POST", body=form)[0] == 200


def test_an_action_the_incident_does_not_allow_is_a_409_and_the_link_stays_spent():
    links = Links(INCIDENT)
    form = form_of(links.request("GET", link(AckAction.RESOLVE))[2])
    links.incidents.failure = IncidentError("INC-1 is already resolved")

    status, _, page = links.request("POST", body=form)
    assert status == 409 and "already resolved" in page
    assert links.codes.released == [] and len(links.codes.spent) == 1


@pytest.mark.parametrize("method", ["PUT", "DELETE", ""])
def test_another_method_is_a_405_that_allows_get_and_post(method):
    links = Links(INCIDENT)
    status, headers, page = links.request(method, link())
    assert status == 405 and "Not allowed" in page
    assert headers == {**SECURITY_HEADERS, "allow": "GET, POST"}
    assert links.codes.spent == set()


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ("i=" + "x" * MAX_FORM_BYTES, {}),  # larger than any form of ours
        ("not base64!", {"isBase64Encoded": True}),
        ("no-equals-sign", {}),
    ],
)
def test_a_form_that_cannot_be_read_is_a_400(body, extra):
    links = Links(INCIDENT)
    status, headers, page = links.request("POST", body=body, **extra)
    assert status == 400 and "The form could not be read." in page
    assert headers == dict(SECURITY_HEADERS)


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        (link().replace("u=alice", "u=mallory"), 403, "not valid"),
        ("i=INC-1", 400, "incomplete"),
        ("", 400, "incomplete"),
    ],
)
def test_a_link_that_is_not_whole_and_signed_is_refused_and_nothing_is_read(query, status, words):
    links = Links(INCIDENT)
    got, _, page = links.request("GET", query)
    assert got == status and words in page
    assert links.request("POST", body=query)[0] == status
    assert links.codes.spent == set() and links.incidents.done == []


def test_an_expired_link_is_a_410():
    links = Links(INCIDENT, now=NOW + timedelta(days=2))
    status, _, page = links.request("GET", link())
    assert status == 410 and "expired" in page


def test_a_link_to_an_incident_that_is_gone_is_a_404():
    links = Links()
    status, _, page = links.request("GET", link())
    assert status == 404 and "no longer exists" in page


def test_opening_a_link_to_an_incident_already_acknowledged_says_so_without_a_form():
    links = Links(dataclasses.replace(INCIDENT, status=IncidentStatus.ACKNOWLEDGED))
    status, _, page = links.request("GET", link())
    assert status == 200 and "already acknowledged" in page and "<form" not in page
