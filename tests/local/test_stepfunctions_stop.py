"""A StopExecution that arrives before moto's run thread has made its environment still stops the run.

moto's ExecutionWorker.stop read ``self.env`` at once; the run's thread makes it only after StartExecution has
answered, so on a loaded machine a quick stop failed with an internal error and the run went on (seen once in the
suite: the run was never ABORTED). The embedded runtime's stop waits for the environment."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from siren_local.stepfunctions import _stop_once_evaluating


class RecordingEnvironment:
    def __init__(self) -> None:
        self.stops: list[dict[str, Any]] = []

    def set_stop(self, **stop: Any) -> None:
        self.stops.append(stop)


class SlowToStartWorker:
    env: RecordingEnvironment | None = None


def test_a_stop_before_the_run_has_its_environment_waits_for_it_and_stops_the_run():
    # GIVEN a run whose thread makes its environment a moment after the stop arrives
    worker = SlowToStartWorker()
    environment = RecordingEnvironment()

    def start_evaluating() -> None:
        time.sleep(0.2)
        worker.env = environment

    thread = threading.Thread(target=start_evaluating)
    thread.start()
    # WHEN it is stopped
    _stop_once_evaluating(worker, datetime.now(UTC), "ByHand", "an operator")
    thread.join()
    # THEN the stop reaches the run
    assert [stop["error"] for stop in environment.stops] == ["ByHand"]
