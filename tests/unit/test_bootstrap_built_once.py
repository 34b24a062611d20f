"""siren.bootstrap builds each use case once per container: a function's later invocations reuse what its first
one wired, a function with other settings (the embedded local AWS runs many in one process) gets its own, and
forget_built() drops them all. Counted by identity, and by how often the deployed configuration is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siren import bootstrap
from siren.config import load_config
from siren.settings import function_environment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def function_env(tmp_path: Path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(load_config(ROOT / "siren.yaml").to_json()))
    variables = {
        "TABLE_NAME": "incidents",
        "EVENT_BUS_NAME": "bus",
        "SIREN_CONFIG_PATH": str(config),
        "ESCALATION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:escalation",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: wiring makes no call
    }
    bootstrap.forget_built()
    yield variables
    bootstrap.forget_built()


def test_a_use_case_is_wired_once_per_settings(function_env, monkeypatch):
    reads = []
    from_json = bootstrap.SirenConfig.from_json
    monkeypatch.setattr(bootstrap.SirenConfig, "from_json", lambda data: reads.append(1) or from_json(data))

    with function_environment(function_env):
        first = bootstrap.reconciler()
        assert bootstrap.reconciler() is first
        events = bootstrap.escalation_events()
        assert bootstrap.escalation_events() is events
        status = bootstrap.status_page()
        assert bootstrap.status_page() is status
    assert len(reads) == 1  # the deployed configuration is read once, for every builder

    with function_environment({**function_env, "TABLE_NAME": "other"}):
        other = bootstrap.reconciler()
    assert other is not first

    bootstrap.forget_built()
    with function_environment(function_env):
        assert bootstrap.reconciler() is not first
        assert bootstrap.status_page() is not status
    assert len(reads) == 2
