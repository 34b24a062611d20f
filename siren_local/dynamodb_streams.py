"""DynamoDB Streams -> Lambda event source mappings, delivered as Lambda's stream poller does.

moto 5.2.5 invokes stream consumers synchronously inside the write request (``StreamShard.add`` ->
``LambdaBackend.send_dynamodb_items``), ignores FilterCriteria, BatchSize, the batching window and every retry
setting, sends all records not yet consumed on every write, and then empties the shard (so GetRecords misses
them). Here:

- :func:`_add` replaces ``StreamShard.add``: the record is kept in the shard (GetRecords sees it, with the
  table's region and event version 1.1) and handed to the :class:`StreamDispatcher`; nothing runs inside the
  write.
- The dispatcher queues the record, in write order, for every enabled mapping of the table's stream whose
  FilterCriteria it passes (Lambda's filter syntax is EventBridge's pattern syntax: moto's ``EventPattern``
  matches; the pattern applies to the whole record). TRIM_HORIZON mappings start with the records already in
  the stream, LATEST mappings with the next write.
- One worker thread per mapping invokes the function synchronously (as the poller does) with batches of up to
  BatchSize records, after at most MaximumBatchingWindowInSeconds (time-scaled, see clock.py) since the first
  record arrived or the previous batch ended, in AWS's stream event shape.
- A function error retries the same batch, in order, blocking the mapping, up to MaximumRetryAttempts (-1 or
  unset: no count) and until its oldest record is older than the record-age limit: MaximumRecordAgeInSeconds
  when set, never more than the stream's 24-hour retention (a record older than that has left the stream).
  Ages are AWS time on the scaled clock: wall-clock seconds since the write times the time scale (timestamps
  are not shifted, waits are shortened). Retries back off exponentially (at most a minute), and a backoff never
  outlasts the record's age limit: the batch goes at its limit, not up to a minute after it.
  BisectBatchOnFunctionError splits a failing batch in two (a split is not counted as a retry);
  ``ReportBatchItemFailures`` responses retry from the first failed record. When a batch gives up, Lambda's
  invocation record (``DDBStreamBatchInfo``) goes to ``DestinationConfig.OnFailure`` (an SQS queue or SNS
  topic) and the mapping moves on. A stop of the runtime ends retries at once; nothing is sent for the batch
  in hand (on AWS it stays in the stream).

``LocalAws.drain()`` waits until every mapping is idle (no queued record, no batch in flight).

Local simplifications: a disabled mapping gets no records (on AWS it resumes where it stopped when enabled
again); a deleted mapping's queued records are dropped; the 6 MB batch payload limit is not applied.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.awslambda import models as lambda_models
from moto.dynamodb.models import table as table_models

from siren_local.clock import scaled
from siren_local.cloudwatch import record_metric
from siren_local.dynamodb_stream_records import (
    QueuedRecord,
    aws_age,
    destination_record,
    event_pattern,
    first_reported_failure,
    lambda_record,
    passes_filters,
    record_age_limit,
    stream_arn,
)
from siren_local.lambda_runtime import active_runtime, send_to_queue
from siren_local.patching import require_moto

log = logging.getLogger("siren.local.dynamodb_streams")

DEFAULT_BATCH_SIZE = 100
MAX_BACKOFF_SECONDS = 60.0
AGE_STEP_S = 0.001  # a backoff cut to a record's age limit ends just past it (wall-clock seconds)


@dataclass(frozen=True)
class StreamInvocation:
    mapping_uuid: str
    sequence_numbers: list[str]
    errored: bool


@dataclass
class _MappingQueue:
    uuid: str
    account_id: str
    region: str
    records: deque[QueuedRecord] = field(default_factory=deque)
    busy: bool = False
    last_done: float = 0.0
    thread: threading.Thread | None = None


STREAM_THREAD_PREFIX = "ddb-stream-"


# -- the dispatcher ------------------------------------------------------------------------------------------
class StreamDispatcher:
    """Queues stream records per event source mapping and delivers them from one worker thread per mapping."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queues: dict[str, _MappingQueue] = {}
        self._stopped = False
        self.enqueued = 0  # records queued so far: drain() uses it to notice new work
        self.invocations: list[StreamInvocation] = []

    # -- queueing -------------------------------------------------------------------------------------------
    def on_record(self, table: Any, shard: Any, stream_record: Any) -> None:
        """A write produced ``stream_record``: queue it for each mapping of the table's stream it passes."""
        from moto.awslambda.utils import get_backend

        source = stream_arn(table)
        mappings = get_backend(table.account_id, table.region_name).list_event_source_mappings(
            event_source_arn=source, function_name=""
        )
        for mapping in mappings:
            if _flag(mapping.enabled):
                self.enqueue(mapping, table, shard, [stream_record])

    def enqueue(self, mapping: Any, table: Any, shard: Any, stream_records: list[Any], backlog: bool = False) -> None:
        """Queue ``stream_records`` for ``mapping``; ``backlog``: records written before now (their age counts)."""
        now, wall_now = time.monotonic(), datetime.now(UTC)
        queued = []
        for stream_record in stream_records:
            record = lambda_record(stream_record, table, mapping.event_source_arn)
            if not passes_filters(mapping, record):
                continue
            arrived = now
            if backlog:
                created = stream_record.to_json()["dynamodb"]["ApproximateCreationDateTime"]
                if isinstance(created, datetime):
                    created = created if created.tzinfo else created.replace(tzinfo=UTC)
                    arrived = now - max(0.0, (wall_now - created).total_seconds())
            queued.append(QueuedRecord(record, shard.id, arrived))
        if not queued:
            return
        with self._cond:
            if self._stopped:
                return
            queue = self._queues.get(mapping.uuid)
            if queue is None:
                queue = _MappingQueue(mapping.uuid, mapping.account_id, mapping.region)
                self._queues[mapping.uuid] = queue
            queue.records.extend(queued)
            self.enqueued += len(queued)
            if queue.thread is None:
                queue.thread = threading.Thread(
                    target=self._run, args=(queue,), name=f"{STREAM_THREAD_PREFIX}{mapping.uuid[:8]}", daemon=True
                )
                queue.thread.start()
            self._cond.notify_all()

    # -- waiting --------------------------------------------------------------------------------------------
    def idle(self) -> bool:
        with self._cond:
            return all(not queue.records and not queue.busy for queue in self._queues.values())

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(queue.records or queue.busy for queue in self._queues.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def stop(self) -> None:
        """Deliver nothing more: workers end after the batch in hand (the runtime waits for :meth:`threads`)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def threads(self) -> list[threading.Thread]:
        with self._cond:
            return [queue.thread for queue in self._queues.values() if queue.thread and queue.thread.is_alive()]

    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` of wall-clock time; False if the dispatcher stopped meanwhile."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._stopped:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return True
                self._cond.wait(remaining)
        return False

    # -- the worker -----------------------------------------------------------------------------------------
    def _mapping(self, queue: _MappingQueue) -> Any | None:
        from moto.awslambda.utils import get_backend

        try:
            return get_backend(queue.account_id, queue.region).get_event_source_mapping(queue.uuid)
        except Exception:
            return None

    def _run(self, queue: _MappingQueue) -> None:
        while True:
            with self._cond:
                while not queue.records and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                mapping = self._mapping(queue)
                if mapping is None:  # deleted: its records go nowhere
                    queue.records.clear()
                    self._cond.notify_all()
                    continue
                batch_size = int(mapping.batch_size or DEFAULT_BATCH_SIZE)
                window = scaled(float(mapping.max_batch_window or 0))
                deadline = max(queue.records[0].arrived, queue.last_done) + window
                while len(queue.records) < batch_size and not self._stopped:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                if self._stopped:
                    return
                batch = [queue.records.popleft() for _ in range(min(batch_size, len(queue.records)))]
                queue.busy = True
            try:
                self._deliver(mapping, batch)
            except Exception:
                log.exception("stream delivery to %s failed", mapping.function_arn)
            finally:
                with self._cond:
                    queue.busy = False
                    queue.last_done = time.monotonic()
                    self._cond.notify_all()

    def _deliver(self, mapping: Any, batch: list[QueuedRecord]) -> None:
        max_retries = int(mapping.max_retry_attempts) if mapping.max_retry_attempts is not None else -1
        max_age = record_age_limit(mapping)
        pending = [batch]
        while pending and not self._stopped:
            current = pending.pop(0)
            retries = invocations = 0
            request_id = ""
            while current and not self._stopped:
                if aws_age(current[0]) > max_age:
                    self._give_up(mapping, current, "RecordAgeExceeded", invocations, request_id)
                    break
                errored, request_id, first_failed = self._invoke(mapping, current)
                invocations += 1
                if not errored:
                    break
                current = current[first_failed:]
                if _flag(mapping.bisect_on_error) and len(current) > 1:
                    half = len(current) // 2
                    pending[:0] = [current[:half], current[half:]]
                    break
                if 0 <= max_retries <= retries:
                    self._give_up(mapping, current, "RetryAttemptsExhausted", invocations, request_id)
                    break
                retries += 1
                # The next try, or the moment the oldest record reaches its age limit, whichever comes first.
                backoff = min(_backoff(retries), max(0.0, max_age - aws_age(current[0])))
                if not self._pause(scaled(backoff) + AGE_STEP_S):
                    return

    def _invoke(self, mapping: Any, batch: list[QueuedRecord]) -> tuple[bool, str, int]:
        """One synchronous invocation: (errored, request id, index of the first record to retry)."""
        from moto.awslambda.utils import get_backend

        sequence_numbers = [record.sequence_number for record in batch]
        try:
            function = get_backend(mapping.account_id, mapping.region).get_function(mapping.function_arn)
        except Exception as error:
            log.error("stream mapping %s: function %s: %s", mapping.uuid, mapping.function_arn, error)
            self.invocations.append(StreamInvocation(mapping.uuid, sequence_numbers, True))
            return True, str(uuid.uuid4()), 0
        # A fresh copy per attempt: a handler that changes its event never changes the next attempt's.
        event = json.loads(json.dumps({"Records": [record.record for record in batch]}))
        # Lambda's IteratorAge for the batch: the age of its newest record when it is handed over (AWS time).
        record_metric(
            (str(function.account_id), str(function.region)),
            "AWS/Lambda",
            "IteratorAge",
            min(aws_age(record) for record in batch) * 1000,
            {"FunctionName": str(function.function_name)},
            unit="Milliseconds",
        )
        response, errored = active_runtime().invoke(function, event)
        request_id = str(uuid.uuid4())
        first_failed = 0
        try:
            result = json.loads(response)
        except ValueError:
            result = None
        if errored and isinstance(result, dict):
            request_id = str(result.get("requestId") or request_id)
        elif not errored and "ReportBatchItemFailures" in (mapping.function_response_types or []):
            failed = first_reported_failure(result, sequence_numbers)
            if failed is not None:
                errored, first_failed = True, failed
        self.invocations.append(StreamInvocation(mapping.uuid, sequence_numbers, errored))
        return errored, request_id, first_failed

    def _give_up(
        self, mapping: Any, batch: list[QueuedRecord], condition: str, invocations: int, request_id: str
    ) -> None:
        destination = ((mapping.destination_config or {}).get("OnFailure") or {}).get("Destination")
        first, last = batch[0].sequence_number, batch[-1].sequence_number
        if not destination:
            log.error(
                "stream mapping %s gave up on records %s..%s (%s) and has no on-failure destination; skipped",
                mapping.uuid,
                first,
                last,
                condition,
            )
            return
        body = json.dumps(destination_record(mapping, batch, condition, invocations, request_id or str(uuid.uuid4())))
        _, _, service, region, account, _rest = destination.split(":", 5)
        if service == "sqs":
            send_to_queue(destination, body, {})
        elif service == "sns":
            from moto.sns.models import sns_backends

            sns_backends[account][region].publish(body, arn=destination)
        else:
            log.error(
                "stream mapping %s: on-failure destination %s is not supported locally", mapping.uuid, destination
            )
            return
        log.error(
            "stream mapping %s gave up on records %s..%s (%s): sent to %s",
            mapping.uuid,
            first,
            last,
            condition,
            destination,
        )


def _backoff(retries: int) -> float:
    """Seconds of AWS time before retry number ``retries``: 1, 2, 4... up to a minute. The exponent is capped:
    with unlimited retries ``2.0 ** retries`` overflows after about a thousand of them."""
    return min(MAX_BACKOFF_SECONDS, 2.0 ** min(retries - 1, 16))


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


# -- installing ----------------------------------------------------------------------------------------------
_active: StreamDispatcher | None = None
_shard_lock = threading.RLock()  # stream order is append order, also across concurrent writes
_original_create_mapping = lambda_models.LambdaBackend.create_event_source_mapping


def _add(self: Any, old: Any, new: Any) -> None:
    view_type = self.table.stream_specification["StreamViewType"]
    event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    with _shard_lock:
        sequence_number = len(self.items) + self.starting_sequence_number
        record = table_models.StreamRecord(self.table, view_type, event_name, old, new, sequence_number)
        # What GetRecords returns too: AWS's event version and the table's region (moto says us-east-1).
        record.record["eventVersion"] = "1.1"
        record.record["awsRegion"] = self.table.region_name
        self.items.append(record)
        if _active is not None:
            _active.on_record(self.table, self, record)


def _create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
    from moto.awslambda.exceptions import InvalidParameterValueException

    for entry in (spec.get("FilterCriteria") or {}).get("Filters") or []:
        try:
            event_pattern(str(entry.get("Pattern", "")))
        except Exception as error:
            raise InvalidParameterValueException(f"Invalid filter pattern {entry.get('Pattern')!r}: {error}") from None
    with _shard_lock:
        mapping = _original_create_mapping(self, spec)
        if mapping.event_source_arn.split(":")[2] != "dynamodb" or _active is None:
            return mapping
        if mapping.starting_position == "TRIM_HORIZON" and _flag(mapping.enabled):
            from moto.dynamodb.models import dynamodb_backends

            table_name = mapping.event_source_arn.split(":", 5)[5].split("/")[1]
            table = dynamodb_backends[mapping.account_id][mapping.region].get_table(table_name)
            if table.stream_shard is not None and table.stream_shard.items:
                _active.enqueue(mapping, table, table.stream_shard, list(table.stream_shard.items), backlog=True)
    return mapping


def install(dispatcher: StreamDispatcher) -> None:
    global _active
    require_moto("DynamoDB streams", table_models.StreamShard, "add")
    require_moto("DynamoDB streams", table_models, "StreamRecord")
    require_moto(
        "DynamoDB streams",
        lambda_models.LambdaBackend,
        "create_event_source_mapping",
        "list_event_source_mappings",
        "get_event_source_mapping",
    )
    _active = dispatcher
    setattr(table_models.StreamShard, "add", _add)  # noqa: B010
    setattr(lambda_models.LambdaBackend, "create_event_source_mapping", _create_event_source_mapping)  # noqa: B010
