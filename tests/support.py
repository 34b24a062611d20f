"""Small helpers shared by the runtime tiers' tests."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# The runtime probe's stack (tests/fixtures/probe_stack.py), named here so that tests need not load the CDK.
PROBE_STACK = "SirenRuntimeProbe"


def wait_for(predicate: Callable[[], T], timeout: float = 60.0, interval: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout`` seconds.

    A generous timeout is a bound against hangs, not a speed assertion: it never decides a passing test.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def release_freed_memory() -> None:
    """Collect garbage and hand the allocator's free pages back to the system (glibc's malloc_trim; elsewhere a
    no-op). Python frees memory to its allocator, which keeps it: a worker that ran many runtimes would otherwise
    hold the high-water mark of all of them."""
    gc.collect()
    library = ctypes.util.find_library("c")
    if library:
        trim = getattr(ctypes.CDLL(library), "malloc_trim", None)
        if trim is not None:
            trim(0)
