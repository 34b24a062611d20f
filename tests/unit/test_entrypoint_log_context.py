"""Each invocation's log lines name its own function and request, even when invocations run at once as threads (the
embedded local AWS runs them so; Powertools' Lambda context keys are process-wide)."""

from __future__ import annotations

import io
import json
import logging
import threading
from dataclasses import dataclass

from siren.entrypoint import lambda_handler
from siren.observability import logger


@dataclass
class Context:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 512

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"


def test_two_invocations_at_once_each_log_their_own_function_and_request() -> None:
    both_started = threading.Barrier(2, timeout=10)
    first_logged = threading.Event()

    def log_inside(event: dict, _: object) -> dict:
        both_started.wait()  # the second invocation has appended its context by now
        if event["name"] == "second":
            first_logged.wait(10)  # the first logs after the second started: the process-wide keys are the second's
        logger.info("inside", extra={"invocation": event["name"]})
        if event["name"] == "first":
            first_logged.set()
        return {}

    handler = lambda_handler(lambda: None, flush_metrics=False)(log_inside)
    lines = io.StringIO()
    capture = logging.StreamHandler(lines)
    capture.setFormatter(logger.registered_formatter)
    # The logger's own formatter, on a stream the test reads.
    logger._logger.addHandler(capture)
    try:
        threads = [
            threading.Thread(target=handler, args=({"name": name}, Context(f"Fn-{name}", f"req-{name}")))
            for name in ("first", "second")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        logger._logger.removeHandler(capture)
    records = [json.loads(line) for line in lines.getvalue().splitlines() if '"inside"' in line]
    assert sorted((r["invocation"], r["function_name"], r["function_request_id"]) for r in records) == [
        ("first", "Fn-first", "req-first"),
        ("second", "Fn-second", "req-second"),
    ]
