"""Game-day drills on the embedded local AWS: both shipped scenarios run through the deployed pipeline in drill
mode and print a passing scorecard; drill incidents stay off the status page and out of the reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.test_cli_incidents import ROOT

pytestmark = pytest.mark.e2e


def gameday(runtime, scenario: str, *extra: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "AWS_ENDPOINT_URL": runtime.endpoint_url, "COLUMNS": "160"}
    command = [sys.executable, "-m", "siren_cli.main", "gameday", "run", scenario, "--time-scale", "60", *extra]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)


@pytest.mark.parametrize(("scenario", "levels"), [("search-degraded", 1), ("checkout-outage", 2)])
def test_shipped_scenario_runs_in_drill_mode_and_scores(local_http, monkeypatch, scenario, levels):
    result = gameday(local_http, scenario, "--json")
    # Exit 0 (every expectation met) or 1 (one missed, e.g. a slow machine at x60): the scorecard is printed.
    assert result.returncode in (0, 1), result.stdout + result.stderr
    card = json.loads(result.stdout[result.stdout.index("{\n") :])
    assert card["scenario"] == scenario and card["levels_reached"] == levels and card["failures"] == 0
    assert card["acknowledged_by"] in {"alice", "bob", "carol", "dave", "erin", "frank"}
    assert card["pages"] >= 1 and card["first_page_seconds"] is not None
    # Counted, not timed: the checks that do not depend on this machine's speed pass.
    passed = {check["name"]: check["passed"] for check in card["checks"]}
    assert passed["levels_reached"] and passed["failures"]

    # The drill incident is marked, and it is not public and not in the figures.
    from siren.adapters.dynamodb import dynamo_store
    from siren.app.reports import Reports
    from siren.config import load_config
    from siren.domain.reports import Period

    monkeypatch.setenv("AWS_ENDPOINT_URL", local_http.endpoint_url)
    stores = dynamo_store(local_http.stacks["Siren"].outputs["IncidentsTableName"])
    now = datetime.now(UTC)
    (drill,) = list(stores.incidents.iter_opened_between(now - timedelta(hours=1), now + timedelta(minutes=1)))
    assert drill.drill and drill.acknowledged_at is not None
    base = local_http.info()["status_page_url"].removesuffix("index.html")
    try:
        with urllib.request.urlopen(base + "api/v2/incidents.json", timeout=30) as response:
            assert json.loads(response.read())["incidents"] == []
    except urllib.error.HTTPError as error:
        assert error.code == 404  # nothing published at all is fine too
    report = Reports(stores.incidents, stores.action_items, load_config(Path(ROOT / "siren.yaml"))).build(
        Period(now - timedelta(hours=1), now)
    )
    assert report.report.current.incidents == 0 and report.report.current.pages_total == 0


def test_a_bad_scenario_is_a_clear_error(local_http, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad Name\nparticipants: [nobody]\nsteps: []\n")
    result = gameday(local_http, str(bad))
    assert result.returncode == 2 and "name must be lowercase" in result.stderr
    result = gameday(local_http, "no-such-drill")
    assert result.returncode == 2 and "checkout-outage" in result.stderr
