"""The DynamoDB stream dispatcher's record-age limit, as Lambda's stream poller applies it.

GIVEN a stream consumer with no retry count (-1), WHEN its records keep failing, THEN they are retried until they
are older than the record-age limit (MaximumRecordAgeInSeconds when set, never beyond the stream's 24-hour
retention, when the records leave the stream) and only then go to the on-failure destination, with the ages
measured in AWS time on the scaled clock. A stop of the runtime ends the retries and sends nothing.

Time scale 10,000: the stream's 24 hours take 8.6 seconds here, 7 days a minute.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from siren_local.dynamodb_streams import StreamDispatcher
from tests.conftest import running_runtime
from tests.local.test_adapter_canaries import create_function
from tests.local.test_adapter_canaries_ingest import CONSUMER, captured, create_outbox_table, failure_queue
from tests.support import wait_for

SCALE = 10_000
WEEK = 7 * 24 * 3600


@pytest.fixture
def fast_clock() -> Iterator[Any]:
    yield from running_runtime("in-process", SCALE)


def failures_in(runtime: Any, queue_url: str) -> list[dict[str, Any]]:
    sqs = runtime.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_unlimited_retries_end_at_the_stream_retention_even_with_a_longer_age_limit(fast_clock, tmp_path):
    # GIVEN two consumers of one stream that fail on a poison record, retried without a count: one with the
    # default record age (-1: until the record expires), one allowing 7 days, longer than the stream keeps it
    stream_arn = create_outbox_table(fast_clock)
    queue_url, queue_arn = failure_queue(fast_clock)
    lam = fast_clock.client("lambda")
    for name, age in (("default-age", None), ("week-age", WEEK)):
        create_function(fast_clock, name, source=CONSUMER, env={"CAPTURE": str(tmp_path / f"{name}.jsonl")})
        lam.create_event_source_mapping(
            FunctionName=name,
            EventSourceArn=stream_arn,
            StartingPosition="LATEST",
            MaximumRetryAttempts=-1,
            DestinationConfig={"OnFailure": {"Destination": queue_arn}},
            **({"MaximumRecordAgeInSeconds": age} if age else {}),
        )

    # WHEN the poison record is written
    fast_clock.client("dynamodb").put_item(
        TableName="siren-outbox", Item={"pk": {"S": "i"}, "sk": {"S": "1"}, "poison": {"S": "y"}}
    )

    # THEN both retry it for the stream's 24 hours (8.6 s here; 7 days would be a minute, past this bound) and then
    # each sends one pointer to the on-failure queue
    assert fast_clock.drain(45), "a consumer still retries a record older than the stream's retention"
    failures = failures_in(fast_clock, queue_url)
    assert sorted(f["requestContext"]["functionArn"].rsplit(":", 1)[-1] for f in failures) == [
        "default-age",
        "week-age",
    ]
    assert {f["requestContext"]["condition"] for f in failures} == {"RecordAgeExceeded"}
    for name in ("default-age", "week-age"):
        assert len(captured(tmp_path / f"{name}.jsonl")) >= 2  # retried, not dropped on the first failure


def test_a_record_already_older_than_the_age_limit_is_not_delivered(fast_clock, tmp_path):
    # GIVEN a record written before its consumer exists, and a consumer that would process it fine but only
    # takes records younger than 60 seconds
    stream_arn = create_outbox_table(fast_clock)
    queue_url, queue_arn = failure_queue(fast_clock)
    capture = tmp_path / "late.jsonl"
    create_function(fast_clock, "late", source=CONSUMER, env={"CAPTURE": str(capture)})
    fast_clock.client("dynamodb").put_item(TableName="siren-outbox", Item={"pk": {"S": "i"}, "sk": {"S": "1"}})
    # 0.1 s of wall-clock time is 1,000 s of AWS time at this scale: the record is already too old
    time.sleep(0.1)

    # WHEN the consumer starts from the oldest record
    fast_clock.client("lambda").create_event_source_mapping(
        FunctionName="late",
        EventSourceArn=stream_arn,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=-1,
        MaximumRecordAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    assert fast_clock.drain(30)

    # THEN it is never invoked with the record, which goes to the on-failure queue as too old
    assert not capture.exists() or captured(capture) == []
    (failure,) = failures_in(fast_clock, queue_url)
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 0


def test_a_stop_ends_unlimited_retries_at_once_and_gives_nothing_up(fast_clock, tmp_path, monkeypatch):
    # GIVEN a consumer that fails, retried without a count or an age limit of its own
    given_up: list[str] = []
    original = StreamDispatcher._give_up

    def recording_give_up(self: StreamDispatcher, mapping: Any, batch: Any, condition: str, *rest: Any) -> None:
        given_up.append(condition)
        original(self, mapping, batch, condition, *rest)

    monkeypatch.setattr(StreamDispatcher, "_give_up", recording_give_up)
    stream_arn = create_outbox_table(fast_clock)
    _, queue_arn = failure_queue(fast_clock)
    create_function(fast_clock, "failing", source=CONSUMER, env={"CAPTURE": str(tmp_path / "f.jsonl")})
    fast_clock.client("lambda").create_event_source_mapping(
        FunctionName="failing",
        EventSourceArn=stream_arn,
        StartingPosition="LATEST",
        MaximumRetryAttempts=-1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    fast_clock.client("dynamodb").put_item(
        TableName="siren-outbox", Item={"pk": {"S": "i"}, "sk": {"S": "1"}, "poison": {"S": "y"}}
    )
    wait_for(lambda: len(fast_clock.streams.invocations) >= 3)

    # WHEN the runtime stops (the fixture's stop afterwards is harmless)
    assert fast_clock.stop() == []

    # THEN no stream worker is left, nothing more is tried and nothing was given up on
    tried = len(fast_clock.streams.invocations)
    assert fast_clock.streams.threads() == []
    assert len(fast_clock.streams.invocations) == tried
    assert given_up == []
