"""``siren heartbeats``: the heartbeats of siren.yaml and how each is doing; a ping for jobs that prefer the CLI."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_cli.context import CliContext, context
from siren_cli.errors import CliError, UsageError, one_line_errors

if TYPE_CHECKING:
    from siren.app.heartbeats import Heartbeats

console = Console(emoji=False)
heartbeats_app = typer.Typer(help="Heartbeats of your jobs: a missed ping is an incident.", no_args_is_help=True)
STATUS_STYLE = {"up": "green", "late": "yellow", "down": "bold red", "never": "dim"}


def _heartbeats(cli: CliContext) -> Heartbeats:
    from siren.app.heartbeats import Heartbeats
    from siren.app.ingest import Ingestor

    stores = cli.stores()
    return Heartbeats(stores.heartbeats, cli.config, Ingestor(stores.incidents, cli.config))


@heartbeats_app.command("list")
@one_line_errors
def list_heartbeats(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Each heartbeat: status (up, late, down, never), last ping, and the deadline of its next ping."""
    views = _heartbeats(context(ctx)).views()
    if as_json:
        print(json.dumps([view.to_json() for view in views], indent=2))
        return
    if not views:
        console.print("No heartbeats in the config (see `heartbeats:` in siren.yaml).")
        return
    table = Table(title=f"Heartbeats ({len(views)})")
    for column in ("name", "service", "status", "last ping", "next deadline"):
        table.add_column(column)
    for view in views:
        style = STATUS_STYLE.get(str(view.status), "")
        table.add_row(
            escape(view.name),
            escape(view.service),
            f"[{style}]{view.status}[/]" if style else str(view.status),
            _shown(view.last_ping_at),
            _shown(view.deadline),
        )
    console.print(table)


@heartbeats_app.command("ping")
@one_line_errors
def ping(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The heartbeat's name in siren.yaml.")]) -> None:
    """Ping a heartbeat as a job would: POST <WebhookUrl>heartbeat/NAME with the webhook's bearer token."""
    from siren.adapters.secrets import secret_string

    cli = context(ctx)
    url = cli.output("WebhookUrl").rstrip("/") + "/heartbeat/" + urllib.parse.quote(name, safe="")
    token = secret_string(cli.output("WebhookTokenSecretArn"))
    request = urllib.request.Request(  # noqa: S310 (the stack's own webhook URL)
        url, data=b"", method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            reason = json.loads(error.read() or b"{}").get("error") or error.reason
        except (json.JSONDecodeError, AttributeError):
            reason = error.reason
        raise (UsageError if error.code == 404 else CliError)(f"the webhook answered {error.code}: {reason}") from None
    except (urllib.error.URLError, ConnectionError) as error:
        raise CliError(f"cannot reach the webhook at {url}: {getattr(error, 'reason', error)}") from None
    deadline = answer.get("next_deadline")
    console.print(
        f"Pinged {escape(name)}: {escape(str(answer.get('status')))}"
        + (f", next deadline {escape(str(deadline))}" if deadline else "")
    )


def _shown(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def register(app: typer.Typer) -> None:
    app.add_typer(heartbeats_app, name="heartbeats")
