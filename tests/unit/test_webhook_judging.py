"""Every good alert gets in, whatever its neighbours: webhook requests are judged alert by alert, a sender's fast
clock is corrected rather than refused, and a large request is queued in chunks that are applied once each.

GIVEN a webhook request (the parsers, and the front door with recording fakes for the store, the dead-letter queue,
the body store, the chunk queue and the rate counter), WHEN some of its alerts are wrong, or it is large, or its
sender floods, THEN the valid alerts are applied, each refused one is named and kept, and nothing is silently lost.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siren.app.ingest import IngestResult
from siren.app.intake import CHUNK_ALERTS, Intake, RateLimit, WebhookQueue
from siren.domain.incidents import MAX_CLOCK_SKEW
from siren.domain.parsers import JUDGES_BY_SOURCE, parse_alertmanager
from siren.domain.signals import CLOCK_SKEW_NOTE, ParseError, Refusal, Signal, clamped_to_receipt
from siren.ports import Chunk, ChunkMessageError
from tests.fakes import FakeDeadLetters, FakeRequestRates

EVENTS = Path(__file__).resolve().parents[1] / "events"
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def alertmanager_group(count: int, **changes: Any) -> dict[str, Any]:
    """An Alertmanager notification of ``count`` distinct firing alerts (the sample's alert, relabelled)."""
    body = json.loads((EVENTS / "alertmanager_webhook_v4_firing.json").read_text())
    template = body["alerts"][0]
    body["alerts"] = []
    for n in range(count):
        alert = copy.deepcopy(template)
        alert["labels"]["instance"] = f"https://server-{n}.example.org"
        alert["startsAt"] = "2026-03-01T09:00:00Z"
        del alert["fingerprint"]
        body["alerts"].append(alert)
    body.update(changes)
    return body


# -- the parsers -------------------------------------------------------------------------------------------------
def test_one_wrong_alert_of_a_group_is_refused_on_its_own():
    body = alertmanager_group(3)
    del body["alerts"][1]["labels"]

    judged = JUDGES_BY_SOURCE["alertmanager"](body, NOW, None)

    assert judged.total == 3
    assert [index for index, _ in judged.accepted] == [0, 2]
    assert judged.refused == (Refusal(1, "alerts[1].labels is required"),)
    with pytest.raises(ParseError, match=r"alerts\[1\].labels is required"):
        parse_alertmanager(body, NOW)  # the strict form still takes the whole group or nothing


@pytest.mark.parametrize("source", ["generic", "canary"])
def test_a_generic_batch_is_judged_alert_by_alert_and_has_no_count_limit(source):
    alerts: list[Any] = [{"dedup_key": f"k{n}", "title": "x"} for n in range(150)]
    alerts[7] = {"title": "no key"}
    alerts[99] = "not an object"

    judged = JUDGES_BY_SOURCE[source]({"alerts": alerts}, NOW, None)

    assert (judged.total, len(judged.accepted)) == (150, 148)
    assert [(r.index, r.reason) for r in judged.refused] == [
        (7, "alerts[7].dedup_key is required"),
        (99, "alerts[99] must be an object, not a string"),
    ]
    assert all(signal.canary == (source == "canary") for _, signal in judged.accepted)


def test_a_window_judges_only_its_alerts_and_counts_them_all():
    judged = JUDGES_BY_SOURCE["grafana"](
        {**alertmanager_group(120), "version": "1"}, NOW, range(100, 150)
    )  # past the end: stops at the last alert
    assert judged.total == 120
    assert [index for index, _ in judged.accepted] == list(range(100, 120))


@pytest.mark.parametrize(
    ("source", "body", "message"),
    [
        ("alertmanager", {"version": "4", "alerts": []}, "alerts must not be empty"),
        ("alertmanager", alertmanager_group(1, version="3"), 'version must be "4"'),
        ("grafana", {"evalMatches": [], "ruleId": 1}, "legacy Grafana dashboard alert"),
        ("generic", {"alerts": [{"dedup_key": "k", "title": "t"}], "from": "cron"}, "unknown field 'from'"),
        ("generic", [], "the body must be a JSON object"),
    ],
)
def test_a_body_that_is_not_the_format_at_all_is_still_one_error(source, body, message):
    with pytest.raises(ParseError, match=message):
        JUDGES_BY_SOURCE[source](body, NOW, None)


def test_a_time_ahead_of_the_receive_time_is_clamped_with_a_note_and_a_small_skew_is_left_alone():
    (signal,) = parse_alertmanager(alertmanager_group(1), NOW)
    ahead = clamped_to_receipt(
        Signal(**{**_fields(signal), "occurred_at": NOW + timedelta(minutes=10)}), NOW, MAX_CLOCK_SKEW
    )
    assert ahead.occurred_at == NOW
    assert "600 s ahead" in ahead.details[CLOCK_SKEW_NOTE] and ahead.details["fingerprint"]
    near = Signal(**{**_fields(signal), "occurred_at": NOW + MAX_CLOCK_SKEW})
    assert clamped_to_receipt(near, NOW, MAX_CLOCK_SKEW) is near


def _fields(signal: Signal) -> dict[str, Any]:
    return {name: getattr(signal, name) for name in signal.__slots__}  # type: ignore[attr-defined]


# -- the front door ----------------------------------------------------------------------------------------------
class RecordingIngestor:
    def __init__(self) -> None:
        self.ingested: list[tuple[Signal, Any]] = []

    def ingest(self, signal: Signal, raw: Any) -> IngestResult:
        self.ingested.append((signal, raw))
        return IngestResult("opened", "first signal", f"INC-{len(self.ingested)}", signal.dedup_key)


@dataclass
class FakeBodies:
    objects: dict[str, bytes] = field(default_factory=dict)

    def put(self, key: str, body: bytes) -> None:
        self.objects[key] = body

    def get(self, key: str) -> bytes:
        return self.objects[key]


@dataclass
class FakeChunkQueue:
    sent: list[Chunk] = field(default_factory=list)
    broken: bool = False

    def send(self, chunks: list[Chunk]) -> None:
        if self.broken:
            raise RuntimeError("Lambda throttled the invoke")
        self.sent.extend(chunks)


@dataclass
class Door:
    intake: Intake
    ingestor: RecordingIngestor
    dead_letters: FakeDeadLetters
    bodies: FakeBodies
    chunks: FakeChunkQueue

    def post(self, source: str, body: Any, ip: str = "192.0.2.7") -> tuple[int, dict[str, Any], dict[str, str]]:
        response = self.intake.webhook(
            {
                "rawPath": f"/{source}",
                "requestContext": {"http": {"method": "POST", "sourceIp": ip}},
                "headers": {"authorization": "Bearer secret"},
                "body": body if isinstance(body, str) else json.dumps(body),
            }
        )
        return response["statusCode"], json.loads(response["body"]), response["headers"]


def door(rates: FakeRequestRates | None = None) -> Door:
    ingestor, dead_letters, bodies, chunks = RecordingIngestor(), FakeDeadLetters(), FakeBodies(), FakeChunkQueue()
    intake = Intake(
        ingestor,
        dead_letters,
        webhook_token=lambda: "secret",
        clock=lambda: NOW,  # type: ignore[arg-type]
        queue=WebhookQueue(bodies, chunks),  # type: ignore[arg-type]
        rate_limit=RateLimit(rates, per_minute=5) if rates else None,  # type: ignore[arg-type]
    )
    return Door(intake, ingestor, dead_letters, bodies, chunks)


def test_a_group_with_one_wrong_alert_applies_the_others_and_names_and_keeps_the_wrong_one():
    front = door()
    body = alertmanager_group(3)
    body["alerts"][2]["status"] = "pending"

    status, answer, _ = front.post("alertmanager", body)

    assert status == 202
    assert answer["accepted"] == 2
    assert answer["refused"] == [
        {"index": 2, "reason": 'alerts[2].status must be "firing" or "resolved", not \'pending\''}
    ]
    assert [signal.dedup_key for signal, _ in front.ingestor.ingested] == [
        signal.dedup_key for signal in parse_alertmanager(alertmanager_group(2), NOW)
    ]
    ((payload, source, reason),) = front.dead_letters.kept
    assert (source, payload["index"], payload["alert"]["status"]) == ("alertmanager", 2, "pending")
    assert reason.startswith("alerts[2].status")


def test_a_request_whose_every_alert_is_wrong_is_a_400_that_names_them_and_keeps_them():
    front = door()
    status, answer, _ = front.post("generic", {"alerts": [{"title": "a"}, {"title": "b"}]})
    assert status == 400
    assert answer["error"] == "alerts[0].dedup_key is required"
    assert [r["index"] for r in answer["refused"]] == [0, 1]
    assert len(front.dead_letters.kept) == 2 and front.ingestor.ingested == []


def test_a_future_startsAt_is_not_refused_at_the_door():
    front = door()
    body = alertmanager_group(3)
    body["alerts"][1]["startsAt"] = (NOW + timedelta(minutes=10)).isoformat()
    status, answer, _ = front.post("alertmanager", body)
    assert (status, answer["accepted"], answer["refused"]) == (202, 3, [])


def test_a_large_request_is_kept_and_queued_in_chunks_and_each_alert_is_applied_once():
    front = door()
    count = CHUNK_ALERTS * 3 + 7
    body = alertmanager_group(count)
    body["alerts"][CHUNK_ALERTS + 1]["labels"] = "wrong"
    for alert in body["alerts"]:
        alert["annotations"]["description"] = "x" * 4000  # a long description, as in a real group
    text = json.dumps(body)
    assert len(text) > 256 * 1024  # over the old limit

    status, answer, _ = front.post("alertmanager", text)

    assert status == 202
    assert answer["accepted"] == count - 1
    assert [r["index"] for r in answer["refused"]] == [CHUNK_ALERTS + 1]
    assert answer["queued"]["alerts"] == count and answer["queued"]["chunks"] == 4
    assert front.ingestor.ingested == [] and front.dead_letters.kept == []  # nothing applied while the sender waits
    assert front.bodies.objects == {answer["queued"]["request"]: text.encode()}
    assert [(c.start, c.stop) for c in front.chunks.sent] == [
        (0, CHUNK_ALERTS),
        (CHUNK_ALERTS, 2 * CHUNK_ALERTS),
        (2 * CHUNK_ALERTS, 3 * CHUNK_ALERTS),
        (3 * CHUNK_ALERTS, count),
    ]

    # WHEN the consumer applies every chunk (as the queue delivers them, through their JSON form)
    for chunk in front.chunks.sent:
        front.intake.apply_chunk(Chunk.from_json(json.loads(json.dumps(chunk.to_json()))), front.bodies)  # type: ignore[arg-type]

    # THEN every valid alert was applied exactly once, judged as at the door, and the refused one kept once
    expected = [s.dedup_key for i, s in JUDGES_BY_SOURCE["alertmanager"](body, NOW, None).accepted]
    assert [signal.dedup_key for signal, _ in front.ingestor.ingested] == expected
    assert len(set(expected)) == count - 1
    ((payload, _, reason),) = front.dead_letters.kept
    assert payload["index"] == CHUNK_ALERTS + 1 and "labels must be an object of strings" in reason


def test_a_request_the_queue_will_not_take_is_a_503_to_retry_not_a_silent_drop():
    front = door()
    front.chunks.broken = True
    status, answer, headers = front.post(
        "generic", {"alerts": [{"dedup_key": f"k{n}", "title": "t"} for n in range(CHUNK_ALERTS + 1)]}
    )
    assert status == 503 and "send it again" in answer["error"]
    assert headers["retry-after"] == "5"


def test_a_sender_over_its_rate_gets_429_with_retry_after_and_another_sender_does_not():
    rates = FakeRequestRates(limit_reached_after=2)
    front = door(rates)
    alert = {"dedup_key": "k", "title": "t"}
    assert [front.post("generic", alert)[0] for _ in range(2)] == [202, 202]
    status, answer, headers = front.post("generic", alert)
    assert status == 429 and headers["retry-after"] == "42"
    assert "more than 5 requests a minute from generic:192.0.2.7" in answer["error"]
    assert rates.taken == ["generic:192.0.2.7"] * 3
    assert len(front.ingestor.ingested) == 2


def test_over_six_megabytes_is_a_413():
    status, answer, _ = door().post("generic", '{"dedup_key": "' + "x" * (6 * 1024 * 1024) + '"}')
    assert status == 413 and "the limit is 6291456" in answer["error"]


@pytest.mark.parametrize(
    "event",
    [
        {
            "kind": "webhook_chunk",
            "source": "generic",
            "key": "k",
            "received_at": NOW.isoformat(),
            "start": 5,
            "stop": 5,
        },
        {"Records": []},
        {"kind": "webhook_chunk", "source": "generic"},
    ],
)
def test_an_event_that_is_not_a_chunk_is_refused_by_the_consumer(event):
    with pytest.raises(ChunkMessageError):
        Chunk.from_json(event)
