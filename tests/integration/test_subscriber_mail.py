"""Subscriber mail through SES v2 on the embedded local AWS in-process: one message per subscriber, with the list
headers a mail client shows its unsubscribe button from, and a refusal the use case can step over."""

from __future__ import annotations

from typing import Any

import pytest

from siren.adapters.subscriber_mail import SesSubscriberMailer
from siren.domain.subscriptions import ONE_CLICK, SubscriberMail
from siren.ports import MailRefused

SENDER = "status@example.com"
UNSUBSCRIBE = "https://subscribe.example.com/?a=unsubscribe&m=ada%40example.com&t=tok&s=sig"
MAIL = SubscriberMail(
    to="ada@example.com",
    subject="[Example] Incident: Checkout is slow",
    text="Incident: Checkout is slow\n\nWe are looking into it.\n",
    html="<h1>Incident: Checkout is slow</h1><p>We are looking into it.</p>",
    headers=(("List-Unsubscribe", f"<{UNSUBSCRIBE}>"), ("List-Unsubscribe-Post", ONE_CLICK)),
)


def emails(runtime: Any) -> list[dict[str, Any]]:
    return [message for message in runtime.outbox_json() if message["channel"] == "email"]


def test_a_subscriber_mail_carries_the_list_headers(bare_inprocess):
    # GIVEN a verified sender WHEN a subscriber mail is sent THEN SES carries it to that one address, with the
    # List-Unsubscribe and List-Unsubscribe-Post headers and both parts
    bare_inprocess.client("sesv2").create_email_identity(EmailIdentity=SENDER)

    message_id = SesSubscriberMailer(SENDER).send(MAIL)

    [recorded] = emails(bare_inprocess)
    assert message_id and recorded["message_id"] == message_id
    assert (recorded["to"], recorded["sender"], recorded["subject"]) == (MAIL.to, SENDER, MAIL.subject)
    assert recorded["headers"] == [
        {"Name": "List-Unsubscribe", "Value": f"<{UNSUBSCRIBE}>"},
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
    ]
    assert recorded["body"] == MAIL.html
    assert recorded["text"] == MAIL.text


def test_a_refused_mail_is_mail_refused(bare_inprocess):
    # GIVEN a sender SES does not know WHEN a subscriber mail is sent THEN MailRefused, and nothing is recorded
    with pytest.raises(MailRefused, match="MessageRejected"):
        SesSubscriberMailer("nobody@unverified.example").send(MAIL)

    assert emails(bare_inprocess) == []


def test_a_page_email_without_headers_is_recorded_as_before(bare_inprocess):
    # The outbox's SES v2 recording adds the headers only when a mail has some (a page email has none).
    bare_inprocess.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    bare_inprocess.client("sesv2").send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["bob@example.com"]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Html": {"Data": "<p>h</p>"}}}},
    )

    [recorded] = emails(bare_inprocess)
    assert "headers" not in recorded and "text" not in recorded
    assert recorded["body"] == "<p>h</p>"
