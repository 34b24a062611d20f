"""``siren local ...``: the embedded local AWS."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from siren_cli import slack_local
from siren_cli.aws import DEFAULT_LOCAL_PORT, Target, local_endpoint
from siren_cli.errors import CliError, UsageError, one_line_errors
from siren_cli.options import JsonOption

app = typer.Typer(help="Run Siren on the embedded local AWS (moto plus Siren's adapters).", no_args_is_help=True)
console = Console(emoji=False)
STACK_NAME = "Siren"
WATCHDOG_STACK_NAME = f"{STACK_NAME}Watchdog"  # in a second region (infra/watchdog.py)

PortOption = Annotated[int, typer.Option("--port", help="Port of the embedded local AWS on 127.0.0.1.")]


def _target(port: int | None) -> Target:
    return Target(local_endpoint(port))


AssemblyOption = Annotated[
    Path | None,
    typer.Option(
        "--assembly",
        help="Deploy this synthesized cloud assembly (a cdk.out directory) instead of synthesizing the app.",
    ),
]


def start_local_aws(
    port: int, time_scale: float, quiet: bool = False, assembly_dir: Path | None = None, enforce_iam: bool = True
) -> Any:
    """Synthesize (unless ``assembly_dir`` holds a synthesized Siren), start the runtime and deploy the stacks (Siren,
    and its watchdog into the watchdog's region of the same runtime); nothing is left running if a step fails.

    ``enforce_iam``: every request is authorized against its caller's identity policies, each function calling as
    its own role (siren_local/iam/), so that a grant narrowed too far fails here as it would on AWS."""
    from siren_local.deploy import assembly_region
    from siren_local.runtime import LocalAws, PortInUseError, port_is_free

    if time_scale <= 0:
        raise UsageError(f"--time-scale must be a positive number, got {time_scale}")
    if not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, got {port}")
    if not port_is_free("127.0.0.1", port):
        raise UsageError(f"port {port} on 127.0.0.1 is already in use (is another `siren local up` running?)")
    started = time.monotonic()
    if assembly_dir is None:
        from infra.app import synthesize

        with console.status("Synthesizing the CDK app (cdk-nag AwsSolutions checks included)...", spinner="dots"):
            assembly_dir = Path(synthesize().directory)
    elif not (assembly_dir / f"{STACK_NAME}.template.json").is_file():
        raise UsageError(f"--assembly {assembly_dir} holds no {STACK_NAME}.template.json (run `make synth`)")
    synth_seconds = time.monotonic() - started
    runtime = LocalAws.over_http(port=port, time_scale=time_scale, enforce_iam=enforce_iam)
    try:
        runtime.start()
    except PortInUseError as error:
        raise UsageError(str(error.strerror or error)) from None
    try:
        started = time.monotonic()
        with console.status("Deploying the synthesized templates...", spinner="dots"):
            runtime.deploy_siren(assembly_dir, STACK_NAME)
            # The Slack app installed in the local workspace (a bot token in the stack's secret): the incident
            # message is posted to the local Slack fake, and `siren local slack-click` acts on it.
            runtime.connect_slack(STACK_NAME)
            if (assembly_dir / f"{WATCHDOG_STACK_NAME}.template.json").is_file():
                region = assembly_region(assembly_dir, WATCHDOG_STACK_NAME)
                runtime.deploy(assembly_dir, WATCHDOG_STACK_NAME, region=region)
            elif not quiet:
                console.print(f"[yellow]{assembly_dir} holds no {WATCHDOG_STACK_NAME}: no watchdog deployed.[/yellow]")
        if not quiet:
            console.print(
                f"[green]Synthesized in {synth_seconds:.1f}s, deployed in {time.monotonic() - started:.1f}s.[/green]"
            )
    except Exception:
        runtime.stop()
        raise
    return runtime


def print_info(info: dict[str, Any]) -> None:
    table = Table(title="Siren on the embedded local AWS", show_lines=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    table.add_row("endpoint", str(info["endpoint"]))
    table.add_row("time scale", f"x{info.get('time_scale', 1)}")
    table.add_row("status page", str(info.get("status_page_url")))
    table.add_row("webhook", str(info.get("webhook_url")))
    iam = info.get("iam") or {}
    table.add_row(
        "IAM",
        f"enforced ({iam.get('access_denied', 0)} requests refused so far)"
        if iam.get("enforced")
        else "not enforced (--no-iam)",
    )
    for name, value in sorted(info["outputs"].items()):
        table.add_row(f"output {name}", value)
    watchdog = info.get("watchdog")
    table.add_row("watchdog", f"{watchdog['stack']} in {watchdog['region']}" if watchdog else "not deployed")
    for name, value in sorted((watchdog or {}).get("outputs", {}).items()):
        table.add_row(f"watchdog output {name}", value)
    console.print(table)
    console.print(f"Point any AWS client at it: [bold]export AWS_ENDPOINT_URL={info['endpoint']}[/bold]")


@app.command()
@one_line_errors
def up(
    port: PortOption = DEFAULT_LOCAL_PORT,
    time_scale: Annotated[float, typer.Option("--time-scale", help="Make waits N times shorter.")] = 1.0,
    assembly: AssemblyOption = None,
    iam: Annotated[
        bool,
        typer.Option(
            "--iam/--no-iam",
            help="Authorize every request against the caller's IAM policies, each function as its own role.",
        ),
    ] = True,
) -> None:
    """Start the embedded local AWS with the Siren stack deployed; Ctrl-C stops it."""
    runtime = start_local_aws(port, time_scale, assembly_dir=assembly, enforce_iam=iam)
    try:
        print_info(runtime.info())
        serve_until_interrupted()
    finally:
        console.print("Stopping...")
        unstopped = runtime.stop()
        if unstopped:
            console.print(f"[yellow]Stopped, but these threads still run: {', '.join(unstopped)}[/yellow]")
        else:
            console.print("Stopped.")


def serve_until_interrupted() -> None:
    """Block until Ctrl-C or SIGTERM; the runtime's threads serve meanwhile."""
    stopping = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    console.print("Running. Press Ctrl-C to stop.")
    while not stopping.wait(0.5):
        pass


@app.command()
@one_line_errors
def info(port: PortOption = DEFAULT_LOCAL_PORT, as_json: JsonOption = False) -> None:
    """What is deployed: endpoint, stack outputs, status page and webhook URLs, webhook token."""
    _print_control(port, "info", as_json, print_info)


@app.command()
@one_line_errors
def outbox(port: PortOption = DEFAULT_LOCAL_PORT, as_json: JsonOption = False) -> None:
    """Every SMS, voice call, email and chat message sent, oldest first."""
    _print_control(port, "outbox", as_json, _print_outbox)


def _print_control(port: int, route: str, as_json: bool, show: Callable[[Any], None]) -> None:
    """GET a control route of the running runtime and print what it answers: as JSON, or as ``show`` shows it."""
    answer = _target(port).control(route)
    if as_json:
        print(json.dumps(answer, indent=2))
    else:
        show(answer)


def _print_outbox(messages: list[dict[str, Any]]) -> None:
    table = Table(title=f"Outbox ({len(messages)} messages)")
    for column in ("sent_at", "channel", "to", "subject", "body"):
        table.add_column(column, overflow="fold")
    for message in messages:
        table.add_row(
            message["sent_at"],
            message["channel"],
            message["to"],
            message.get("subject") or "",
            message["body"],
        )
    console.print(table)


@app.command("fire-alarm")
@one_line_errors
def fire_alarm(
    name: Annotated[str, typer.Argument(help="Alarm name (created on first use).")],
    state: Annotated[str, typer.Option("--state", help="ALARM, OK or INSUFFICIENT_DATA.")],
    reason: Annotated[str | None, typer.Option("--reason", help="The state reason.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="The alarm description.")] = None,
    port: PortOption = DEFAULT_LOCAL_PORT,
    as_json: JsonOption = False,
) -> None:
    """Put a real-format "CloudWatch Alarm State Change" event on the default bus."""
    from siren_local.alarms import ALARM_STATES
    from siren_local.alarms import fire_alarm as put_alarm_event

    normalized = state.strip().upper()
    if normalized not in ALARM_STATES:
        raise UsageError(f"--state must be one of {', '.join(ALARM_STATES)}, got {state!r}")
    if not name.strip() or len(name) > 255:
        raise UsageError("the alarm name must be 1 to 255 characters")
    target = _target(port)
    target.control("info")  # fail fast, in one line, when the runtime is not running
    event = put_alarm_event(target.client, name, normalized, reason, description)
    if as_json:
        print(json.dumps(event, indent=2))
    elif not event:
        console.print(f"Alarm {name} is already {normalized}: CloudWatch emits no event for that.")
    else:
        console.print(
            f"Alarm {name}: {event['detail']['previousState']['value']} -> {normalized} (event {event['id']})"
        )


@app.command("put-metric")
@one_line_errors
def put_metric(
    namespace: Annotated[str, typer.Argument(help="The metric's namespace, e.g. Shop.")],
    name: Annotated[str, typer.Argument(help="The metric's name, e.g. OrderFailures.")],
    value: Annotated[float, typer.Argument(help="The datapoint's value.")],
    dimension: Annotated[
        list[str] | None, typer.Option("--dimension", help="K=V, once per dimension (as the alarm names them).")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="A CloudWatch unit, e.g. Count.")] = None,
    port: PortOption = DEFAULT_LOCAL_PORT,
) -> None:
    """Put one datapoint with PutMetricData: the local CloudWatch evaluates the alarms on it, as AWS would."""
    dimensions = []
    for given in dimension or []:
        key, sep, val = given.partition("=")
        if not sep or not key.strip() or not val:
            raise UsageError(f"--dimension must be KEY=VALUE, got {given!r}")
        dimensions.append({"Name": key.strip(), "Value": val})
    if not namespace.strip() or not name.strip():
        raise UsageError("the namespace and the metric name must not be empty")
    target = _target(port)
    target.control("info")  # fail fast, in one line, when the runtime is not running
    datum: dict[str, Any] = {"MetricName": name, "Value": value, "Dimensions": dimensions}
    if unit:
        datum["Unit"] = unit
    cloudwatch = target.client("cloudwatch")
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[datum])
    watching = [
        f"{alarm['AlarmName']} ({alarm['StateValue']})"
        for page in cloudwatch.get_paginator("describe_alarms").paginate()
        for alarm in page.get("MetricAlarms", [])
        if alarm.get("Namespace") == namespace and alarm.get("MetricName") == name
    ]
    console.print(
        f"Put {namespace} {name} = {value:g}"
        + (f"; alarms on it: {', '.join(watching)}" if watching else "; no alarm watches it")
    )


@app.command("sms-reply")
@one_line_errors
def sms_reply(
    text: Annotated[str, typer.Argument(help="The reply text, e.g. 'ACK 482193'.")],
    from_number: Annotated[str, typer.Option("--from", help="The replying phone, E.164 (+14255550182).")],
    port: PortOption = DEFAULT_LOCAL_PORT,
) -> None:
    """Publish an inbound two-way SMS, as AWS End User Messaging would."""
    from siren_local.inbound_sms import E164, publish_sms_reply

    if not E164.match(from_number):
        raise UsageError(f"--from must be an E.164 phone number like +14255550182, got {from_number!r}")
    target = _target(port)
    topic = target.control("info")["outputs"].get("InboundSmsTopicArn")
    if not topic:
        raise CliError("the deployed stack has no InboundSmsTopicArn output")
    message = publish_sms_reply(target.client, topic, from_number, text)
    console.print(f"SMS from {from_number} published (inbound id {message['inboundMessageId']}).")


fault_app = typer.Typer(
    help="Make a service of the embedded local AWS fail as AWS fails (tests, drills, the demo).", no_args_is_help=True
)
app.add_typer(fault_app, name="fault")
slack_local.register(app)  # slack-command, slack-click: signed as Slack signs, to the local Slack app


_TARGET_HELP = (
    "sms-voice, sns, ses, chat, events, dynamodb or lambda:<LogicalId> (a deployed function's logical id, or an "
    "unambiguous beginning of it)."
)
_NUMBERS_HELP = "Fail only these destinations (E.164; sms-voice and sns). Repeat the option or separate with commas."
_FOR_HELP = (
    "End the fault after this many seconds of AWS time (the runtime's scaled time: at --time-scale 60, --for 900 "
    "lasts 15 wall seconds). Default: until cleared."
)
_MODE_HELP = (
    "error (the service's 5xx; a function error for lambda), throttle (its throttling error), partial (events: "
    "PutEvents answers 200 with failed entries)."
)
_HANG_HELP = (
    "A provider that stops answering: hold each matching call this many seconds of AWS time (scaled, like --for), "
    "then close the connection unanswered, unapplied; the SDK sees the call fail as it sees its own timeout."
)
_OPERATIONS_HELP = (
    "Fail only these API operations (e.g. PutItem; for dynamodb also 'writes' or 'reads'). Default: the target's "
    "sending or storing calls."
)


@fault_app.command("add")
@one_line_errors
def fault_add(
    target: Annotated[str, typer.Option("--target", help=_TARGET_HELP)],
    numbers: Annotated[list[str] | None, typer.Option("--numbers", help=_NUMBERS_HELP)] = None,
    for_seconds: Annotated[float | None, typer.Option("--for", help=_FOR_HELP)] = None,
    rate: Annotated[float, typer.Option("--rate", help="The probability that a matching call fails, 0 < R <= 1.")] = 1,
    mode: Annotated[str, typer.Option("--mode", help=_MODE_HELP)] = "error",
    hang: Annotated[float | None, typer.Option("--hang", help=_HANG_HELP)] = None,
    operations: Annotated[list[str] | None, typer.Option("--operations", help=_OPERATIONS_HELP)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed the fault's --rate draws (repeatable runs).")] = None,
    times: Annotated[int | None, typer.Option("--times", help="Spent after this many failures.")] = None,
    port: PortOption = DEFAULT_LOCAL_PORT,
    as_json: JsonOption = False,
) -> None:
    """Add a fault: matching calls fail with the error code and HTTP status the real service returns."""
    spec: dict[str, Any] = {"target": target, "mode": mode, "rate": rate}
    for key, value in (("for_seconds", for_seconds), ("hang_seconds", hang), ("seed", seed), ("times", times)):
        if value is not None:
            spec[key] = value
    if numbers:
        spec["numbers"] = [n.strip() for given in numbers for n in given.split(",") if n.strip()]
    if operations:
        spec["operations"] = [o.strip() for given in operations for o in given.split(",") if o.strip()]
    try:
        fault = _target(port).control("faults", spec)
    except CliError as error:
        raise UsageError(str(error).removeprefix("local runtime: ")) from None
    if as_json:
        print(json.dumps(fault, indent=2))
        return
    console.print(f"Fault {fault['id']} set: {_describe(fault)}")


@fault_app.command("list")
@one_line_errors
def fault_list(port: PortOption = DEFAULT_LOCAL_PORT, as_json: JsonOption = False) -> None:
    """The faults set (expired ones too) and how many failures each injected."""
    listed = _target(port).control("faults")
    if as_json:
        print(json.dumps(listed, indent=2))
        return
    if not listed["faults"]:
        console.print("No faults set.")
        return
    table = Table(title=f"Faults (time scale x{listed.get('time_scale', 1):g})")
    for column in ("id", "target", "fault", "state", "hits", "calls"):
        table.add_column(column, overflow="fold")
    for fault in listed["faults"]:
        state = "active" if fault["active"] else "spent" if fault.get("times") else "expired"
        if fault["active"] and fault["remaining_wall_seconds"] is not None:
            state += f" ({fault['remaining_wall_seconds']:.1f} wall s left)"
        table.add_row(fault["id"], fault["target"], _describe(fault), state, str(fault["hits"]), str(fault["calls"]))
    console.print(table)


@fault_app.command("clear")
@one_line_errors
def fault_clear(port: PortOption = DEFAULT_LOCAL_PORT) -> None:
    """Remove every fault; calls held by a --hang fault fail now."""
    cleared = _target(port).control("faults/clear", {})["cleared"]
    console.print(f"Cleared {cleared} fault{'s' if cleared != 1 else ''}.")


def _describe(fault: dict[str, Any]) -> str:
    parts = [fault["mode"] if fault["mode"] != "hang" else f"hang {fault['hang_seconds']:g} s"]
    if fault.get("function_name"):
        parts.append(f"function {fault['function_name']}")
    if fault.get("numbers") is not None:
        parts.append("numbers " + (", ".join(fault["numbers"]) or "(none)"))
    if fault.get("operations"):
        parts.append("operations " + ", ".join(fault["operations"]))
    if fault["rate"] < 1:
        parts.append(f"rate {fault['rate']:g}" + (f" (seed {fault['seed']})" if fault.get("seed") is not None else ""))
    if fault.get("times"):
        parts.append(f"{fault['times']} times")
    if fault.get("for_seconds"):
        parts.append(f"for {fault['for_seconds']:g} AWS s")
    return "; ".join(parts)


@app.command()
@one_line_errors
def demo(
    port: PortOption = DEFAULT_LOCAL_PORT,
    time_scale: Annotated[float, typer.Option("--time-scale", help="Make waits N times shorter.")] = 60.0,
    exit_after: Annotated[bool, typer.Option("--exit", help="Stop when the story ends (CI).")] = False,
) -> None:
    """The story of one bad night, end to end on the embedded local AWS, narrated; then the status page stays up
    until Ctrl-C (or exit at once with --exit)."""
    from siren_cli.demo import run_demo

    # The narration is the point; the functions' own INFO logs would drown it (`siren local up` shows them).
    # Their metric lines are not printed anyway: the local CloudWatch takes them (siren_local/cloudwatch.py).
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    started = time.monotonic()
    runtime = start_local_aws(port, time_scale)
    try:
        places = run_demo(runtime, console)
        console.rule("And Siren itself? `siren health`")
        _print_health(runtime)
        console.rule(f"Done in {time.monotonic() - started:.0f} s. Where to look")
        for name, where in places.items():
            console.print(f"  {name}: {where}")
        if not exit_after:
            console.print("The embedded local AWS stays up for you to look around; Ctrl-C stops it.")
            serve_until_interrupted()
    finally:
        runtime.stop()


def _print_health(runtime: Any) -> None:
    """``siren health`` against the demo's runtime: its alarms, canary, dead letters and watchdog."""
    from siren_cli.context import CliContext
    from siren_cli.health_cmd import print_health, read_health

    os.environ["AWS_ENDPOINT_URL"] = runtime.endpoint_url
    print_health(read_health(CliContext(local=True, stack=STACK_NAME)))
