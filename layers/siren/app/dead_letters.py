"""What reached a dead-letter queue, and its replay (``siren dlq list`` / ``siren dlq redrive``).

Siren's dead-letter queue keeps four kinds of message:

- the stream relay's batch pointer (Lambda's ``DDBStreamBatchInfo``: shard, sequence numbers, when the records
  were written), sent only when a batch of lifecycle events failed until its records left the stream. It holds no
  event, so the replay trusts the store, not the message: the lifecycle events written in the batch's time window
  name the incidents, and each incident, read again, has its *current* lifecycle event published (Opened while
  unacknowledged, else Acknowledged or Resolved). Consumers are idempotent by incident and version or attempt, so
  what they already did is not done twice, and what was lost runs now.
- an event that a function failed on every asynchronous retry (Lambda's DLQ: the original event, plus
  ``ErrorMessage``) or that EventBridge or Scheduler could not deliver (``TARGET_ARN``): replayed to its target
  function, asynchronously. Lambda's DLQ message does not name the function, so an event goes to every function
  of the stack that would receive it (the stack's rules whose pattern matches it; the Lambda subscribers of its
  SNS topic); each is idempotent for a redelivered event.
- an alert refused at the front door (``source``, ``reason``, ``payload``): kept for inspection, never replayed
  (it would be refused again); fix the sender.

A message is deleted only after its replay succeeded; a failed replay leaves it in the queue, visible again.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from siren.domain.incidents import EVENT_SOURCE, Incident, IncidentStatus, LifecycleEventType
from siren.ports import (
    BusEvent,
    DeadLetterQueues,
    EventBus,
    IncidentRepository,
    Invoker,
    Outbox,
    QueuedMessage,
    StackWiring,
)

# Stream records carry their creation time to the second, and the event items their writer's clock: the window
# of a batch is widened by this much on both sides. Extra incidents in it are harmless (their current event is
# published again, which idempotent consumers ignore); a missing one would not be.
WINDOW_SLACK = timedelta(seconds=5)


class DeadLetterKind(enum.StrEnum):
    STREAM_BATCH = "stream-batch"
    EVENT = "event"
    REFUSED_ALERT = "refused-alert"
    UNKNOWN = "unknown"


# -- what a message holds (pure) --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DeadLetter:
    queue: str  # the queue's logical id in the stack
    id: str  # the SQS message id
    kind: DeadLetterKind
    sent_at: datetime | None
    holds: dict[str, Any]  # what the message says, for people (JSON-ready)
    message: QueuedMessage = field(repr=False)
    event: Any = field(default=None, repr=False)  # the original event (kind "event")

    def as_json(self, now: datetime) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "id": self.id,
            "kind": str(self.kind),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "age_seconds": int((now - self.sent_at).total_seconds()) if self.sent_at else None,
            **self.holds,
        }


def classify(queue: str, message: QueuedMessage) -> DeadLetter:
    """What ``message`` is, from its body and attributes alone."""
    try:
        body = json.loads(message.body)
    except ValueError:
        body = None
    error = message.attributes.get("ErrorMessage") or message.attributes.get("ERROR_MESSAGE")

    def letter(kind: DeadLetterKind, holds: dict[str, Any], event: Any = None) -> DeadLetter:
        return DeadLetter(queue, message.message_id, kind, message.sent_at, holds, message, event)

    if isinstance(body, dict) and isinstance(body.get("DDBStreamBatchInfo"), dict):
        info = body["DDBStreamBatchInfo"]
        holds = {
            "shard": info.get("shardId"),
            "start_sequence_number": info.get("startSequenceNumber"),
            "end_sequence_number": info.get("endSequenceNumber"),
            "batch_size": info.get("batchSize"),
            "first_record_at": info.get("approximateArrivalOfFirstRecord"),
            "last_record_at": info.get("approximateArrivalOfLastRecord"),
            "condition": (body.get("requestContext") or {}).get("condition"),
        }
        return letter(DeadLetterKind.STREAM_BATCH, holds)
    if isinstance(body, dict) and {"source", "reason", "payload"} <= set(body) and "detail-type" not in body:
        holds = {"source": body["source"], "reason": body["reason"]}
        return letter(DeadLetterKind.REFUSED_ALERT, holds)
    event_kind = event_kind_of(body)
    if event_kind is None:
        return letter(DeadLetterKind.UNKNOWN, {"error": error, "body": message.body[:200]})
    holds = {"event": event_kind, "error": error, "target": message.attributes.get("TARGET_ARN")}
    return letter(DeadLetterKind.EVENT, holds, body)


def event_kind_of(event: Any) -> str | None:
    """A short name for an event a function takes: EventBridge's detail-type and source, an SNS topic, a
    scheduled invocation's input; None for something no Siren function takes."""
    if not isinstance(event, dict):
        return None
    if event.get("kind") == "webhook_chunk":
        return f"webhook chunk (alerts {event.get('start')}..{event.get('stop')} of {event.get('key')})"
    if "detail-type" in event and "source" in event:
        return f"{event['detail-type']} ({event['source']})"
    topic = _sns_topic(event)
    if topic:
        return f"SNS message from {topic.rsplit(':', 1)[-1]}"
    return "scheduled invocation" if event else None


