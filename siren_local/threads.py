"""The embedded local AWS's background threads: which are its own, waiting for them with a bound, and where one
that would not stop is waiting."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable

from siren_local.cloudwatch_alarms import EVALUATOR_THREAD
from siren_local.dynamodb_streams import STREAM_THREAD_PREFIX
from siren_local.http_server import REQUEST_THREAD_PREFIX, SERVER_THREAD
from siren_local.lambda_runtime import ASYNC_THREAD_PREFIX
from siren_local.scheduler import SCHEDULER_THREAD
from siren_local.stepfunctions import execution_threads

LOOK_INTERVAL_S = 0.05


def wait_for(
    live_threads: Callable[[], list[threading.Thread]],
    deadline: float,
    before_each_look: Callable[[], object] | None = None,
) -> list[threading.Thread]:
    """Wait until ``live_threads()`` is empty or ``deadline`` passes; returns those still alive."""
    while True:
        if before_each_look is not None:
            before_each_look()
        alive = live_threads()
        remaining = deadline - time.monotonic()
        if not alive or remaining <= 0:
            return alive
        alive[0].join(min(remaining, LOOK_INTERVAL_S))


def background_threads() -> list[threading.Thread]:
    """Every live thread of the embedded local AWS in this process, whichever runtime started it: Step Functions
    runs (moto's, named or not), stream workers, asynchronous invocations, schedulers, servers and connections."""
    prefixes = (
        STREAM_THREAD_PREFIX,
        ASYNC_THREAD_PREFIX,
        SCHEDULER_THREAD,
        EVALUATOR_THREAD,
        SERVER_THREAD,
        REQUEST_THREAD_PREFIX,
    )
    named = [thread for thread in threading.enumerate() if thread.name.startswith(prefixes)]
    return list(dict.fromkeys(execution_threads() + named))


def thread_stacks(threads: list[threading.Thread]) -> str:
    """Where each thread is now: what a thread that would not stop is waiting on."""
    frames = sys._current_frames()
    return "\n".join(
        f"--- {thread.name}\n" + "".join(traceback.format_stack(frames[thread.ident])[-12:])
        for thread in threads
        if thread.ident in frames
    )
