"""Status page commands: public updates, component statuses, maintenance, and a preview of the page."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from siren_cli.context import context
from siren_cli.errors import UsageError, domain_errors, one_line_errors
from siren_cli.options import IncidentIdArgument, JsonOption

console = Console(emoji=False)
status_app = typer.Typer(help="The customer status page.", no_args_is_help=True)
maintenance_app = typer.Typer(help="Scheduled maintenance on the status page.", no_args_is_help=True)
PUBLIC_STATUSES = ("investigating", "identified", "monitoring", "resolved")


@one_line_errors
def update(
    ctx: typer.Context,
    incident_id: IncidentIdArgument,
    public: Annotated[str, typer.Option("--public", help="The update customers read (plain text).")],
    status: Annotated[str, typer.Option("--status", help="investigating, identified, monitoring or resolved.")],
    title: Annotated[str | None, typer.Option("--title", help="The incident's public title.")] = None,
) -> None:
    """Post a public update to the status page. Only what you write here is shown to customers."""
    if status not in PUBLIC_STATUSES:
        raise UsageError(f"--status must be one of {', '.join(PUBLIC_STATUSES)}, got {status!r}")
    cli = context(ctx)
    incident = domain_errors(
        lambda: cli.incidents().post_update(incident_id, public, status, cli.target.actor(), title=title)
    )
    console.print(f"Public update posted on {escape(incident.id)} ({status}).")


@status_app.command("component")
@one_line_errors
def component(
    ctx: typer.Context,
    component_id: Annotated[str, typer.Argument(help="A component from siren.yaml status_page.components.")],
    status: Annotated[
        str,
        typer.Argument(
            help="operational (clears), degraded_performance, partial_outage, major_outage or under_maintenance."
        ),
    ],
) -> None:
    """Set a component's status by hand (operational gives it back to its incidents)."""
    cli = context(ctx)
    domain_errors(lambda: cli.status_page().set_component_status(component_id, status, cli.target.actor()))
    cli.request_status_publish(f"component {component_id} set to {status}")
    console.print(f"{escape(component_id)} is {status}.")


@status_app.command("show")
@one_line_errors
def show(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """What the status page shows now (computed from the store, as the publisher does)."""
    cli = context(ctx)
    snapshot = cli.status_page().snapshot()
    if as_json:
        print(
            json.dumps(
                {
                    "indicator": str(snapshot.indicator),
                    "description": snapshot.description,
                    "components": {view.component.id: str(view.status) for view in snapshot.components},
                    "unresolved": [incident.id for incident in snapshot.unresolved],
                    "maintenances": [window.id for window in snapshot.maintenances],
                },
                indent=2,
            )
        )
        return
    console.print(f"[bold]{escape(snapshot.description)}[/]")
    for view in snapshot.components:
        console.print(f"  {escape(view.component.name)}: {view.status} ({view.uptime_percent:.2f}% uptime)")


def _moment(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} must be an ISO 8601 time such as 2026-12-01T02:00Z, got {value!r}") from None
    if moment.tzinfo is None:
        raise UsageError(f"{option} needs a time zone (e.g. 2026-12-01T02:00Z or +01:00), got {value!r}")
    return moment


@maintenance_app.command("add")
@one_line_errors
def add_maintenance(
    ctx: typer.Context,
    components: Annotated[str, typer.Option("--components", help="Component ids, comma-separated.")],
    start: Annotated[str, typer.Option("--start", help="ISO 8601 with a time zone, e.g. 2026-12-01T02:00Z.")],
    end: Annotated[str, typer.Option("--end", help="ISO 8601 with a time zone.")],
    title: Annotated[str, typer.Option("--title", help="What customers read.")],
    body: Annotated[str, typer.Option("--body", help="More detail for customers.")] = "",
) -> None:
    """Schedule maintenance: shown as scheduled, then in progress (components under maintenance), then gone."""
    cli = context(ctx)
    ids = [part.strip() for part in components.split(",") if part.strip()]
    window = domain_errors(
        lambda: cli.status_page().add_maintenance(
            title=title,
            component_ids=ids,
            starts_at=_moment(start, "--start"),
            ends_at=_moment(end, "--end"),
            body=body,
            actor=cli.target.actor(),
        )
    )
    cli.request_status_publish(f"maintenance {window.id} scheduled", maintenance_id=window.id)
    console.print(f"Maintenance {window.id} scheduled.")


def register(app: typer.Typer) -> None:
    app.command("update")(update)
    app.add_typer(status_app, name="status")
    app.add_typer(maintenance_app, name="maintenance")