def _sns_topic(event: Mapping[str, Any]) -> str | None:
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict) and records[0].get("Sns"):
        return str(records[0]["Sns"].get("TopicArn") or "") or None
    if event.get("Type") == "Notification" and event.get("TopicArn"):  # SNS's own DLQ: the message envelope
        return str(event["TopicArn"])
    return None


def sns_lambda_event(envelope: Mapping[str, Any], subscription: str) -> dict[str, Any]:
    """The event a Lambda subscriber receives for an SNS message envelope (what SNS's own DLQ keeps)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription,
                "Sns": dict(envelope),
            }
        ]
    }


def pattern_matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge matching for the patterns Siren's rules use: exact values, nested. A content filter this does
    not know (prefix, anything-but...) counts as a match: a replay to one function too many is harmless."""
    for key, expected in pattern.items():
        if isinstance(expected, dict):
            value = event.get(key)
            if not isinstance(value, dict) or not pattern_matches(expected, value):
                return False
            continue
        if not isinstance(expected, list):
            return False
        if any(isinstance(option, dict) for option in expected):
            continue
        value = event.get(key)
        values = value if isinstance(value, list) else [value]
        if not any(v in expected for v in values):
            return False
    return True


def current_lifecycle_events(incident: Incident) -> list[BusEvent]:
    """The event that makes every consumer catch up with ``incident`` as it is now."""
    if incident.status is IncidentStatus.RESOLVED:
        detail_type, detail = LifecycleEventType.RESOLVED, incident.event_detail(resolved_by=incident.resolved_by)
    elif incident.status is IncidentStatus.ACKNOWLEDGED:
        detail_type = LifecycleEventType.ACKNOWLEDGED
        detail = incident.event_detail(acknowledged_by=incident.acknowledged_by, via="redrive")
    else:  # open or recovered: nobody has acknowledged it, so it must be escalating
        detail_type, detail = LifecycleEventType.OPENED, incident.event_detail(severity_rule=incident.severity_rule)
    detail["event_id"] = f"redrive:{incident.id}:{incident.version}"
    detail["redriven"] = True
    return [BusEvent(EVENT_SOURCE, str(detail_type), detail)]


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the use case -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QueueReport:
    queue: str
    url: str
    waiting: int
    letters: list[DeadLetter]

    def as_json(self, now: datetime) -> dict[str, Any]:
        ages = [letter.sent_at for letter in self.letters if letter.sent_at]
        return {
            "queue": self.queue,
            "url": self.url,
            "waiting": self.waiting,
            "oldest_age_seconds": int((now - min(ages)).total_seconds()) if ages else None,
            "messages": [letter.as_json(now) for letter in self.letters],
        }


@dataclass(frozen=True, slots=True)
class Replay:
    queue: str
    id: str
    kind: str
    outcome: str  # replayed | skipped | failed
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"queue": self.queue, "id": self.id, "kind": self.kind, "outcome": self.outcome, "detail": self.detail}


class ReplayFailed(RuntimeError):
    pass


