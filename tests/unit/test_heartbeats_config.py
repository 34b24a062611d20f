"""``heartbeats:`` in siren.yaml: what loads, every problem as file:line: field: message, and the JSON round trip.

And the webhook's heartbeat route (``POST /heartbeat/<name>``): refusals, and a ping reaching the use case.
"""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from siren.app.intake import Intake
from siren.config import ConfigError, config_from_json, load_config, load_config_text
from siren.domain.policy import Heartbeat, SirenConfig

SHIPPED = Path(__file__).resolve().parents[2] / "siren.yaml"
SERVICES = "services: {backup: {}, search: {}}\n"


def load(text: str) -> SirenConfig:
    return load_config_text(SERVICES + textwrap.dedent(text), "siren.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(text)
    return [str(problem) for problem in raised.value.problems]


def test_heartbeats_load_in_file_order_with_grace_and_severity_optional():
    config = load("""\
        heartbeats:
          - {name: nightly-backup, service: backup, interval_minutes: 1440, grace_minutes: 60, severity: SEV2}
          - {name: reindex_5m, service: search, interval_minutes: 5}
        """)

    assert list(config.heartbeats) == ["nightly-backup", "reindex_5m"]
    assert config.heartbeats["nightly-backup"] == Heartbeat("nightly-backup", "backup", 1440, 60, "SEV2")
    quick = config.heartbeats["reindex_5m"]
    assert (quick.grace_minutes, quick.severity) == (0, None)
    assert (quick.interval, quick.grace) == (timedelta(minutes=5), timedelta(0))
    assert quick.dedup_key == "heartbeat:reindex_5m"
    assert load("").heartbeats == {} and load("heartbeats:\n").heartbeats == {}


def test_heartbeat_problems_name_the_line_and_field():
    found = problems("""\
        heartbeats:
          - name: Nightly/Backup
            service: bakup
            interval_minutes: 0
            grace_minutes: -5
            severity: sev2
            colour: red
          - {name: ok, service: backup, interval_minutes: "1h"}
          - {service: backup}
          - just-a-name
        """)

    assert found == [
        "siren.yaml:3: heartbeats[0].name: heartbeat names are part of the ping URL: up to 64 lowercase letters,"
        ' digits, "-" and "_", starting with a letter or digit (got "Nightly/Backup")',
        'siren.yaml:4: heartbeats[0].service: unknown service "bakup" (did you mean "backup"?)',
        "siren.yaml:5: heartbeats[0].interval_minutes: must be at least 1 (got 0)",
        "siren.yaml:6: heartbeats[0].grace_minutes: must be at least 0 (got -5)",
        'siren.yaml:7: heartbeats[0].severity: must be one of SEV1, SEV2, SEV3, SEV4, SEV5 (got "sev2"; did you'
        ' mean "SEV2"?)',
        "siren.yaml:8: heartbeats[0].colour: unknown key (known keys: name, service, interval_minutes,"
        " grace_minutes, severity)",
        'siren.yaml:9: heartbeats[1].interval_minutes: must be a whole number (got "1h")',
        "siren.yaml:10: heartbeats[2].name: required: the name in the ping URL",
        "siren.yaml:10: heartbeats[2].interval_minutes: required: how often the job pings, in minutes",
        'siren.yaml:11: heartbeats[3]: must be a mapping (got "just-a-name")',
    ]


def test_heartbeat_names_are_unique_and_services_must_be_configured():
    found = problems("""\
        heartbeats:
          - {name: backup, service: backup, interval_minutes: 60}
          - {name: backup, service: default, interval_minutes: 60}
        heartbeats_extra: 1
        """)

    assert 'siren.yaml:4: heartbeats[1].name: duplicate heartbeat "backup" (first at line 3)' in found
    assert 'siren.yaml:4: heartbeats[1].service: unknown service "default" (not in services)' in found
    assert problems("heartbeats: {backup: {}}\n") == ["siren.yaml:2: heartbeats: must be a list (got a mapping)"]


def test_heartbeats_round_trip_through_the_json_shipped_to_lambda():
    config = load("""\
        heartbeats:
          - {name: b, service: backup, interval_minutes: 10, severity: SEV1}
          - {name: a, service: search, interval_minutes: 1440, grace_minutes: 30}
        """)
    shipped = json.loads(json.dumps(config.to_json(), sort_keys=True))

    assert shipped["heartbeats"] == [
        {"name": "b", "service": "backup", "interval_minutes": 10, "grace_minutes": 0, "severity": "SEV1"},
        {"name": "a", "service": "search", "interval_minutes": 1440, "grace_minutes": 30},
    ]
    again = config_from_json(shipped)
    assert again == config and list(again.heartbeats) == ["b", "a"]

    shipped["heartbeats"][0]["service"] = "nowhere"
    with pytest.raises(ConfigError) as raised:
        config_from_json(shipped, "/opt/siren-config/config.json")
    assert str(raised.value) == (
        '/opt/siren-config/config.json: heartbeats[0].service: unknown service "nowhere" (not in services)'
    )


def test_the_shipped_config_has_an_example_heartbeat():
    shipped = load_config(SHIPPED)
    assert shipped.heartbeats, "siren.yaml ships one example heartbeat"
    for heartbeat in shipped.heartbeats.values():
        assert heartbeat.service in shipped.services


# ---- the webhook route ----------------------------------------------------------------------------------


class FakeHeartbeats:
    """Records the pings it was given (the use case itself is tested end to end)."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.pinged: list[str] = []

    def known(self, name: str) -> bool:
        return name in self.names

    def ping(self, name: str) -> Any:
        self.pinged.append(name)
        return type("View", (), {"to_json": lambda self: {"name": name, "status": "up"}})()


def request(path: str, token: str | None = "secret", method: str = "POST") -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return {"rawPath": path, "requestContext": {"http": {"method": method}}, "headers": headers, "body": ""}


def answer(intake: Intake, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = intake.webhook(event)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def heartbeats() -> FakeHeartbeats:
    return FakeHeartbeats({"nightly-backup"})


@pytest.fixture
def intake(heartbeats: FakeHeartbeats) -> Intake:
    # Neither the ingestor nor the dead letters are reached by a heartbeat ping.
    return Intake(None, None, webhook_token=lambda: "secret", heartbeats=heartbeats)  # type: ignore[arg-type]


def test_a_ping_with_the_token_reaches_the_heartbeat(intake: Intake, heartbeats: FakeHeartbeats):
    assert answer(intake, request("/heartbeat/nightly-backup")) == (200, {"name": "nightly-backup", "status": "up"})
    assert heartbeats.pinged == ["nightly-backup"]


@pytest.mark.parametrize(
    ("event", "status", "error"),
    [
        (request("/heartbeat/nightly-backup", token=None), 401, "missing bearer token"),
        (request("/heartbeat/nightly-backup", token="wrong"), 401, "invalid token"),
        (request("/heartbeat/nightly-backup", method="GET"), 405, "use POST, not GET"),
        (request("/heartbeat/nightly"), 404, "unknown heartbeat 'nightly'"),
        (request("/heartbeat"), 404, "no heartbeat named: POST to /heartbeat/<name>"),
        (request("/heartbeat/"), 404, "no heartbeat named"),
    ],
)
def test_refused_pings_say_why_and_record_nothing(intake, heartbeats, event, status, error):
    code, body = answer(intake, event)
    assert code == status and error in body["error"]
    assert heartbeats.pinged == []


def test_without_heartbeats_wired_every_ping_is_unknown():
    bare = Intake(None, None, webhook_token=lambda: "secret")  # type: ignore[arg-type]
    code, body = answer(bare, request("/heartbeat/nightly-backup"))
    assert code == 404 and "unknown heartbeat" in body["error"]
