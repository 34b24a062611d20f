"""Fault figures: how many of the fault matrix's scenarios Siren survives, and how many pages were lost in them.

Runs the matrix (tests/faults, and the forged "Incident Acknowledged" of tests/e2e) through pytest in a process of
its own, with this module as a pytest plugin:

- ``faults_survived``: scenarios that passed, of all that ran (a scenario is one test: it injects a fault through
  the embedded local AWS and asserts who was paged, in what order, and what the timeline says).
- ``pages_lost``: pages the incidents' timelines say reached a person (``paged``, by sms, voice or email) that no
  provider ever sent (nothing to that address about that incident in the outbox), counted in every scenario before
  it cleans up. A page that failed and is on the timeline as failed is not lost: it is told. Must be 0.

Run alone: ``python -m bench.faults`` prints the two figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import PROJECT_ROOT, Report

MATRIX = ["tests/faults", "tests/e2e/test_forged_lifecycle_events.py"]
RESULTS_VARIABLE = "SIREN_BENCH_FAULTS_RESULTS"
PAGE_CHANNELS = ("sms", "voice", "email")


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as scratch:
        results = Path(scratch) / "results.json"
        env = {**os.environ, RESULTS_VARIABLE: str(results)}
        finished = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "bench.faults", *MATRIX],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not results.exists():
            raise SystemExit(f"fault bench: the matrix did not run ({finished.returncode}):\n{finished.stdout[-3000:]}")
        outcome = json.loads(results.read_text())
    scenarios: dict[str, str] = outcome["scenarios"]
    survived = [name for name, result in scenarios.items() if result == "passed"]
    failed = sorted(set(scenarios) - set(survived))
    report.add(
        "faults_survived",
        len(survived),
        "scenarios",
        f"of {len(scenarios)}" + (f"; not survived: {', '.join(failed)}" if failed else ""),
    )
    report.add(
        "pages_lost",
        outcome["pages_lost"],
        "pages",
        "timeline says paged, no provider sent it; must be 0"
        + (f" ({'; '.join(outcome['lost'][:3])})" if outcome["lost"] else ""),
    )


# -- the pytest plugin (loaded in the matrix's process with -p bench.faults) ----------------------------------------
_scenarios: dict[str, str] = {}
_lost: list[str] = []


def lost_pages(runtime: Any) -> list[str]:
    """Pages a timeline of ``runtime`` says were sent that no provider sent: "<incident> <user> <channel>" each."""
    from siren.config import load_config
    from tests.e2e.test_ingest_paths import incidents
    from tests.faults.support import timeline

    config = load_config(PROJECT_ROOT / "siren.yaml")
    claimed = []
    for incident in incidents(runtime):
        incident_id = incident["pk"].removeprefix("INC#")
        for entry in timeline(runtime, incident_id):
            channel, user = entry.data.get("channel"), entry.user
            if entry.kind != "paged" or channel not in PAGE_CHANNELS or entry.data.get("dry_run"):
                continue
            if user is None or user not in config.users:
                continue
            person = config.users[user]
            claimed.append(
                (incident_id, incident["title"], user, channel, person.email if channel == "email" else person.phone)
            )
    # Read after the timelines: a send is in the outbox before its entry is written, so every page claimed above is
    # in this outbox if it went out (escalations still run while this looks).
    outbox = runtime.outbox_json()
    lost = []
    for incident_id, title, user, channel, address in claimed:
        if not any(_went_out(message, channel, address, (incident_id, title)) for message in outbox):
            lost.append(f"{incident_id} {user} {channel}")
    return sorted(set(lost))


def _went_out(message: dict[str, Any], channel: str, address: str | None, about: tuple[str, str]) -> bool:
    """Whether the provider sent this page: the channel, the address, and the incident's id (texts, email subjects)
    or title (calls say the title)."""
    text = f"{message.get('subject') or ''} {message['body']}"
    return message["channel"] == channel and message["to"] == address and any(word in text for word in about)


def pytest_configure(config: Any) -> None:
    """Count lost pages in every scenario, just before it cleans up (tests/faults/conftest.py calls
    ``support.quiesce`` after each)."""
    from tests.faults import support

    original = support.quiesce

    def counting_quiesce(runtime: Any) -> None:
        scenario = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
        _lost.extend(f"{scenario}: {page}" for page in lost_pages(runtime) if not any(page in seen for seen in _lost))
        original(runtime)

    support.quiesce = counting_quiesce


def pytest_runtest_logreport(report: Any) -> None:
    name = report.nodeid.rsplit("::", 1)[-1]
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _scenarios[name] = "passed" if report.outcome == "passed" else "failed"
    elif report.when == "teardown" and report.outcome != "passed":
        _scenarios[name] = "failed"


def pytest_sessionfinish(session: Any) -> None:
    target = os.environ.get(RESULTS_VARIABLE)
    if target:
        Path(target).write_text(json.dumps({"scenarios": _scenarios, "pages_lost": len(_lost), "lost": _lost}))


if __name__ == "__main__":
    alone = Report()
    run(alone)
    for figure in alone.figures:
        print(f"{figure.name}: {figure.value:g} {figure.unit} ({figure.note})")