@dataclass(kw_only=True, frozen=True, slots=True, eq=False)
class DeadLetterReplays:
    queues: DeadLetterQueues
    wiring: StackWiring
    outbox: Outbox
    incidents: IncidentRepository
    bus: EventBus
    invoker: Invoker
    bus_names: Sequence[str]

    def inventory(self) -> list[QueueReport]:
        """Each dead-letter queue of the stack, with what its messages hold (left in the queue)."""
        reports = []
        for queue, url in sorted(self.wiring.queues().items()):
            letters = [self._described(classify(queue, m)) for m in self.queues.peek(url)]
            letters.sort(key=lambda letter: letter.sent_at or datetime.max.replace(tzinfo=UTC))
            reports.append(QueueReport(queue, url, self.queues.waiting(url), letters))
        return reports

    def redrive(self, ids: Iterable[str] | None = None) -> list[Replay]:
        """Replay the messages with ``ids`` (None: all), deleting each once its replay succeeded."""
        wanted = None if ids is None else set(ids)
        replays: list[Replay] = []
        for queue, url in sorted(self.wiring.queues().items()):
            for message in self.queues.take(url):
                if wanted is not None and message.message_id not in wanted:
                    self.queues.release(message)
                    continue
                replays.append(self._replay(classify(queue, message)))
        if wanted is not None:
            found = {replay.id for replay in replays}
            replays += [
                Replay("-", missing, "-", "failed", "no such message in any dead-letter queue")
                for missing in sorted(wanted - found)
            ]
        return replays

    # -- one message -------------------------------------------------------------------------------------------
    def _replay(self, letter: DeadLetter) -> Replay:
        def done(outcome: str, detail: str) -> Replay:
            return Replay(letter.queue, letter.id, str(letter.kind), outcome, detail)

        if letter.kind is DeadLetterKind.REFUSED_ALERT:
            self.queues.release(letter.message)
            return done("skipped", "a refused alert is kept for inspection, not replayed: fix the sender")
        try:
            if letter.kind is DeadLetterKind.STREAM_BATCH:
                detail = self._republish(letter)
            elif letter.kind is DeadLetterKind.EVENT:
                detail = self._redeliver(letter)
            else:
                raise ReplayFailed("not a message Siren knows how to replay")
        except Exception as error:
            self.queues.release(letter.message)
            return done(
                "failed", f"{type(error).__name__}: {error}" if not isinstance(error, ReplayFailed) else str(error)
            )
        self.queues.delete(letter.message)
        return done("replayed", detail)

    def _window_events(self, letter: DeadLetter) -> list[dict[str, Any]]:
        first, last = _instant(letter.holds.get("first_record_at")), _instant(letter.holds.get("last_record_at"))
        if first is None or last is None:
            raise ReplayFailed("the batch pointer has no record times")
        return self.outbox.written_between(first - WINDOW_SLACK, last + timedelta(seconds=1) + WINDOW_SLACK)

    def _described(self, letter: DeadLetter) -> DeadLetter:
        if letter.kind is not DeadLetterKind.STREAM_BATCH:
            return letter
        try:
            events = self._window_events(letter)
        except ReplayFailed:
            events = []
        incidents = sorted({str(e["detail"]["incident_id"]) for e in events if e["detail"].get("incident_id")})
        letter.holds["incidents"] = incidents
        letter.holds["events"] = [e["detail_type"] for e in events]
        return letter

    def _republish(self, letter: DeadLetter) -> str:
        events = self._window_events(letter)
        if not events:
            raise ReplayFailed("no lifecycle event was written in the batch's time window (expired after 7 days?)")
        incident_ids = sorted({str(e["detail"]["incident_id"]) for e in events if e["detail"].get("incident_id")})
        republished: list[BusEvent] = []
        for incident_id in incident_ids:
            incident = self.incidents.get(incident_id)
            if incident is None:
                raise ReplayFailed(f"{incident_id} is not in the table")
            republished += current_lifecycle_events(incident)
        # Events about no incident (status page changes) carry no state to re-read: they are published as written.
        republished += [
            BusEvent(e["source"], e["detail_type"], {**e["detail"], "event_id": e["event_id"]})
            for e in events
            if not e["detail"].get("incident_id")
        ]
        self.bus.put(republished)
        return "published " + ", ".join(
            f"{e.detail_type} {e.detail.get('incident_id', '')}".strip() for e in republished
        )

    def _redeliver(self, letter: DeadLetter) -> str:
        event = letter.event
        targets: list[tuple[str, Any]] = []
        named = letter.message.attributes.get("TARGET_ARN")
        topic = _sns_topic(event)
        if named and self.wiring.owns_function(named):
            targets = [(named, event)]
        elif event.get("kind") == "webhook_chunk" and self.wiring.owns_function(str(event.get("function", ""))):
            targets = [(str(event["function"]), event)]  # a queued chunk names its consumer
        elif topic:
            envelope = event if event.get("Type") == "Notification" else None
            targets = [
                (arn, sns_lambda_event(envelope, f"{topic}:redrive") if envelope else event)
                for arn in self.wiring.topic_functions(topic)
            ]
        elif "detail-type" in event:
            matching = [
                t.function_arn for t in self.wiring.event_targets(self.bus_names) if pattern_matches(t.pattern, event)
            ]
            targets = [(arn, event) for arn in dict.fromkeys(matching)]
        if not targets:
            raise ReplayFailed("no function of the stack takes this event")
        for arn, payload in targets:
            self.invoker.invoke_async(arn, payload)
        return "invoked " + ", ".join(arn.rsplit(":", 1)[-1] for arn, _ in targets)
