"""One embedded local AWS for the whole fault matrix (per test worker), with Siren deployed at time scale 600: a
5-minute escalation level lasts half a second. A scenario that needs another pace for a moment (a hang or an outage
whose wall-clock window must outlast a busy machine's latencies) sets the time scale and puts it back.

Every scenario leaves the runtime quiet for the next (support.quiesce): no fault, its alarms back to OK, its
incidents resolved, no escalation running. Sharing one runtime spares a deploy and every function's cold start per
module, which is most of the matrix's CPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import running_runtime
from tests.faults import support


@pytest.fixture(scope="package")
def shared(siren_assembly: Path) -> Iterator[Any]:
    yield from running_runtime("http", support.SCALE, siren_assembly)


@pytest.fixture
def runtime(shared: Any) -> Iterator[Any]:
    yield shared
    support.quiesce(shared)  # looked up at teardown: the fault bench counts lost pages by wrapping it
