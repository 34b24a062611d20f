"""Fixtures: the synthesized assembly, and the embedded local AWS in both transports.

moto's backends are process-wide, so one runtime runs at a time; each fixture stops (and so resets) its own.
"""

from __future__ import annotations

import fcntl
import gc
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# No deadlines: these machines are noisy, and a test's speed is not what it asserts (bench measures speed).
# Derandomized: the same examples on every run, so that two runs of the suite give the same result; a failing
# example prints its reproduction. (HYPOTHESIS_PROFILE=explore draws new examples, to look for new bugs.)
settings.register_profile("siren", deadline=None, derandomize=True, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "siren"))

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Siren")

# Powertools binds its log stream to sys.stdout when the logger is made; make it now, so handler logs never
# land in a CliRunner's captured output when a handler first runs inside a CLI test.
import siren.observability  # noqa: F401, E402
from tests.support import release_freed_memory  # noqa: E402

EVENTS = Path(__file__).parent / "events"
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Every test fails if anything it started still runs after it (tests/leak_guard.py).
pytest_plugins = ["tests.leak_guard", "pytester"]


# Tiers, in the order they run: those that need no runtime first, so a broken unit fails in seconds.
TIERS = ("unit", "infra", "local", "integration", "e2e", "faults", "browser")


def tier_of(item: pytest.Item) -> int:
    parts = item.path.relative_to(Path(__file__).parent).parts
    return TIERS.index(parts[0]) if parts and parts[0] in TIERS else len(TIERS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=tier_of)  # stable: within a tier, files and tests keep their order


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Where `make test` keeps what its pytest runs share (the synthesized assemblies): a directory of its own.
SHARED_DIR_VARIABLE = "SIREN_TEST_SHARED_DIR"
SYNTHESIZE_BOTH = (
    "import sys; from pathlib import Path; from infra.app import synthesize; "
    "from tests.fixtures.probe_stack import synthesize_probe; "
    "base = Path(sys.argv[1]); synthesize(base / 'cdk.out'); synthesize_probe(base / 'probe.out')"
)


