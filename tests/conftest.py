"""Fixtures: the synthesized assembly, and the embedded local AWS in both transports.

moto's backends are process-wide, so one runtime runs at a time; each fixture stops (and so resets) its own.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# No deadlines: these machines are noisy, and a test's speed is not what it asserts (bench measures speed).
settings.register_profile("siren", deadline=None)
settings.load_profile("siren")

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Siren")

# Powertools binds its log stream to sys.stdout when the logger is made; make it now, so handler logs never
# land in a CliRunner's captured output when a handler first runs inside a CLI test.
import siren.observability  # noqa: F401, E402

EVENTS = Path(__file__).parent / "events"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def siren_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from infra.app import synthesize

    return Path(synthesize(tmp_path_factory.mktemp("cdk.out")).directory)


@pytest.fixture(scope="session")
def probe_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.fixtures.probe_stack import synthesize_probe

    return synthesize_probe(tmp_path_factory.mktemp("probe.out"))


def _siren_over_http(siren_assembly: Path, time_scale: float) -> Iterator[object]:
    from siren_local.runtime import LocalAws

    with LocalAws.over_http(port=free_port(), time_scale=time_scale) as runtime:
        runtime.deploy_siren(siren_assembly)
        yield runtime


@pytest.fixture
def local_http(siren_assembly: Path) -> Iterator[object]:
    """The embedded local AWS over HTTP with the Siren stack deployed (time scale 60: escalations that incidents
    start run in the background at a pace that does not swamp the test's own work on a 2-core machine)."""
    yield from _siren_over_http(siren_assembly, 60)


@pytest.fixture
def local_http_fast(siren_assembly: Path) -> Iterator[object]:
    """The same at time scale 600: a 5-minute escalation level takes half a second (escalation tests)."""
    yield from _siren_over_http(siren_assembly, 600)


@pytest.fixture
def local_inprocess(siren_assembly: Path) -> Iterator[object]:
    """The embedded local AWS in-process (moto's interception) with the Siren stack deployed."""
    from siren_local.runtime import LocalAws

    with LocalAws.in_process(time_scale=600) as runtime:
        runtime.deploy_siren(siren_assembly)
        yield runtime


@pytest.fixture
def bare_http() -> Iterator[object]:
    """The embedded local AWS over HTTP with nothing deployed."""
    from siren_local.runtime import LocalAws

    with LocalAws.over_http(port=free_port(), time_scale=600) as runtime:
        yield runtime


@pytest.fixture
def bare_inprocess() -> Iterator[object]:
    from siren_local.runtime import LocalAws

    with LocalAws.in_process(time_scale=600) as runtime:
        yield runtime
