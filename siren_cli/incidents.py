"""Incident commands: declare, list, show, resolve, severity, ack, escalate, assign, note."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_cli.context import context
from siren_cli.errors import UsageError, domain_errors, one_line_errors
from siren_cli.options import IncidentIdArgument, JsonOption

console = Console(emoji=False)
incidents_app = typer.Typer(help="Read incidents.", no_args_is_help=True)
STATUSES = ("open", "acknowledged", "recovered", "resolved")
T = TypeVar("T")


def incident_json(incident: Any) -> dict[str, Any]:
    return {
        "id": incident.id,
        "status": str(incident.status),
        "severity": incident.severity,
        "title": incident.title,
        "service": incident.service,
        "dedup_key": incident.dedup_key,
        "alert_count": incident.alert_count,
        "canary": incident.canary,
        "opened_at": incident.opened_at.isoformat(),
        "last_seen_at": incident.last_seen_at.isoformat(),
        "acknowledged_at": incident.acknowledged_at.isoformat() if incident.acknowledged_at else None,
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "resolved_by": incident.resolved_by,
        "source": incident.source,
        "severity_rule": incident.severity_rule,
        "flapping": incident.flapping,
        "summary": incident.summary,
        "link": incident.link,
        "roles": dict(incident.roles),
    }


def _as_user(ctx: typer.Context, change: Callable[[Any, str], T]) -> T:
    """``change(incidents, actor)``: the incident use cases acted on as the CLI's user; a refusal is one line."""
    cli = context(ctx)
    return domain_errors(lambda: change(cli.incidents(), cli.target.actor()))


