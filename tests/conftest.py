"""Fixtures: the synthesized assembly, and the embedded local AWS in both transports.

moto's backends are process-wide, so one runtime runs at a time; each fixture stops (and so resets) its own.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# No deadlines: these machines are noisy, and a test's speed is not what it asserts (bench measures speed).
# Derandomized: the same examples on every run, so that two runs of the suite give the same result; a failing
# example prints its reproduction. (HYPOTHESIS_PROFILE=explore draws new examples, to look for new bugs.)
settings.register_profile("siren", deadline=None, derandomize=True, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "siren"))

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Siren")

# Powertools binds its log stream to sys.stdout when the logger is made; make it now, so handler logs never
# land in a CliRunner's captured output when a handler first runs inside a CLI test.
import siren.observability  # noqa: F401, E402

EVENTS = Path(__file__).parent / "events"
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Every test fails if anything it started still runs after it (tests/leak_guard.py).
pytest_plugins = ["tests.leak_guard", "pytester"]


# Tiers, in the order they run: those that need no runtime first, so a broken unit fails in seconds.
TIERS = ("unit", "infra", "local", "integration", "e2e", "browser")


def tier_of(item: pytest.Item) -> int:
    parts = item.path.relative_to(Path(__file__).parent).parts
    return TIERS.index(parts[0]) if parts and parts[0] in TIERS else len(TIERS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=tier_of)  # stable: within a tier, files and tests keep their order


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def synthesized_once(tmp_path_factory: pytest.TempPathFactory, name: str, synthesize: str) -> Path:
    """A cloud assembly, synthesized once per test run and shared by every worker process.

    The first worker to take the lock synthesizes; the others wait and read it. Synthesis runs in a subprocess:
    the CDK's node process (about 800 MB) then ends with it instead of staying resident in every worker for the
    whole run. ``synthesize`` is Python code that writes the assembly into the directory given as ``sys.argv[1]``.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # .../pytest-N/popen-gwK: the parent is this run's, shared by its workers
    target = base / name
    with (base / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "manifest.json").exists():
            done = subprocess.run(
                [sys.executable, "-c", synthesize, str(target)],
                cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                pytest.fail(f"synthesizing {name} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return target


@pytest.fixture(scope="session")
def siren_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    code = "import sys; from pathlib import Path; from infra.app import synthesize; synthesize(Path(sys.argv[1]))"
    return synthesized_once(tmp_path_factory, "cdk.out", code)


@pytest.fixture(scope="session")
def probe_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    code = (
        "import sys; from pathlib import Path; from tests.fixtures.probe_stack import synthesize_probe; "
        "synthesize_probe(Path(sys.argv[1]))"
    )
    return synthesized_once(tmp_path_factory, "probe.out", code)


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
