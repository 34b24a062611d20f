"""``siren gameday run SCENARIO``: a scripted drill through the real pipeline, in drill mode, with a scorecard.

The drill's alarm goes in through the generic webhook (``"drill": true`` with the scenario's participants), so it
runs the same way against the embedded local AWS and a deployed stack. Acknowledgements are SMS replies with the
code from the page when the outbox can be read (the embedded local AWS); on AWS, where nobody's phone can be
read, the participant's acknowledgement is made through the API in their name.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_cli.context import CliContext, context
from siren_cli.errors import CliError, UsageError, one_line_errors

console = Console(emoji=False)
gameday_app = typer.Typer(help="Game-day drills: rehearse the whole paging path.", no_args_is_help=True)
SCENARIOS = Path(__file__).resolve().parent.parent / "gamedays"
POLL_SECONDS = 0.25


def _scenario_path(name: str) -> Path:
    path = Path(name)
    if path.exists():
        return path
    shipped = SCENARIOS / f"{name}.yaml"
    if shipped.exists():
        return shipped
    known = ", ".join(sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
    raise UsageError(f"no scenario {name!r}: give a file, or one of the shipped ones: {known}")


class DrillTarget:
    """Where the drill runs: webhook, secrets, the incident store, and (locally) the outbox."""

    def __init__(self, cli: CliContext, endpoint: str | None) -> None:
        self.cli = cli
        self.endpoint = endpoint

    def post_alert(self, alert: dict[str, Any]) -> None:
        url = self.cli.output("WebhookUrl").rstrip("/") + "/generic"
        token = self._token()
        request = urllib.request.Request(  # noqa: S310 (the stack's own webhook URL)
            url,
            data=json.dumps(alert).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as error:
            raise CliError(f"the webhook refused the drill alert: HTTP {error.code} {error.read()[:300]!r}") from None

    def _token(self) -> str:
        from siren.adapters.secrets import secret_string

        return secret_string(self.cli.output("WebhookTokenSecretArn"))

    def outbox(self) -> list[dict[str, Any]] | None:
        if not self.endpoint:
            return None
        with urllib.request.urlopen(f"{self.endpoint}/_siren/outbox", timeout=30) as response:  # noqa: S310
            return list(json.loads(response.read()))


def _wait(what: str, predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(POLL_SECONDS)
    raise CliError(f"the drill waited {timeout:.0f}s for {what}, in vain")


@gameday_app.command("run")
@one_line_errors
def run(
    ctx: typer.Context,
    scenario_name: Annotated[str, typer.Argument(help="A scenario file, or a shipped one: see gamedays/.")],
    time_scale: Annotated[float, typer.Option("--time-scale", help="The target's time scale (AWS: 1).")] = 1.0,
    embedded: Annotated[bool, typer.Option("--embedded", help="Start an embedded local AWS for the drill.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scorecard as JSON.")] = False,
) -> None:
    """Run a drill and print its scorecard (exit code 1 when an expectation is missed)."""
    from siren_cli.gameday_scenarios import ScenarioError, first_paged_at_level, load_scenario, run_started, scorecard

    cli = context(ctx)
    path = _scenario_path(scenario_name)
    try:
        scenario = load_scenario(path.read_text(encoding="utf-8"), str(path), list(cli.config.users))
    except ScenarioError as error:
        raise UsageError(str(error)) from None
    if time_scale <= 0:
        raise UsageError(f"--time-scale must be a positive number, got {time_scale}")

    runtime = None
    if embedded:
        from siren_cli.local import start_local_aws

        runtime = start_local_aws(_free_port(), time_scale, quiet=True)
    try:
        card = _drill(cli, scenario, time_scale, runtime, first_paged_at_level, run_started, scorecard)
    finally:
        if runtime is not None:
            runtime.stop()
    if as_json:
        print(json.dumps({**asdict(card), "passed": card.passed}, indent=2))
    else:
        _print(card)
    if not card.passed:
        raise typer.Exit(1)


def _drill(
    cli: CliContext,
    scenario: Any,
    time_scale: float,
    runtime: Any,
    first_paged_at_level: Any,
    run_started: Any,
    scorecard: Any,
) -> Any:
    import os

    if runtime is not None:
        os.environ["AWS_ENDPOINT_URL"] = runtime.endpoint_url
        cli.__dict__.pop("target", None)
        cli.__dict__.pop("outputs", None)
    endpoint = cli.target.endpoint
    target = DrillTarget(cli, endpoint)
    incidents = cli.incidents()
    store = incidents.incidents  # the same store the CLI's commands use
    started = datetime.now(UTC)
    dedup_key = f"gameday:{scenario.name}:{run_started(started)}"
    console.rule(f"Drill {scenario.name}: {escape(scenario.description)}")
    console.print(f"participants: {', '.join(scenario.participants)}; time scale x{time_scale:g}")
    wall_start = time.monotonic()
    incident_id: str | None = None
    wait_limit = 60.0 + scenario.length_minutes * 60.0 / time_scale

    for step in scenario.steps:
        due = wall_start + step.at_minutes * 60.0 / time_scale
        time.sleep(max(0.0, due - time.monotonic()))
        if step.action == "fire":
            target.post_alert(
                {
                    "dedup_key": dedup_key,
                    "title": scenario.title,
                    "service": scenario.service,
                    "severity": scenario.severity,
                    "summary": f"game-day drill {scenario.name}",
                    "drill": True,
                    "participants": list(scenario.participants),
                    "occurred_at": started.isoformat(),
                }
            )
            key_state = _wait(
                "the drill incident", lambda: store.key_state(f"generic:{dedup_key}").open_incident_id, wait_limit
            )
            incident_id = str(key_state)
            console.print(f"{_at(wall_start, time_scale)} alarm fired: {incident_id}")
        elif step.action == "ack":
            assert incident_id is not None
            _acknowledge(cli, target, store, incidents, incident_id, step, wait_limit, first_paged_at_level)
            console.print(
                f"{_at(wall_start, time_scale)} acknowledged by {incidents.get(incident_id).incident.acknowledged_by}"
            )
        elif step.action == "resolve":
            assert incident_id is not None
            target.post_alert(
                {
                    "dedup_key": dedup_key,
                    "status": "resolved",
                    "drill": True,
                    "participants": list(scenario.participants),
                    "occurred_at": datetime.now(UTC).isoformat(),
                }
            )
            console.print(f"{_at(wall_start, time_scale)} alarm resolved")
    assert incident_id is not None
    view = incidents.get(incident_id)
    return scorecard(scenario, view.incident, view.timeline, time_scale)


def _acknowledge(
    cli: CliContext,
    target: DrillTarget,
    store: Any,
    incidents: Any,
    incident_id: str,
    step: Any,
    wait_limit: float,
    first_paged_at_level: Any,
) -> None:
    def responder() -> str | None:
        if step.ack_user:
            return str(step.ack_user)
        return first_paged_at_level(incidents.get(incident_id).timeline, step.ack_level)  # type: ignore[no-any-return]

    user = _wait(
        f"a page at level {step.ack_level}" if step.ack_level else f"a page to {step.ack_user}", responder, wait_limit
    )
    phone = cli.config.users[user].phone
    outbox = target.outbox()
    if outbox is None or not phone:
        incidents.acknowledge(incident_id, user, via="gameday")
        return

    def code() -> str | None:
        for message in reversed(target.outbox() or []):
            if message["channel"] == "sms" and message["to"] == phone and incident_id in message["body"]:
                found = re.search(r"ACK (\d{6})", message["body"])
                if found:
                    return found.group(1)
        return None

    ack_code = _wait(f"the SMS page to {user}", code, wait_limit)
    from siren_local.inbound_sms import publish_sms_reply

    publish_sms_reply(cli.target.client, cli.output("InboundSmsTopicArn"), phone, f"ACK {ack_code}")
    _wait("the acknowledgement", lambda: incidents.get(incident_id).incident.acknowledged_at, wait_limit)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _at(wall_start: float, time_scale: float) -> str:
    return f"[dim]t+{(time.monotonic() - wall_start) * time_scale / 60:5.1f} min[/]"


def _print(card: Any) -> None:
    table = Table(title=f"Scorecard: {card.scenario} ({card.incident_id})")
    for column in ("measure", "value"):
        table.add_column(column)
    table.add_row(
        "time to first page", "never" if card.first_page_seconds is None else f"{card.first_page_seconds:g} s"
    )
    table.add_row("time to acknowledge", _minutes(card.acknowledge_minutes))
    table.add_row("acknowledged by", escape(card.acknowledged_by or "nobody"))
    table.add_row("levels reached", str(card.levels_reached))
    table.add_row("pages sent (to people: sms, voice, email)", str(card.pages))
    table.add_row("failed delivery attempts", str(card.failed_attempts))
    table.add_row("chat posts (not pages)", str(card.chat_posts))
    table.add_row("failures", str(card.failures))
    table.add_row("on call but not in the drill (not paged)", str(card.skipped_non_participants))
    console.print(table)
    checks = Table(title="Expectations")
    for column in ("expectation", "expected", "actual", "result"):
        checks.add_column(column)
    for check in card.checks:
        checks.add_row(check.name, check.expected, check.actual, "[green]pass[/]" if check.passed else "[red]FAIL[/]")
    console.print(checks)
    console.print("[green]Drill passed.[/]" if card.passed else "[red]Drill missed an expectation.[/]")


def _minutes(value: float | None) -> str:
    return "never" if value is None else f"{value:g} min"


def register(app: typer.Typer) -> None:
    app.add_typer(gameday_app, name="gameday")
