"""Signed acknowledgement links on the embedded local AWS over HTTP: the deployed AckLink function URL.

GIVEN a SEV1 alarm whose page emails carry Acknowledge and Resolve links,
WHEN the link is opened (GET), THEN nothing changes and a confirmation form is shown (mail scanners open links);
WHEN the form is posted, THEN the incident is acknowledged by the person the link was sent to and the escalation
stops; the same link posted again is refused (single use); a tampered link is refused; the resolve link resolves.
"""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from siren_local.alarms import fire_alarm
from tests.e2e.test_escalation import incident_of, wait_for

pytestmark = pytest.mark.e2e
_LINK = re.compile(r"https?://[^\s\"'<>]+")


def http(url: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if form is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()


def links_in(message: dict[str, Any]) -> dict[str, str]:
    """{"ack": url, "resolve": url} from a page email."""
    found = [html.unescape(url) for url in _LINK.findall(message["body"])]
    by_action = {}
    for url in found:
        action = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("a", [""])[0]
        if action:
            by_action[action] = url
    return by_action


def hidden_fields(page: str) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    }


def test_signed_link_confirms_then_acknowledges_once_and_stops_the_escalation(local_http_fast):
    fire_alarm(local_http_fast.client, "payments-card-declines", "ALARM", "declines 30% > 5%", None)  # SEV1
    # Page emails (SES, the incident's subject), not the operations topic's (Siren's own alarms) nor a scheduled
    # report (at time scale 600 the weekly report's Monday 08:00 comes round within seconds of a Monday morning).
    emails = wait_for(
        lambda: [
            m
            for m in local_http_fast.outbox_json()
            if m["channel"] == "email" and m["via"] == "ses" and (m.get("subject") or "").startswith("[SEV1]")
        ]
    )
    # SEV1 is posted to the team's chat channel once, when the escalation starts (siren.yaml paging).
    chat = wait_for(lambda: [m for m in local_http_fast.outbox_json() if m["channel"] == "chat"])
    assert len(chat) == 1 and chat[0]["body"].startswith("[SEV1] payments:")
    links = links_in(emails[0])
    assert set(links) == {"ack", "resolve"}
    assert links["ack"].startswith(local_http_fast.stacks["Siren"].outputs["AckLinkUrl"])
    user = urllib.parse.parse_qs(urllib.parse.urlsplit(links["ack"]).query)["u"][0]

    # Opening the link changes nothing: it asks for a click.
    status, headers, page = http(links["ack"])
    assert status == 200
    assert "default-src 'none'" in headers["content-security-policy"] and headers["cache-control"] == "no-store"
    assert f"Acknowledge as {user}" in page
    assert incident_of(local_http_fast)["status"] == "open"

    form = hidden_fields(page)
    tampered = {**form, "u": "mallory"}
    status, _, page = http(links["ack"].split("?")[0], tampered)
    assert status == 403 and "not valid" in page
    assert incident_of(local_http_fast)["status"] == "open"

    status, _, page = http(links["ack"].split("?")[0], form)
    assert status == 200 and "acknowledged by" in page
    incident = incident_of(local_http_fast)
    assert incident["status"] == "acknowledged" and incident["acknowledged_by"] == user

    status, _, page = http(links["ack"].split("?")[0], form)
    assert status == 409 and "used already" in page

    sfn = local_http_fast.client("stepfunctions")
    machine = local_http_fast.stacks["Siren"].outputs["EscalationStateMachineArn"]
    wait_for(lambda: all(e["status"] != "RUNNING" for e in sfn.list_executions(stateMachineArn=machine)["executions"]))

    # The resolve link of the same email is a different link: it still works, once.
    status, _, page = http(links["resolve"])
    assert status == 200 and f"Resolve as {user}" in page
    status, _, page = http(links["resolve"].split("?")[0], hidden_fields(page))
    assert status == 200 and "resolved by" in page
    assert incident_of(local_http_fast)["status"] == "resolved"
