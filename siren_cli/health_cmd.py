"""``siren health``: is Siren itself healthy? Its alarms, the canary's heartbeat, dead letters, repairs and the
watchdog in the second region; exit 1 when not (for scripts and monitors)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_cli.context import CliContext, context
from siren_cli.errors import one_line_errors

console = Console(emoji=False)
DEFAULT_WATCHDOG_REGION = "us-west-2"


def register(app: typer.Typer) -> None:
    app.command("health")(health)


def _watchdog_place(cli: CliContext, region: str | None) -> tuple[str, str]:
    """The watchdog's stack and region: the local runtime says where it deployed it; on AWS, --watchdog-region,
    else cdk.json's ``watchdog_region`` context (the project's default), else us-west-2."""
    stack = f"{cli.stack}Watchdog"
    if region:
        return stack, region
    if cli.target.is_local:
        deployed = (cli.target.control("info") or {}).get("watchdog") or {}
        if deployed.get("region"):
            return str(deployed.get("stack") or stack), str(deployed["region"])
    cdk_json = Path("cdk.json")
    if cdk_json.is_file():
        found = json.loads(cdk_json.read_text()).get("context", {}).get("watchdog_region")
        if found:
            return stack, str(found)
    return stack, DEFAULT_WATCHDOG_REGION


def _alarm_states(prefix: str, region: str | None = None) -> list[tuple[str, str]]:
    from siren.clients import cached_client, endpoint_url, region_name

    cloudwatch = cached_client("cloudwatch", region or region_name(), endpoint_url())
    pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"])
    return [(str(a["AlarmName"]), str(a["StateValue"])) for page in pages for a in page.get("MetricAlarms", [])]


def _repairs_last_hour(now: datetime) -> int:
    from siren.app.reconcile import REPAIRED_METRIC
    from siren.clients import client
    from siren.observability import METRICS_NAMESPACE, SERVICE

    points = client("cloudwatch").get_metric_statistics(
        Namespace=METRICS_NAMESPACE,
        MetricName=REPAIRED_METRIC,
        Dimensions=[{"Name": "service", "Value": SERVICE}],
        StartTime=now - timedelta(hours=1),
        EndTime=now,
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    return int(sum(point["Sum"] for point in points))


def read_health(cli: CliContext, watchdog_region: str | None = None) -> Any:
    from siren.adapters.dead_letters import DeadLetterQueues, StackWiring
    from siren.adapters.dynamodb import DynamoHeartbeats
    from siren.domain.health import AlarmState, assess, watchdog_verdict

    cli.target  # noqa: B018 - points siren.clients at the target (local or AWS) before any read
    now = datetime.now(UTC)
    canary = DynamoHeartbeats(cli.output("IncidentsTableName")).canary()
    alarms = [AlarmState(name, state) for name, state in _alarm_states(f"{cli.stack}-")]
    queues = DeadLetterQueues()
    dead_letters = sum(queues.waiting(url) for url in StackWiring(cli.stack).queues().values())
    watchdog_stack, region = _watchdog_place(cli, watchdog_region)
    watchdog_alarm = f"{watchdog_stack}-CanarySilent"
    states = dict(_alarm_states(watchdog_alarm, region))
    return assess(
        now=now,
        heartbeat_at=canary[0] if canary else None,
        heartbeat_minutes=cli.config.operations.heartbeat_minutes,
        alarms=alarms,
        dead_letters=dead_letters,
        repairs_last_hour=_repairs_last_hour(now),
        watchdog=watchdog_verdict(states.get(watchdog_alarm), watchdog_alarm, region),
    )


@one_line_errors
def health(
    ctx: typer.Context,
    watchdog_region: Annotated[
        str | None, typer.Option("--watchdog-region", help="Where the SirenWatchdog stack runs (default: cdk.json).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Siren's own health: alarms, the canary's heartbeat, dead letters, repairs, the watchdog. Exit 1 if unhealthy."""
    verdict = read_health(context(ctx), watchdog_region)
    if as_json:
        print(json.dumps(verdict.to_json(), indent=2))
    else:
        print_health(verdict)
    if not verdict.healthy:
        raise typer.Exit(1)


def print_health(verdict: Any) -> None:
    age = verdict.heartbeat_age_seconds
    console.print(
        ("[green]Siren is healthy.[/green]" if verdict.healthy else "[bold red]Siren is NOT healthy.[/bold red]")
        + f" Canary: {'never' if age is None else f'{age:.0f} s ago'}; dead letters: {verdict.dead_letters}; "
        f"repairs in the last hour: {verdict.repairs_last_hour}; watchdog: {escape(verdict.watchdog)}."
    )
    for problem in verdict.problems:
        console.print(f"  [red]-[/red] {escape(problem)}")
    in_alarm = [alarm for alarm in verdict.alarms if alarm.state != "OK"]
    if in_alarm:
        table = Table(title="Alarms not OK")
        table.add_column("alarm")
        table.add_column("state")
        for alarm in in_alarm:
            table.add_row(escape(alarm.name), alarm.state)
        console.print(table)
    else:
        console.print(f"All {len(verdict.alarms)} alarms OK.")
