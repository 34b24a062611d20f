"""The leak guard, a pytest plugin (tests/conftest.py loads it): a test after which something it started still
runs fails, naming it.

Background work that outlives its test is how the suite once became slow (Step Functions runs of earlier tests kept
invoking functions and starved later ones), and it hides real faults: a runtime that cannot stop what it started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

# How long the guard lets a finishing thread finish: stop() has already waited for everything it started.
LEAK_GRACE_S = 1.0


def leaked_work(threads_before: set[threading.Thread], runs_before: set[str], runtimes_before: set[int]) -> list[str]:
    """What the embedded local AWS (or the test) started and left running: new non-daemon threads, new runtime
    threads (Step Functions runs, stream, scheduler and invocation workers, servers), new running executions.

    A runtime that ran before the test and still runs (a shared fixture's) keeps its own threads: its fixture
    stops it and checks that nothing remains.
    """
    from siren_local.runtime import background_threads, running_runtimes
    from siren_local.stepfunctions import running_executions

    deadline = time.monotonic() + LEAK_GRACE_S
    while True:
        running = running_runtimes()
        shared = bool(running) and running <= runtimes_before
        runtime_threads = [] if shared else background_threads()
        threads = [
            thread
            for thread in dict.fromkeys(runtime_threads + [t for t in threading.enumerate() if not t.daemon])
            if thread not in threads_before and thread.is_alive()
        ]
        runs = sorted(set(running_executions()) - runs_before)
        remaining = deadline - time.monotonic()
        if not (threads or runs) or remaining <= 0:
            break
        if threads:
            threads[0].join(min(remaining, 0.05))
        else:
            time.sleep(min(remaining, 0.05))
    return [f"thread {thread.name!r}" for thread in threads] + [f"running execution {arn}" for arn in runs]


@pytest.fixture(autouse=True)
def nothing_outlives_the_test() -> Iterator[None]:
    """Fails the test after which something it started still runs, naming it (see :func:`leaked_work`)."""
    from siren_local.runtime import running_runtimes
    from siren_local.stepfunctions import running_executions

    threads_before = set(threading.enumerate())
    runtimes_before = running_runtimes()
    runs_before = set(running_executions())
    yield
    leaks = leaked_work(threads_before, runs_before, runtimes_before)
    if leaks:
        pytest.fail("still running after the test: " + "; ".join(leaks), pytrace=False)
