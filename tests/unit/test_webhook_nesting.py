"""A webhook body nested deeply enough to exhaust Python's recursion limit is a 400 that says so, not a crash (a
502 from the function URL), and nothing of it is applied.

Nesting is refused where the body is decoded: past MAX_JSON_DEPTH levels, well before the decoder (or later
hashing and storing of the raw body, deeper in the stack) could run out of recursion half-way through a batch."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siren.app.ingest import IngestResult
from siren.app.intake import Intake
from siren.domain.parsers import MAX_JSON_DEPTH, decode_json, parse_cloudwatch_sns_message
from siren.domain.signals import ParseError, Signal

EVENTS = Path(__file__).resolve().parents[1] / "events"
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class RecordingIngestor:
    def __init__(self) -> None:
        self.ingested: list[Signal] = []

    def ingest(self, signal: Signal, raw: Any) -> IngestResult:
        self.ingested.append(signal)
        return IngestResult(signal.dedup_key, "opened", "INC-1")


@pytest.fixture
def ingestor() -> RecordingIngestor:
    return RecordingIngestor()


@pytest.fixture
def intake(ingestor: RecordingIngestor) -> Intake:
    return Intake(ingestor, None, webhook_token=lambda: "secret", clock=lambda: NOW)  # type: ignore[arg-type]


def post(intake: Intake, source: str, body: str) -> tuple[int, dict[str, Any]]:
    response = intake.webhook(
        {
            "rawPath": f"/{source}",
            "requestContext": {"http": {"method": "POST"}},
            "headers": {"authorization": "Bearer secret"},
            "body": body,
        }
    )
    return response["statusCode"], json.loads(response["body"])


def nested_lists(depth: int) -> str:
    return "[" * depth + "]" * depth


def alertmanager_with_extra(extra: str) -> str:
    """A valid Alertmanager notification with one more group field: ``extra``, raw JSON."""
    body = json.loads((EVENTS / "alertmanager_webhook_v4_firing.json").read_text())
    for alert in body["alerts"]:
        alert["startsAt"] = "2026-03-01T09:00:00Z"
    return json.dumps(body)[:-1] + f', "extra": {extra}}}'


@pytest.mark.parametrize("source", ["generic", "alertmanager", "grafana", "canary"])
def test_a_hundred_thousand_nested_lists_are_a_400_that_says_why(intake, ingestor, source):
    # GIVEN a 200 KB body (under the size limit) of 100,000 nested lists: json.loads raises RecursionError on it
    body = nested_lists(100_000)
    assert len(body) < 256 * 1024

    status, answer = post(intake, source, body)

    assert status == 400
    assert answer["error"] == (f"JSON nested too deeply: the limit is {MAX_JSON_DEPTH} levels of objects and arrays")
    assert ingestor.ingested == []


def test_a_valid_notification_nested_past_the_limit_is_refused_whole(intake, ingestor):
    # GIVEN valid alerts beside a field nested 900 levels deep: decodable, but deep enough that storing the raw
    # body (json.dumps further down the stack) could exhaust the recursion limit
    status, answer = post(intake, "alertmanager", alertmanager_with_extra(nested_lists(900)))

    assert status == 400 and "nested too deeply" in answer["error"]
    assert ingestor.ingested == []


def test_nesting_up_to_the_limit_is_accepted(intake, ingestor):
    # the body is level 1, "extra" adds MAX_JSON_DEPTH - 1 levels: exactly at the limit
    status, _ = post(intake, "alertmanager", alertmanager_with_extra(nested_lists(MAX_JSON_DEPTH - 1)))

    assert status == 202 and ingestor.ingested


def test_malformed_json_is_still_named_as_such(intake):
    status, answer = post(intake, "generic", "{not json")
    assert status == 400 and answer["error"].startswith("malformed JSON: ")


@pytest.mark.parametrize(
    "text",
    [nested_lists(100_000), '{"a":' * 100_000 + "1" + "}" * 100_000, nested_lists(MAX_JSON_DEPTH + 1)],
    ids=["lists", "objects", "one-past-the-limit"],
)
def test_decode_json_refuses_deep_nesting_with_a_parse_error(text):
    with pytest.raises(ParseError, match="nested too deeply"):
        decode_json(text)


def test_decode_json_keeps_shallow_values():
    assert decode_json(nested_lists(MAX_JSON_DEPTH)) == json.loads(nested_lists(MAX_JSON_DEPTH))
    assert decode_json(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


def test_a_cloudwatch_sns_message_nested_too_deeply_is_a_parse_error():
    with pytest.raises(ParseError, match=r"Message is not JSON .*nested too deeply"):
        parse_cloudwatch_sns_message(nested_lists(100_000), "message-1")
