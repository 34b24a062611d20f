"""The local time scale: ``--time-scale N`` makes every wait N times shorter, for demos and drills.

It applies to Step Functions Wait states, task timeouts and heartbeats, retry intervals, and the in-process
Lambda runtime's asynchronous retries. Timestamps are never shifted: only waiting is shortened.

Every such wait is also cut short when the runtime stops (:func:`begin_stopping`): a retry interval or a Lambda
retry backoff must not keep a worker thread alive after the runtime that started it has gone.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_scale = 1.0
_stopping = threading.Event()


def time_scale() -> float:
    return _scale


def set_time_scale(scale: float) -> None:
    if not scale > 0:
        raise ValueError(f"time scale must be a positive number, got {scale!r}")
    global _scale
    with _lock:
        _scale = float(scale)


def scaled(seconds: float) -> float:
    """``seconds`` of AWS time as seconds of local wall-clock time."""
    return seconds / _scale


def scaled_sleep(seconds: float) -> bool:
    """Wait ``seconds`` of AWS time; False if the runtime began stopping meanwhile (the wait was cut short)."""
    return not _stopping.wait(scaled(seconds))


def begin_stopping() -> None:
    """The runtime is stopping: every :func:`scaled_sleep`, now or later, returns at once."""
    _stopping.set()


def end_stopping() -> None:
    """A runtime starts: waits wait again."""
    _stopping.clear()
