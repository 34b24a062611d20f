"""Status page subscriptions on the embedded local AWS over HTTP: the deployed form's function URL, SES v2 (the
outbox), the notifier on the bus.

GIVEN the shipped siren.yaml, WHEN a customer subscribes through the form, THEN only a confirmation mail comes (with
the list headers); WHEN its link is opened, THEN nothing changes until the button is posted; WHEN confirmed and a
person posts the next public update or schedules maintenance, THEN a mail comes for each, with a one-click
unsubscribe; WHEN the mail client
posts it, THEN no more mail comes; an address that never confirmed gets nothing but its confirmation.

Locally the form's function learns its URL from the request's domainName, which the local runtime gives as AWS
would (``<id>.lambda-url.<region>.on.aws``) but does not serve: the confirmation link is read back onto the local
URL (``siren_local.function_urls.served_locally``) here. The notifier's links are the local URL already
(SUBSCRIPTIONS_URL).
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
from siren_local.function_urls import served_locally
from tests.e2e.test_cli_incidents import siren
from tests.e2e.test_escalation import incident_of, wait_for

pytestmark = pytest.mark.e2e
ALARM = "checkout-5xx-rate"  # SEV2 on checkout: the Website and Checkout API components, public at its opening


def http(url: str, body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if body is not None:
        request.add_header("content-type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def mails_to(runtime: Any, address: str) -> list[dict[str, Any]]:
    return [m for m in runtime.outbox_json() if m["channel"] == "email" and m["to"] == address]


def hidden_fields(page: str) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    }


def header(mail: dict[str, Any], name: str) -> str:
    return next(h["Value"] for h in mail.get("headers") or [] if h["Name"] == name)


def test_subscribe_confirm_update_mail_one_click_unsubscribe(local_http):
    form_url = local_http.stacks["Siren"].outputs["SubscriptionsUrl"]
    subscribe = form_url.rstrip("/") + "/subscribe"
    status, page = http(subscribe, urllib.parse.urlencode({"email": "Ada@Example.com"}).encode())
    assert status == 200 and "Check your inbox" in page
    assert http(subscribe, urllib.parse.urlencode({"email": "bob@example.com"}).encode())[0] == 200  # never confirms

    [confirmation] = wait_for(lambda: mails_to(local_http, "ada@example.com"))
    assert "Confirm" in confirmation["subject"]
    assert header(confirmation, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    link = next(line for line in confirmation["text"].splitlines() if "a=confirm" in line)
    link = served_locally(link)

    # Opening the link (a mail scanner would) confirms nothing; the button does.
    status, page = http(link)
    assert status == 200 and "<button" in page
    status, page = http(link, urllib.parse.urlencode(hidden_fields(page)).encode())
    assert status == 200 and "Subscribed" in page

    fire_alarm(local_http.client, ALARM, "ALARM", "5xx 7.5% > 5%", None)
    [opened] = wait_for(lambda: [m for m in mails_to(local_http, "ada@example.com") if "Incident" in m["subject"]])
    assert ALARM not in opened["subject"] + opened["text"]  # the public face only
    incident_id = str(incident_of(local_http)["pk"]).removeprefix("INC#")

    siren(local_http, "update", incident_id, "--public", "A fix is rolling out.", "--status", "monitoring")
    [update] = wait_for(lambda: [m for m in mails_to(local_http, "ada@example.com") if "Update" in m["subject"]])
    assert "A fix is rolling out." in update["text"]
    one_click = header(update, "List-Unsubscribe").strip("<>")

    siren(
        local_http,
        "maintenance",
        "add",
        "--components",
        "checkout-api",
        "--start",
        "2099-01-01T02:00Z",
        "--end",
        "2099-01-01T03:00Z",
        "--title",
        "Database upgrade",
    )
    [maintenance] = wait_for(
        lambda: [m for m in mails_to(local_http, "ada@example.com") if "maintenance" in m["subject"]]
    )
    assert "Scheduled maintenance: Database upgrade" in maintenance["subject"]
    assert "From 2099-01-01 02:00 to 2099-01-01 03:00 UTC." in maintenance["text"]

    # RFC 8058: the mail client POSTs the body to the header's URL, with no interaction.
    assert http(one_click, b"List-Unsubscribe=One-Click")[0] == 200

    siren(local_http, "update", incident_id, "--public", "Fixed; watching.", "--status", "resolved")
    assert local_http.drain(60), "the notifier ran"
    assert [m["subject"] for m in mails_to(local_http, "ada@example.com")] == [
        confirmation["subject"],
        opened["subject"],
        update["subject"],
        maintenance["subject"],
    ]
    assert len(mails_to(local_http, "bob@example.com")) == 1  # the confirmation, and nothing else
