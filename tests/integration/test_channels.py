"""The pager's channels against the embedded local AWS in-process: what was sent lands in its outbox."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from siren.adapters.channels import Delivery, Pager
from siren.domain.messages import IncidentSummary, chat_payload, email, sms_text, voice_ssml

ORIGIN = "+12065550100"
PHONE = "+12065550123"
SENDER = "siren@example.com"
INCIDENT = IncidentSummary("INC-20261126-2341-3f9c1a", "SEV1", "p99 latency above 2s", "checkout", datetime.now(UTC))
CODE = "482193"


def sent(runtime: Any, channel: str) -> list[dict[str, Any]]:
    return [message for message in runtime.outbox_json() if message["channel"] == channel]


def test_sms_goes_through_end_user_messaging(bare_inprocess):
    # GIVEN an origination identity WHEN a text is sent THEN End User Messaging carries it, in one attempt
    text = sms_text(INCIDENT, CODE)
    attempts = Pager(ORIGIN).send_sms(PHONE, text)

    assert [(a.via, a.ok) for a in attempts] == [("end-user-messaging", True)]
    assert attempts[0].message_id
    [message] = sent(bare_inprocess, "sms")
    assert message["via"] == "end-user-messaging"
    assert message["to"] == PHONE
    assert message["body"] == text
    assert message["origin"] == ORIGIN
    assert message["message_id"] == attempts[0].message_id


def test_sms_falls_back_to_sns_when_end_user_messaging_fails(bare_inprocess):
    # GIVEN End User Messaging failing for the number WHEN a text is sent THEN SNS carries it, both attempts told
    bare_inprocess.sms_voice.fail_destinations.add(PHONE)
    attempts = Pager(ORIGIN).send_sms(PHONE, "SEV1 checkout: down")

    assert [(a.via, a.ok) for a in attempts] == [("end-user-messaging", False), ("sns", True)]
    assert "InternalServerException" in (attempts[0].error or "")
    assert attempts[0].message_id is None
    assert [(m["via"], m["to"], m["body"]) for m in sent(bare_inprocess, "sms")] == [
        ("sns", PHONE, "SEV1 checkout: down")
    ]


def test_sms_without_an_origination_identity_goes_through_sns(bare_inprocess):
    attempts = Pager(None).send_sms(PHONE, "hello")

    assert [(a.via, a.ok) for a in attempts] == [("sns", True)]
    assert [m["via"] for m in sent(bare_inprocess, "sms")] == ["sns"]


def test_a_number_that_is_not_e164_is_a_failed_delivery_not_an_exception(bare_inprocess):
    attempts = Pager(ORIGIN).send_sms("555-0123", "hello")

    assert [(a.via, a.ok) for a in attempts] == [("end-user-messaging", False), ("sns", False)]
    assert sent(bare_inprocess, "sms") == []


def test_voice_reads_ssml_through_end_user_messaging(bare_inprocess):
    ssml = voice_ssml(INCIDENT, CODE)
    call = Pager(ORIGIN).send_voice(PHONE, ssml)

    assert (call.channel, call.via, call.ok) == ("voice", "end-user-messaging", True)
    [message] = sent(bare_inprocess, "voice")
    assert message["body"] == ssml
    assert message["body_type"] == "SSML"
    assert message["to"] == PHONE


def test_a_failed_call_is_returned_for_the_caller_to_fall_back(bare_inprocess):
    from siren.adapters.channels import DELIVERY_FAILED_METRIC
    from siren.observability import metrics

    def failures_counted() -> int:
        return len(metrics.metric_set.get(DELIVERY_FAILED_METRIC, {}).get("Value", []))

    metrics.clear_metrics()  # what other tests' sends left (outside a handler nothing flushes them)
    before = failures_counted()
    bare_inprocess.sms_voice.fail_destinations.add(PHONE)
    call = Pager(ORIGIN).send_voice(PHONE, voice_ssml(INCIDENT, CODE))
    assert not call.ok and call.error
    assert not Pager(None).send_voice(PHONE, "<speak>hi</speak>").ok  # no identity, no call
    assert sent(bare_inprocess, "voice") == []
    assert failures_counted() - before == 2  # one datapoint per failed send, for the PageDeliveryFailures alarm
    assert Pager(ORIGIN).send_sms("+14255550123", "hi")[0].ok
    assert failures_counted() - before == 2  # a delivered page counts nothing


def test_email_goes_through_ses_v2(bare_inprocess):
    # GIVEN a verified sender WHEN a page is emailed THEN SES carries the HTML body and the subject
    bare_inprocess.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    message = email(INCIDENT, CODE, "https://siren.example.com/ack?i=1")
    delivery = Pager(ORIGIN).send_email("alice@example.com", message, SENDER)

    assert (delivery.channel, delivery.via, delivery.ok) == ("email", "ses", True)
    [recorded] = sent(bare_inprocess, "email")
    assert recorded["to"] == "alice@example.com"
    assert recorded["subject"] == message.subject
    assert recorded["sender"] == SENDER
    assert "Acknowledge" in recorded["body"]


def test_email_from_an_unverified_sender_fails_with_the_reason(bare_inprocess):
    message = email(INCIDENT, CODE)
    delivery = Pager(ORIGIN).send_email("alice@example.com", message, "nobody@example.com")

    assert not delivery.ok
    assert "not verified" in (delivery.error or "")
    assert sent(bare_inprocess, "email") == []


# -- chat -----------------------------------------------------------------------------------------------
class _Webhook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, body))
        status = {"/broken": 500, "/gone": 404, "/moved": 302}.get(self.path, 200)
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    received: list[tuple[str, dict[str, Any]]] = []
    handler = type("Handler", (_Webhook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_chat_posts_the_payload_to_the_webhook(webhook):
    base, received = webhook
    payload = chat_payload(INCIDENT, CODE, "https://siren.example.com/ack?i=1")
    delivery = Pager().send_chat(f"{base}/services/T000/B000/SECRET", payload)

    assert delivery == Delivery("chat", base, "webhook", ok=True)
    assert "SECRET" not in delivery.to  # the webhook's path is its secret: kept off the timeline
    assert received == [("/services/T000/B000/SECRET", payload)]


@pytest.mark.parametrize(("path", "error"), [("/broken", "500"), ("/gone", "404"), ("/moved", "302")])
def test_a_webhook_that_does_not_answer_2xx_is_a_failure(webhook, path, error):
    base, received = webhook
    delivery = Pager().send_chat(base + path, {"text": "hi"})

    assert not delivery.ok
    assert error in (delivery.error or "")
    assert [p for p, _ in received] == [path]  # a redirect is not followed


def test_an_unreachable_webhook_is_a_failure():
    with ThreadingHTTPServer(("127.0.0.1", 0), _Webhook) as closed:
        port = closed.server_address[1]
    delivery = Pager(chat_timeout=1).send_chat(f"http://127.0.0.1:{port}/x", {"text": "hi"})
    assert not delivery.ok and delivery.error


def test_a_webhook_url_that_is_not_http_is_refused():
    delivery = Pager().send_chat("file:///etc/passwd", {"text": "hi"})
    assert not delivery.ok
