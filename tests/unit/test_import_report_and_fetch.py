"""The unmappable report, the command's files, and fetching from the APIs (a local stub serving the fixtures)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from siren_cli.importers import opsgenie, pagerduty
from siren_cli.importers.common import JsonClient, render_yaml
from siren_cli.main import app

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"
AS_OF = datetime(2026, 3, 2, 5, tzinfo=UTC)


def _pd_user(user_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "name": user_id.title(), "email": f"{user_id}@odd.example", "time_zone": "UTC", **extra}


def _pd_layer(name: str, turn: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": name.upper(),
        "name": name,
        "start": "2026-01-05T09:00:00Z",
        "end": None,
        "rotation_virtual_start": "2026-01-05T09:00:00Z",
        "rotation_turn_length_seconds": turn,
        "users": [{"user": {"id": "ann", "type": "user_reference"}}],
        "restrictions": [],
        **extra,
    }


def test_every_feature_siren_cannot_say_is_reported_with_its_reason() -> None:
    """GIVEN a PagerDuty export made of what Siren lacks, THEN each is in the report, and the rest validates."""
    export = pagerduty.PagerDutyExport(
        users=[_pd_user("ann"), {"id": "ghost", "name": "Ghost"}],
        schedules=[
            {
                "id": "PODD",
                "name": "Odd",
                "time_zone": "UTC",
                "schedule_layers": [
                    _pd_layer("ninety minutes", 5400),
                    _pd_layer("later", 86400, start="2026-04-01T12:00:00Z"),
                    _pd_layer("until april", 86400, end="2026-04-01T00:00:00Z"),
                    _pd_layer("unknown person", 86400, users=[{"user": {"id": "PGONE", "summary": "Gone"}}]),
                ],
            }
        ],
        escalation_policies=[
            {
                "id": "PEP",
                "name": "Round robin",
                "num_loops": 0,
                "escalation_rules": [
                    {
                        "escalation_delay_in_minutes": 5,
                        "escalation_rule_assignment_strategy": {"type": "round_robin"},
                        "targets": [
                            {"id": "PODD", "type": "schedule_reference"},
                            {"id": "X", "type": "team_reference"},
                        ],
                    }
                ],
            }
        ],
        services=[{"id": "PS", "name": "Web", "escalation_policy": {"id": "PNONE", "summary": "Gone policy"}}],
    )
    imported = pagerduty.convert(export, AS_OF)
    found = {(item.kind, item.source, item.reason) for item in imported.report.items}

    def reported(kind: str, source: str, reason: str) -> bool:
        return any(k == kind and source in s and reason in r for k, s, r in found)

    assert reported("unmapped", "Ghost", "no phone and no email")
    assert reported("unmapped", 'layer "ninety minutes"', "Siren's rotations are whole hours or whole days")
    assert reported("approximated", 'layer "later"', "in the middle of a turn")
    assert reported("approximated", 'layer "until april"', "Siren's layers do not end")
    assert reported("unmapped", 'layer "unknown person"', "user Gone is not among the imported users")
    assert reported("approximated", "Round robin", "round robin")
    assert reported("unmapped", "Round robin", "a team target")
    assert reported("unmapped", 'service "Web"', "by severity")
    assert reported("unmapped", 'layer "unknown person"', "no participant Siren knows")
    assert len(found) == 9, sorted(found)
    config_text = render_yaml(imported)  # what could be said still validates
    assert "ninety" not in config_text


def test_opsgenie_overlaps_teams_and_none_are_reported() -> None:
    export = opsgenie.read_export(FIXTURES / "opsgenie-globex")
    schedule = export.schedules[0]
    restricted = schedule["rotations"][0]
    schedule["rotations"][0] = {**restricted, "timeRestriction": None}  # now it overlaps "Out of hours"
    schedule["rotations"][0]["participants"] = [
        *restricted["participants"],
        {"type": "none"},
        {"type": "team", "name": "SRE"},
    ]
    periods = export.timelines[schedule["id"]]["finalTimeline"]["rotations"]
    periods[0]["periods"].append({**periods[1]["periods"][0]})  # the vendor's timeline has two at once
    imported = opsgenie.convert(export, AS_OF)
    reasons = [item.reason for item in imported.report.items if item.source.startswith('schedule "SRE_schedule"')]
    assert any("rotations overlap" in reason for reason in reasons)
    assert any("a none participant" in reason for reason in reasons)
    assert any("a team participant (SRE)" in reason for reason in reasons)


def test_the_command_writes_the_sections_and_the_report_and_never_overwrites(tmp_path: Path) -> None:
    runner = CliRunner()
    output, report = tmp_path / "siren.yaml", tmp_path / "report.json"
    output.write_text("# the user's own\n")
    args = ["import", "pagerduty", "--from", str(FIXTURES / "pagerduty-acme"), "--output", str(output)]
    args += ["--report", str(report), "--as-of", "2026-03-02T00:00:00-05:00"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert output.read_text() == "# the user's own\n"
    done = runner.invoke(app, [*args, "--force"])
    assert done.exit_code == 0, done.output
    assert "primary-on-call" in output.read_text()
    assert "auto_resolve_timeout" in done.output
    written = json.loads(report.read_text())
    assert written["vendor"] == "PagerDuty"
    assert written["counts"] == {"unmapped": 4, "approximated": 0, "skipped": 1}


# ---- fetching -----------------------------------------------------------------------------------------------


class _Stub(ThreadingHTTPServer):
    """Serves a recorded export as the vendor's API would, one item per page, and records each request."""

    def __init__(self, routes: dict[str, Any]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes
        self.seen: list[tuple[str, str]] = []  # (path, Authorization)


class _Handler(BaseHTTPRequestHandler):
    server: _Stub

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.server.seen.append((url.path, self.headers.get("Authorization", "")))
        route = self.server.routes.get(url.path)
        if route is None:
            self.send_response(404)
            self.end_headers()
            return
        body = route(parse_qs(url.query), self.server) if callable(route) else route
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads ``seen``."""


@pytest.fixture
def stub() -> Iterator[_Stub]:
    server = _Stub({})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _pd_pages(items: list[Any], key: str) -> Any:
    def page(query: dict[str, list[str]], _: _Stub) -> dict[str, Any]:
        offset = int(query.get("offset", ["0"])[0])
        return {key: items[offset : offset + 1], "offset": offset, "limit": 1, "more": offset + 1 < len(items)}

    return page


def test_pagerduty_fetch_pages_through_the_api_with_the_token(stub: _Stub) -> None:
    recorded = pagerduty.read_export(FIXTURES / "pagerduty-acme")
    stub.routes.update(
        {
            "/users": _pd_pages(recorded.users, "users"),
            "/schedules": _pd_pages([{"id": s["id"]} for s in recorded.schedules], "schedules"),
            "/escalation_policies": _pd_pages(recorded.escalation_policies, "escalation_policies"),
            "/services": _pd_pages(recorded.services, "services"),
        }
    )
    for schedule in recorded.schedules:
        stub.routes[f"/schedules/{schedule['id']}"] = {"schedule": schedule}
        stub.routes[f"/schedules/{schedule['id']}/overrides"] = {"overrides": recorded.overrides[schedule["id"]]}
    client = JsonClient(f"http://127.0.0.1:{stub.server_address[1]}", "Token token=pd-test")
    fetched = pagerduty.fetch_export(client, AS_OF, AS_OF)
    assert fetched == recorded
    assert {auth for _, auth in stub.seen} == {"Token token=pd-test"}
    # one page per item (+ nothing more once "more" is false), and two requests per schedule
    assert len(stub.seen) == 6 + 3 + 2 + 3 + 2 * 3


def test_opsgenie_fetch_follows_paging_with_the_genie_key(stub: _Stub, tmp_path: Path) -> None:
    recorded = opsgenie.read_export(FIXTURES / "opsgenie-globex")
    base = f"http://127.0.0.1:{stub.server_address[1]}"

    def users(query: dict[str, list[str]], _: _Stub) -> dict[str, Any]:
        offset = int(query.get("offset", ["0"])[0])
        paging = {"next": f"{base}/v2/users?offset={offset + 4}&limit=4"} if offset + 4 < len(recorded.users) else {}
        return {"data": recorded.users[offset : offset + 4], "paging": paging}

    stub.routes.update(
        {
            "/v2/users": users,
            "/v2/schedules": {"data": recorded.schedules},
            "/v2/escalations": {"data": recorded.escalations},
            "/v2/teams": {"data": recorded.teams},
        }
    )
    for user_id, contacts in recorded.contacts.items():
        stub.routes[f"/v2/users/{user_id}/contacts"] = {"data": contacts}
    for schedule in recorded.schedules:
        stub.routes[f"/v2/schedules/{schedule['id']}/overrides"] = {"data": recorded.overrides[schedule["id"]]}
        stub.routes[f"/v2/schedules/{schedule['id']}/timeline"] = {"data": recorded.timelines[schedule["id"]]}
    fetched = opsgenie.fetch_export(JsonClient(base, "GenieKey og-test"), AS_OF, 14)
    assert fetched == recorded
    assert {auth for _, auth in stub.seen} == {"GenieKey og-test"}
    assert [path for path, _ in stub.seen].count("/v2/users") == 2  # 6 users, 4 a page
    fetched.save(tmp_path / "saved")
    assert opsgenie.read_export(tmp_path / "saved") == recorded  # --save writes a --from directory
