"""``siren oncall``: who is on call now (or at --at), per schedule of siren.yaml, and until when."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_cli.context import context
from siren_cli.errors import UsageError, one_line_errors
from siren_cli.options import JsonOption

if TYPE_CHECKING:
    from siren.domain.policy import SirenConfig

console = Console(emoji=False)


@one_line_errors
def oncall(
    ctx: typer.Context,
    schedule: Annotated[str | None, typer.Option("--schedule", help="Only this schedule.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="An ISO 8601 instant with its offset, e.g. 2026-03-08T09:00-05:00.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Who is on call per schedule, until when, and how to reach them."""
    config = context(ctx).config
    moment = _instant(at)
    rows = [_row(name, config, moment) for name in _schedules(config, schedule)]
    if as_json:
        print(json.dumps([{key: row[key] for key in ("schedule", "user", "name", "until")} for row in rows], indent=2))
        return
    if not rows:
        console.print("No schedules in the config.")
        return
    table = Table(title=f"On call at {moment.isoformat(timespec='minutes')}")
    for column in ("schedule", "on call", "until", "contact"):
        table.add_column(column)
    for row in rows:
        who = "nobody" if row["user"] is None else f"{row['name']} ({row['user']})"
        table.add_row(escape(row["schedule"]), escape(who), escape(row["until_shown"]), escape(row["contact"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("oncall")(oncall)


def _instant(at: str | None) -> datetime:
    from siren.domain.times import aware_moment

    if at is None:
        return datetime.now(UTC)
    return aware_moment(
        at,
        unreadable=f"--at must be an ISO 8601 date-time such as 2026-03-08T09:00-05:00, got {at!r}",
        naive=f"--at needs an offset or Z (the schedules are in different time zones), got {at!r}",
        error=UsageError,
    )


def _schedules(config: SirenConfig, chosen: str | None) -> list[str]:
    if chosen is None:
        return list(config.schedules)
    if chosen not in config.schedules:
        known = ", ".join(config.schedules) or "none configured"
        raise UsageError(f"no schedule {chosen!r} in the config (schedules: {known})")
    return [chosen]


def _row(name: str, config: SirenConfig, moment: datetime) -> dict[str, Any]:
    """The JSON row (schedule, user, name, until) and what the table shows besides."""
    from siren.domain.oncall import SHIFT_HORIZON, shift_at

    schedule = config.schedules[name]
    shift = shift_at(schedule, moment)
    user = None if shift is None else config.users.get(shift.user)
    # A shift that reaches the horizon shift_at looks at has no known end: "until" is then null.
    end = None if shift is None or shift.end >= moment.astimezone(UTC) + SHIFT_HORIZON else shift.end
    local_end = None if end is None else end.astimezone(schedule.zone)
    return {
        "schedule": name,
        "user": None if shift is None else shift.user,
        "name": None if user is None else user.name,
        "until": None if local_end is None else local_end.isoformat(timespec="minutes"),
        "until_shown": "-" if local_end is None else local_end.strftime("%a %d %b %H:%M %Z"),
        "contact": "" if user is None else ", ".join(filter(None, (user.phone, user.email))),
    }
