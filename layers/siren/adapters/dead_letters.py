"""Alerts Siren had to refuse are kept, with the reason, in an SQS dead-letter queue: nothing is dropped.

The same queue keeps what failed every retry elsewhere (the stream relay's batch pointers, Lambda's asynchronous
failures, EventBridge and Scheduler deliveries); the rest of this module reads those back and replays them
(``siren dlq``, the use case in :mod:`siren.app.dead_letters`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from siren.clients import client
from siren.ports import EventTarget, QueuedMessage


class DeadLetters:
    def __init__(self, queue_url: str | None) -> None:
        self._queue_url = queue_url

    def keep(self, payload: Any, source: str, reason: str) -> None:
        if not self._queue_url:
            raise RuntimeError(f"no dead-letter queue is configured; refused {source} alert: {reason}")
        client("sqs").send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps({"source": source, "reason": reason, "payload": payload}, default=str)[:250_000],
            MessageAttributes={
                "source": {"DataType": "String", "StringValue": source},
                "reason": {"DataType": "String", "StringValue": reason[:1000] or "unknown"},
            },
        )


# -- reading and replaying what reached a dead-letter queue (``siren dlq``) -----------------------------------
PEEK_LIMIT = 1000  # messages a listing reads from one queue at most
TAKE_VISIBILITY_S = 300  # a message being replayed stays hidden this long; released at once if its replay fails


class DeadLetterQueues:
    """SQS: how many messages wait, what they hold (read without consuming them), and their removal."""

    def waiting(self, queue_url: str) -> int:
        """Messages in the queue, including those being read or replayed right now."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        found = client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
        return sum(int(found.get(name, 0)) for name in names)

    def peek(self, queue_url: str, limit: int = PEEK_LIMIT) -> list[QueuedMessage]:
        """The messages, left in the queue (received with no visibility timeout), until a read brings none new."""
        return self._receive(queue_url, limit, visibility=0)

    def take(self, queue_url: str, limit: int = PEEK_LIMIT) -> list[QueuedMessage]:
        """The messages, hidden from other readers while they are replayed: delete or release each."""
        return self._receive(queue_url, limit, visibility=TAKE_VISIBILITY_S)

    def delete(self, message: QueuedMessage) -> None:
        client("sqs").delete_message(QueueUrl=message.queue_url, ReceiptHandle=message.receipt_handle)

    def release(self, message: QueuedMessage) -> None:
        client("sqs").change_message_visibility(
            QueueUrl=message.queue_url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
        )

    def _receive(self, queue_url: str, limit: int, visibility: int) -> list[QueuedMessage]:
        found: dict[str, QueuedMessage] = {}
        while len(found) < limit:
            response = client("sqs").receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=visibility,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["SentTimestamp"],
            )
            new = [m for m in response.get("Messages", []) if m["MessageId"] not in found]
            if not new:
                break
            for raw in new:
                found[raw["MessageId"]] = _queued(queue_url, raw)
        return list(found.values())[:limit]


def _queued(queue_url: str, raw: Mapping[str, Any]) -> QueuedMessage:
    sent = (raw.get("Attributes") or {}).get("SentTimestamp")
    attributes = {
        name: str(value.get("StringValue", ""))
        for name, value in (raw.get("MessageAttributes") or {}).items()
        if "StringValue" in value
    }
    return QueuedMessage(
        queue_url=queue_url,
        message_id=str(raw["MessageId"]),
        body=str(raw.get("Body", "")),
        attributes=attributes,
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        receipt_handle=str(raw["ReceiptHandle"]),
    )


class StackWiring:
    """What the deployed stack holds (CloudFormation) and how events reach its functions (EventBridge rules, SNS
    subscriptions): where a dead letter's event goes back to."""

    def __init__(self, stack_name: str) -> None:
        self._stack_name = stack_name

    @functools.cached_property
    def _resources(self) -> list[Mapping[str, Any]]:
        pages = client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=self._stack_name)
        return [resource for page in pages for resource in page.get("StackResourceSummaries", [])]

    def queues(self) -> dict[str, str]:
        """The stack's SQS queues (all of Siren's are dead-letter queues), logical id -> queue URL."""
        found = {}
        for resource in self._resources:
            if resource["ResourceType"] == "AWS::SQS::Queue":
                physical = str(resource["PhysicalResourceId"])
                found[str(resource["LogicalResourceId"])] = physical if "://" in physical else self._url(physical)
        return found

    @staticmethod
    def _url(name: str) -> str:
        return str(client("sqs").get_queue_url(QueueName=name.rsplit(":", 1)[-1])["QueueUrl"])

    @functools.cached_property
    def functions(self) -> frozenset[str]:
        """The stack's function names."""
        return frozenset(
            str(r["PhysicalResourceId"]) for r in self._resources if r["ResourceType"] == "AWS::Lambda::Function"
        )

    def owns_function(self, arn: str) -> bool:
        return arn.split(":")[2:3] == ["lambda"] and arn.split(":")[6] in self.functions

    def event_targets(self, bus_names: Sequence[str]) -> list[EventTarget]:
        """Every rule on ``bus_names`` whose target is one of the stack's functions."""
        events = client("events")
        found: list[EventTarget] = []
        for bus in bus_names:
            for page in events.get_paginator("list_rules").paginate(EventBusName=bus):
                for rule in page.get("Rules", []):
                    if not rule.get("EventPattern"):
                        continue
                    pattern = json.loads(rule["EventPattern"])
                    targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus).get("Targets", [])
                    found += [
                        EventTarget(str(rule["Name"]), pattern, str(t["Arn"]))
                        for t in targets
                        if self.owns_function(str(t["Arn"]))
                    ]
        return found

    def topic_functions(self, topic_arn: str) -> list[str]:
        """The stack's functions subscribed to ``topic_arn``."""
        pages = client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        return [
            str(s["Endpoint"])
            for page in pages
            for s in page.get("Subscriptions", [])
            if s.get("Protocol") == "lambda" and self.owns_function(str(s["Endpoint"]))
        ]


class FunctionInvoker:
    def invoke_async(self, function_arn: str, event: Any) -> None:
        """Lambda's asynchronous invoke (its own retries and DLQ apply again); raises if Lambda refuses it."""
        response = client("lambda").invoke(
            FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(event).encode()
        )
        if int(response.get("StatusCode", 0)) // 100 != 2:
            raise RuntimeError(f"Lambda did not accept the event for {function_arn}: {response.get('StatusCode')}")


class OutboxEvents:
    """The lifecycle events written to the incident table (the outbox the stream relay publishes)."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def written_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Event items written in [start, end] (detail parsed). A scan: this serves an operator's redrive of a
        batch the relay gave up on, never a request path, and event items expire after 7 days."""
        pages = (
            client("dynamodb")
            .get_paginator("scan")
            .paginate(
                TableName=self._table_name,
                FilterExpression="#kind = :event AND created_at BETWEEN :start AND :end",
                ExpressionAttributeNames={"#kind": "kind"},
                ExpressionAttributeValues={
                    ":event": {"S": "event"},
                    ":start": {"S": start.isoformat()},
                    ":end": {"S": end.isoformat()},
                },
            )
        )
        found = []
        for page in pages:
            for item in page.get("Items", []):
                found.append(
                    {
                        "event_id": item["pk"]["S"].removeprefix("EVENT#"),
                        "source": item["source"]["S"],
                        "detail_type": item["detail_type"]["S"],
                        "detail": json.loads(item["detail"]["S"]),
                        "created_at": item["created_at"]["S"],
                    }
                )
        return sorted(found, key=lambda event: event["created_at"])
