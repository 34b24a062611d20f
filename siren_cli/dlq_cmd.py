"""``siren dlq list`` and ``siren dlq redrive``: what reached the stack's dead-letter queues, and its replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_cli.context import CliContext, context
from siren_cli.errors import CliError, UsageError, one_line_errors

if TYPE_CHECKING:
    from siren.app.dead_letters import DeadLetter, DeadLetterReplays

console = Console(emoji=False)
dlq_app = typer.Typer(help="Dead letters: what failed every retry, and its replay.", no_args_is_help=True)


def replays(cli: CliContext) -> DeadLetterReplays:
    from siren.adapters.bus import EventBus
    from siren.adapters.dead_letters import DeadLetterQueues, FunctionInvoker, OutboxEvents, StackWiring
    from siren.adapters.dynamodb import DynamoIncidents
    from siren.app.dead_letters import DeadLetterReplays

    cli.target  # noqa: B018 - points this process's AWS clients at the stack's AWS
    table, bus = cli.output("IncidentsTableName"), cli.output("EventBusName")
    return DeadLetterReplays(
        queues=DeadLetterQueues(),
        wiring=StackWiring(cli.stack),
        outbox=OutboxEvents(table),
        incidents=DynamoIncidents(table),
        bus=EventBus(bus),
        invoker=FunctionInvoker(),
        bus_names=["default", bus],
    )


@dlq_app.command("list")
@one_line_errors
def list_dead_letters(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Each dead-letter queue of the stack: messages waiting, the oldest's age, and what each message holds."""
    now = datetime.now(UTC)
    reports = replays(context(ctx)).inventory()
    if as_json:
        print(json.dumps([report.as_json(now) for report in reports], indent=2, default=str))
        return
    for report in reports:
        shown = report.as_json(now)
        oldest = "-" if shown["oldest_age_seconds"] is None else _age(shown["oldest_age_seconds"])
        table = Table(title=f"{report.queue}: {report.waiting} waiting, oldest {oldest}")
        for column in ("id", "kind", "age", "what it holds"):
            table.add_column(column)
        for letter in report.letters:
            row = letter.as_json(now)
            age = "-" if row["age_seconds"] is None else _age(row["age_seconds"])
            table.add_row(escape(letter.id), str(letter.kind), age, escape(_holds(letter)))
        console.print(table)


@dlq_app.command("redrive")
@one_line_errors
def redrive(
    ctx: typer.Context,
    message_id: Annotated[str | None, typer.Argument(help="The message to replay (see `siren dlq list`).")] = None,
    all_messages: Annotated[bool, typer.Option("--all", help="Replay every message of every queue.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay dead letters: lifecycle events again from the incident table (stream batches), original events to
    their functions (the others). Each message is deleted only once its replay succeeded."""
    if all_messages == (message_id is not None):
        raise UsageError("give a message id or --all")
    results = replays(context(ctx)).redrive(None if all_messages else [str(message_id)])
    if as_json:
        print(json.dumps([result.as_json() for result in results], indent=2))
    else:
        if not results:
            console.print("Nothing to replay: the dead-letter queues are empty.")
        for result in results:
            console.print(f"{escape(result.id)} ({result.kind}): {result.outcome}: {escape(result.detail)}")
    failed = [result for result in results if result.outcome == "failed"]
    if failed:
        raise CliError(f"{len(failed)} of {len(results)} messages were not replayed; they stay in their queue")


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _holds(letter: DeadLetter) -> str:
    holds = letter.holds
    if str(letter.kind) == "stream-batch":
        incidents = ", ".join(holds.get("incidents") or []) or "no incident found in the table"
        return (
            f"shard {holds['shard']} #{holds['start_sequence_number']}..#{holds['end_sequence_number']} "
            f"({holds['batch_size']} records, {holds['condition']}): {incidents}"
        )
    if str(letter.kind) == "refused-alert":
        return f"refused {holds['source']} alert: {holds['reason']}"
    if str(letter.kind) == "event":
        return f"{holds['event']}" + (f": {holds['error'][:120]}" if holds.get("error") else "")
    return str(holds.get("body", ""))