@pytest.fixture(scope="session")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Siren's cloud assembly (``cdk.out``) and the runtime probe's (``probe.out``), synthesized once per test run
    and shared by every worker process (and by the runs of one `make test`, through $SIREN_TEST_SHARED_DIR).

    The first process to take the lock synthesizes both, in one subprocess: the CDK's node process (several
    hundred MB) then ends with it instead of staying resident in every worker, and it runs at the start, while
    the workers are still small. The others wait and read.
    """
    shared = os.environ.get(SHARED_DIR_VARIABLE)
    if shared:
        base = Path(shared)
    else:
        base = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            base = base.parent  # .../pytest-N/popen-gwK: the parent is this run's, shared by its workers
    base.mkdir(parents=True, exist_ok=True)
    done = base / "assemblies.done"
    with (base / "assemblies.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            finished = subprocess.run(
                [sys.executable, "-c", SYNTHESIZE_BOTH, str(base)],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if finished.returncode != 0:
                pytest.fail(f"synthesis failed ({finished.returncode}):\n{finished.stdout}{finished.stderr}")
            done.touch()
    return base


@pytest.fixture(scope="session")
def siren_assembly(assemblies: Path) -> Path:
    return assemblies / "cdk.out"


@pytest.fixture(scope="session")
def probe_assembly(assemblies: Path) -> Path:
    return assemblies / "probe.out"


# IAM is enforced over HTTP (the e2e tier, as `siren local up`): every function calls AWS as its own role.
# SIREN_TEST_ENFORCE_IAM=0 turns it off (to measure what it costs, or to tell a grant from a bug).
ENFORCE_IAM_VARIABLE = "SIREN_TEST_ENFORCE_IAM"


def running_runtime(
    transport: str,
    time_scale: float,
    assembly: Path | None = None,
    canary: bool = False,
    enforce_iam: bool | None = None,
    expect_access_denied: bool = False,
) -> Iterator[Any]:
    """A started embedded local AWS (with Siren deployed from ``assembly``, if given), stopped after the test.

    Siren's canary is paused unless ``canary``: each of its runs is an incident of its own (every 5 scaled
    minutes), which tests of other behaviour would see; tests/e2e/test_canary.py runs it.

    Over HTTP IAM is enforced (unless $SIREN_TEST_ENFORCE_IAM is 0), and a request refused by IAM fails the test
    at teardown unless ``expect_access_denied``.

    Over HTTP it listens on a free port; another worker process may take that port between the probe and the
    bind, so a port in use is retried on another. After it stops, the memory it freed goes back to the system:
    two test workers run side by side, and every deployed stack leaves the allocator's heap in pieces.
    """
    from siren_local.runtime import LocalAws, PortInUseError

    freeze_what_outlives_runtimes()
    if enforce_iam is None:
        enforce_iam = transport == "http" and os.environ.get(ENFORCE_IAM_VARIABLE, "1") != "0"
    for attempt in range(3):
        runtime = (
            LocalAws.over_http(port=free_port(), time_scale=time_scale, enforce_iam=enforce_iam)
            if (transport == "http")
            else LocalAws.in_process(time_scale=time_scale, enforce_iam=enforce_iam)
        )
        try:
            runtime.start()
            break
        except PortInUseError:
            if attempt == 2:
                raise
    try:
        if assembly is not None:
            runtime.deploy_siren(assembly, canary=canary)
        yield runtime
    finally:
        unstopped = runtime.stop()
        release_freed_memory()
        if unstopped:
            pytest.fail(f"the runtime could not stop: {', '.join(unstopped)}", pytrace=False)
        # A refusal nobody expected is a grant the stack lacks (or a case siren_local/iam.py judges wrongly): it
        # would fail on AWS too, even where the test's own assertions did not notice (a retried background call).
        denied = runtime.iam.denials if runtime.iam is not None else []
        if denied and not expect_access_denied:
            pytest.fail(
                "IAM refused requests of the deployed stack:\n"
                + "\n".join(f"  {d.principal} may not {d.action} on {d.resource or '(unnamed)'}" for d in denied),
                pytrace=False,
            )


_runtimes_begun = 0  # in this process


def freeze_what_outlives_runtimes() -> None:
    """Before this process's second runtime, move what is left after the first into the collector's permanent
    generation (``gc.freeze``), once.

    By then everything a runtime imports is imported and the first runtime is gone (collected just before):
    what is left (modules, botocore's models, the suite's own objects) lives as long as the process. Frozen, it is
    no longer traversed by the full collection after each runtime (release_freed_memory: measured 0.3-0.45 s ->
    about 0.1 s) nor by Python's own full collections meanwhile. Objects made later are collected as before.
    """
    global _runtimes_begun
    _runtimes_begun += 1
    if _runtimes_begun == 2:
        gc.collect()
        gc.freeze()


@pytest.fixture
def local_http(siren_assembly: Path) -> Iterator[Any]:
    """The embedded local AWS over HTTP with the Siren stack deployed (time scale 60: escalations that incidents
    start run in the background at a pace that does not swamp the test's own work on a 2-core machine)."""
    yield from running_runtime("http", 60, siren_assembly)


@pytest.fixture(scope="module")
def local_http_shared(siren_assembly: Path) -> Iterator[Any]:
    """One runtime like ``local_http`` for all the tests of a module that only read: each must leave it as it
    found it (a refused request, a lookup), which is what such tests assert anyway."""
    yield from running_runtime("http", 60, siren_assembly)


@pytest.fixture(scope="module")
def local_http_canary(siren_assembly: Path) -> Iterator[Any]:
    """Like ``local_http``, with Siren's canary running (every 5 scaled minutes: 5 seconds); one per module, so
    its tests run in order, each leaving what the next expects (tests/e2e/test_canary.py)."""
    yield from running_runtime("http", 60, siren_assembly, canary=True)


@pytest.fixture
def local_http_fast(siren_assembly: Path) -> Iterator[Any]:
    """The same at time scale 600: a 5-minute escalation level takes half a second (escalation tests)."""
    yield from running_runtime("http", 600, siren_assembly)


@pytest.fixture
def local_inprocess(siren_assembly: Path) -> Iterator[Any]:
    """The embedded local AWS in-process (moto's interception) with the Siren stack deployed."""
    yield from running_runtime("in-process", 600, siren_assembly)


@pytest.fixture
def bare_http() -> Iterator[Any]:
    """The embedded local AWS over HTTP with nothing deployed."""
    yield from running_runtime("http", 600)


@pytest.fixture
def bare_inprocess() -> Iterator[Any]:
    """The embedded local AWS in-process with nothing deployed."""
    yield from running_runtime("in-process", 600)
