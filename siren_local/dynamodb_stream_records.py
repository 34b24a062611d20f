"""DynamoDB stream records as Lambda handles them: the event record, event filtering, the record of a batch sent
to an on-failure destination, and how old a record may grow before it is dropped."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from siren_local.clock import time_scale

STREAM_RETENTION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class QueuedRecord:
    record: dict[str, Any]  # the Lambda event record
    shard_id: str
    arrived: float  # time.monotonic() when the record was written

    @property
    def sequence_number(self) -> str:
        return str(self.record["dynamodb"]["SequenceNumber"])


def stream_arn(table: Any) -> str:
    return f"{table.table_arn}/stream/{table.latest_stream_label}"


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return float(int(moment.timestamp()))
    return float(value)


def lambda_record(stream_record: Any, table: Any, source_arn: str) -> dict[str, Any]:
    """AWS's DynamoDB stream record as Lambda delivers it (epoch seconds, real region, eventSourceARN)."""
    record = stream_record.to_json()
    dynamodb = dict(record["dynamodb"])
    dynamodb["ApproximateCreationDateTime"] = _epoch(dynamodb["ApproximateCreationDateTime"])
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": table.region_name,
        "dynamodb": dynamodb,
        "eventSourceARN": source_arn,
    }


@functools.lru_cache(maxsize=256)
def event_pattern(raw: str) -> Any:
    from moto.events.models import EventPattern

    return EventPattern.load(raw)


def filter_patterns(mapping: Any) -> list[str]:
    criteria = getattr(mapping, "filter_criteria", None) or {}
    return [str(entry["Pattern"]) for entry in criteria.get("Filters") or [] if entry.get("Pattern")]


def passes_filters(mapping: Any, record: dict[str, Any]) -> bool:
    """Lambda's event filtering: no filter passes everything; otherwise any one matching filter does."""
    patterns = filter_patterns(mapping)
    return not patterns or any(event_pattern(raw).matches_event(record) for raw in patterns)


def destination_record(
    mapping: Any, batch: list[QueuedRecord], condition: str, invocations: int, request_id: str
) -> dict[str, Any]:
    def iso(record: QueuedRecord) -> str:
        moment = datetime.fromtimestamp(record.record["dynamodb"]["ApproximateCreationDateTime"], UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    now = datetime.now(UTC)
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": mapping.function_arn,
            "condition": condition,
            "approximateInvokeCount": invocations,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "DDBStreamBatchInfo": {
            "shardId": batch[0].shard_id,
            "startSequenceNumber": batch[0].sequence_number,
            "endSequenceNumber": batch[-1].sequence_number,
            "approximateArrivalOfFirstRecord": iso(batch[0]),
            "approximateArrivalOfLastRecord": iso(batch[-1]),
            "batchSize": len(batch),
            "streamArn": mapping.event_source_arn,
        },
    }


def record_age_limit(mapping: Any) -> float:
    """Seconds of AWS time a record of ``mapping`` is tried for: MaximumRecordAgeInSeconds when set (-1 or unset:
    infinite), never beyond the stream's retention, when the record itself expires."""
    configured = float(mapping.max_record_age) if mapping.max_record_age is not None else -1.0
    return STREAM_RETENTION_SECONDS if configured < 0 else min(configured, STREAM_RETENTION_SECONDS)


def aws_age(record: QueuedRecord) -> float:
    """The record's age in AWS seconds: wall-clock time since it was written, on the scaled clock."""
    return (time.monotonic() - record.arrived) * time_scale()


def first_reported_failure(result: Any, sequence_numbers: list[str]) -> int | None:
    """Index of the first record a ReportBatchItemFailures response names; 0 if the response is not valid."""
    if result is None or not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures")
    if not failures:
        return None
    try:
        indexes = [sequence_numbers.index(str(failure["itemIdentifier"])) for failure in failures]
    except (KeyError, TypeError, ValueError):
        return 0  # an invalid response fails the whole batch
    return min(indexes)
