"""Reports, postmortem drafts and action items."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_cli.context import context
from siren_cli.errors import CliError, UsageError, domain_errors, one_line_errors
from siren_cli.options import IncidentIdArgument, JsonOption

console = Console(emoji=False)
actions_app = typer.Typer(help="Action items from incidents, tracked to completion.", no_args_is_help=True)


@one_line_errors
def report(
    ctx: typer.Context,
    period: Annotated[str, typer.Option("--period", help="7d, 30d, or FROM..TO (dates or ISO times).")] = "7d",
    send: Annotated[bool, typer.Option("--send", help="Mail it to reports.recipients (SES).")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the HTML report to this file.")] = None,
) -> None:
    """The leadership report: MTTA, MTTR, incidents, on-call load and action items, against the period before."""
    from siren.adapters.report_mail import ReportMail, UnverifiedSender
    from siren.domain.reports import parse_period

    cli = context(ctx)
    reports = cli.reports()
    chosen = domain_errors(lambda: parse_period(period, datetime.now(UTC), cli.config.reports.zone))
    rendered = reports.build(chosen)
    if out is not None:
        out.write_text(rendered.html, encoding="utf-8")
        console.print(f"HTML written to {escape(str(out))}")
    print(rendered.text)
    if send:
        sender = cli.email_sender()
        try:
            message_id = domain_errors(lambda: reports.send(rendered, ReportMail(), sender))
        except UnverifiedSender as error:
            raise CliError(str(error)) from None
        console.print(f"Sent to {', '.join(cli.config.reports.recipients)} ({message_id}).")


@one_line_errors
def postmortem(
    ctx: typer.Context,
    incident_id: IncidentIdArgument,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the Markdown to this file.")] = None,
) -> None:
    """A blameless postmortem draft from the timeline, stored beside the incident and linked from it."""
    from siren.adapters.artifacts import Artifacts

    cli = context(ctx)
    artifacts = Artifacts(cli.output("ArtifactsBucketName"))
    markdown, location = domain_errors(lambda: cli.reports().postmortem(incident_id, artifacts, cli.target.actor()))
    if out is not None:
        out.write_text(markdown, encoding="utf-8")
        console.print(f"Written to {escape(str(out))}")
    else:
        print(markdown)
    console.print(f"Stored at {escape(location or '')} and linked from {escape(incident_id)}'s timeline.")


def _due(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--due must be a date such as 2026-12-15, got {value!r}") from None


@actions_app.command("add")
@one_line_errors
def add_action(
    ctx: typer.Context,
    incident_id: IncidentIdArgument,
    title: Annotated[str, typer.Option("--title", help="What is to be done.")],
    owner: Annotated[str, typer.Option("--owner", help="Who sees it through.")],
    due: Annotated[str, typer.Option("--due", help="Due date, YYYY-MM-DD.")],
) -> None:
    """Add an action item to an incident."""
    cli = context(ctx)
    due_date = _due(due)
    record = domain_errors(lambda: cli.reports().add_action(incident_id, title, owner, due_date, cli.target.actor()))
    console.print(f"{record.id} added to {escape(incident_id)} (owner {escape(owner)}, due {due_date}).")


def _action_json(record: Any, today: date) -> dict[str, Any]:
    return {
        "id": record.id,
        "incident_id": record.incident_id,
        "title": record.title,
        "owner": record.owner,
        "due": record.due.isoformat(),
        "status": "done" if record.done_at else "open",
        "overdue": record.is_overdue(today),
        "done_at": record.done_at.isoformat() if record.done_at else None,
        "created_at": record.created_at.isoformat(),
    }


@actions_app.command("list")
@one_line_errors
def list_actions(
    ctx: typer.Context,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open items past their due date.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Action items: open ones first, by due date."""
    cli = context(ctx)
    today = datetime.now(UTC).astimezone(cli.config.reports.zone).date()
    rows = [_action_json(record, today) for record in cli.reports().actions(overdue_only=overdue)]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="Action items")
    for column in ("id", "incident", "title", "owner", "due", "status"):
        table.add_column(column, overflow="fold")
    for row in rows:
        status = "overdue" if row["overdue"] else row["status"]
        table.add_row(row["id"], row["incident_id"], escape(row["title"]), escape(row["owner"]), row["due"], status)
    console.print(table)


@actions_app.command("done")
@one_line_errors
def done_action(ctx: typer.Context, action_id: Annotated[str, typer.Argument(help="Action item id.")]) -> None:
    """Mark an action item done."""
    cli = context(ctx)
    record = domain_errors(lambda: cli.reports().complete_action(action_id, cli.target.actor()))
    console.print(f"{record.id} is done.")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("postmortem")(postmortem)
    app.add_typer(actions_app, name="actions")
