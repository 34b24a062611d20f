"""Alerts Siren had to refuse are kept, with the reason, in an SQS dead-letter queue: nothing is dropped."""

from __future__ import annotations

import json
from typing import Any

from siren.clients import client


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
