"""What `siren dlq list` calls a dead letter: a queued webhook chunk is named by its alerts and its stored body."""

from __future__ import annotations

from siren.app.dead_letters import event_kind_of


def test_a_webhook_chunk_is_named_by_its_alerts_and_body():
    chunk = {
        "kind": "webhook_chunk",
        "start": 50,
        "stop": 100,
        "key": "webhook/2026/11/30/abc.json",
        "function": "arn:aws:lambda:us-east-1:123456789012:function:Siren-WebhookChunks",
    }
    assert event_kind_of(chunk) == "webhook chunk (alerts 50..100 of webhook/2026/11/30/abc.json)"


def test_other_events_keep_their_names():
    assert event_kind_of({"detail-type": "Incident Opened", "source": "siren.incidents"}) == (
        "Incident Opened (siren.incidents)"
    )
    assert event_kind_of({}) is None