@incidents_app.command("list")
@one_line_errors
def list_incidents(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="open, acknowledged, recovered or resolved.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    show_all: Annotated[bool, typer.Option("--all", help="Also Siren's own canary incidents.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Unresolved incidents (or those with --status), newest first; Siren's canary ones only with --all."""
    from siren.domain.incidents import IncidentStatus

    if status is not None and status.lower() not in STATUSES:
        raise UsageError(f"--status must be one of {', '.join(STATUSES)}, got {status!r}")
    chosen = IncidentStatus(status.lower()) if status else None
    found = context(ctx).incidents().list(chosen, limit, canaries=show_all)
    if as_json:
        print(json.dumps([incident_json(i) for i in found], indent=2))
        return
    table = Table(title=f"Incidents ({len(found)})")
    for column in ("id", "status", "sev", "service", "title", "alerts", "opened"):
        table.add_column(column)
    for incident in found:
        table.add_row(
            incident.id,
            str(incident.status),
            incident.severity,
            escape(incident.service),
            escape(incident.title),
            str(incident.alert_count),
            f"{incident.opened_at:%Y-%m-%d %H:%M}Z",
        )
    console.print(table)


@incidents_app.command("show")
@one_line_errors
def show(ctx: typer.Context, incident_id: IncidentIdArgument, as_json: JsonOption = False) -> None:
    """One incident and its timeline."""
    view = domain_errors(lambda: context(ctx).incidents().get(incident_id))
    timeline: list[dict[str, Any]] = [
        {"at": e.at.isoformat(), "kind": str(e.kind), "actor": e.actor, "detail": e.detail, "data": dict(e.data)}
        for e in view.timeline
    ]
    if as_json:
        print(json.dumps({**incident_json(view.incident), "timeline": timeline}, indent=2, default=str))
        return
    incident = view.incident
    console.print(f"[bold]{incident.id}[/bold] {incident.severity} {incident.status}: {escape(incident.title)}")
    console.print(
        f"service {escape(incident.service)}, {incident.alert_count} alert(s), "
        f"opened {incident.opened_at:%Y-%m-%d %H:%M:%S}Z, key {escape(incident.dedup_key)}"
    )
    table = Table(title="Timeline")
    for column in ("at", "kind", "actor", "detail"):
        table.add_column(column)
    for entry in timeline:
        table.add_row(entry["at"][:19] + "Z", entry["kind"], escape(entry["actor"]), escape(entry["detail"]))
    console.print(table)


@one_line_errors
def declare(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", help="What is wrong, for responders.")],
    severity: Annotated[str, typer.Option("--severity", help="SEV1 (worst) .. SEV5.")],
    service: Annotated[str, typer.Option("--service", help="The affected service.")],
    summary: Annotated[str, typer.Option("--summary", help="More detail (internal).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Declare an incident by hand; it escalates like any other."""
    result = _as_user(ctx, lambda incidents, actor: incidents.declare(title, severity, service, summary, actor))
    if as_json:
        print(json.dumps({"id": result.incident_id, "action": result.action}))
    else:
        console.print(f"Declared {result.incident_id}.")


@one_line_errors
def resolve(
    ctx: typer.Context,
    incident_id: IncidentIdArgument,
    note: Annotated[str | None, typer.Option("--note", help="Why it is resolved (on the timeline).")] = None,
) -> None:
    """Resolve an incident."""
    incident = _as_user(ctx, lambda incidents, actor: incidents.resolve(incident_id, actor, note))
    console.print(f"{incident.id} resolved at {datetime.now(UTC):%H:%M:%S}Z.")


@one_line_errors
def severity(
    ctx: typer.Context,
    incident_id: IncidentIdArgument,
    level: Annotated[str, typer.Argument(help="SEV1 (worst) .. SEV5.")],
) -> None:
    """Change an incident's severity (raising it restarts the escalation at the new level)."""
    incident = _as_user(ctx, lambda incidents, actor: incidents.change_severity(incident_id, level, actor))
    console.print(f"{incident.id} is now {incident.severity}.")


@one_line_errors
def ack(ctx: typer.Context, incident_id: IncidentIdArgument) -> None:
    """Acknowledge an incident: you own it, and its escalation stops."""
    incident = _as_user(ctx, lambda incidents, actor: incidents.acknowledge(incident_id, actor, via="cli"))
    console.print(f"{incident.id} acknowledged by {incident.acknowledged_by}.")


@one_line_errors
def escalate(ctx: typer.Context, incident_id: IncidentIdArgument) -> None:
    """Page the incident's next escalation level now, instead of waiting out the current level's delay."""
    request = _as_user(ctx, lambda incidents, actor: incidents.escalate_now(incident_id, actor, via="cli"))
    if not request.requested:
        console.print(f"Nothing more was changed: {escape(request.reason)}.")
        return
    ended = "paged now" if request.wait_ended else "paged as soon as the current step's pages are out"
    console.print(f"{request.incident.id}: the level after {request.from_level} is {ended}.")


@one_line_errors
def assign(
    ctx: typer.Context,
    incident_id: IncidentIdArgument,
    role: Annotated[str, typer.Option("--role", help="commander, comms or sme.")],
    user: Annotated[str, typer.Option("--user", help="A user from siren.yaml.")],
) -> None:
    """Give someone an incident role."""
    incident = _as_user(ctx, lambda incidents, actor: incidents.assign(incident_id, role, user, actor))
    console.print(f"{user} is {role} of {incident.id}.")


@one_line_errors
def note(
    ctx: typer.Context,
    incident_id: IncidentIdArgument,
    text: Annotated[str, typer.Argument(help='What happened, e.g. "rolled back checkout 4.2.1".')],
) -> None:
    """Add an internal note to the incident's timeline (never shown on the status page)."""
    _as_user(ctx, lambda incidents, actor: incidents.add_note(incident_id, text, actor))
    console.print(f"Noted on {escape(incident_id)}.")


def register(app: typer.Typer) -> None:
    app.add_typer(incidents_app, name="incidents")
    app.command("declare")(declare)
    app.command("resolve")(resolve)
    app.command("severity")(severity)
    app.command("ack")(ack)
    app.command("escalate")(escalate)
    app.command("note")(note)
    app.command("assign")(assign)
