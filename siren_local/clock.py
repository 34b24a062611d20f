"""The local time scale: ``--time-scale N`` makes every wait N times shorter, for demos and drills.

It applies to Step Functions Wait states, task timeouts and heartbeats, retry intervals, and the in-process
Lambda runtime's asynchronous retries. Timestamps are never shifted: only waiting is shortened.
"""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()
_scale = 1.0


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


def scaled_sleep(seconds: float) -> None:
    time.sleep(scaled(seconds))
