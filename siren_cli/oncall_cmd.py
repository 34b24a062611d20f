"""``siren oncall``: who is on call now (or at --at), per schedule of siren.yaml, and until when; ``siren oncall
ical``: the shifts ahead as an iCalendar file to subscribe to."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_cli.context import context
from siren_cli.errors import CliError, UsageError, one_line_errors
from siren_cli.options import JsonOption

if TYPE_CHECKING:
    from siren.domain.policy import SirenConfig

console = Console(emoji=False)
# `siren oncall` answers by itself and has subcommands (`ical`): a group whose callback is the plain command.
oncall_app = typer.Typer(no_args_is_help=False)
MAX_CALENDAR_DAYS = 366


@oncall_app.callback(invoke_without_command=True)
@one_line_errors
def oncall(
    ctx: typer.Context,
    schedule: Annotated[str | None, typer.Option("--schedule", help="Only this schedule.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="An ISO 8601 instant with its offset, e.g. 2026-03-08T09:00-05:00.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Who is on call per schedule, until when, and how to reach them (`siren oncall ical`: as a calendar)."""
    if ctx.invoked_subcommand is not None:
        return
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


@oncall_app.command("ical")
@one_line_errors
def ical(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's shifts, across all schedules.")] = None,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Only this schedule's shifts, for everyone on it.")
    ] = None,
    days: Annotated[int, typer.Option("--days", help=f"How many days ahead (1 to {MAX_CALENDAR_DAYS}).")] = 30,
    start: Annotated[
        str | None,
        typer.Option("--from", help="Start of the period, an ISO 8601 instant with its offset (default: now)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the .ics file here (default: standard output).")
    ] = None,
) -> None:
    """On-call shifts ahead as an iCalendar (.ics) file to subscribe to.

    One event per shift; a shift keeps its UID across exports, so a subscribed calendar updates it in place.
    """
    from siren_cli.calendar_export import build_calendar, calendar_shifts

    config = context(ctx).config
    if user is not None and schedule is not None:
        raise UsageError("--user and --schedule cannot be combined: --user already covers every schedule")
    if not 1 <= days <= MAX_CALENDAR_DAYS:
        raise UsageError(f"--days must be between 1 and {MAX_CALENDAR_DAYS}, got {days}")
    if user is not None and user not in config.users:
        known = ", ".join(config.users) or "none configured"
        raise UsageError(f"no user {user!r} in the config (users: {known})")
    names = _schedules(config, schedule)
    period_start = _instant(start, option="--from")
    found = calendar_shifts(config, period_start, period_start + timedelta(days=days), user=user, schedule=schedule)
    calendar = build_calendar(config, found, calendar_name=_calendar_name(config, user, names), stamp=_now())
    text = calendar.to_ical()
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_bytes(text)
    except OSError as error:
        raise CliError(f"cannot write {output}: {error.strerror or error}") from None
    console.print(f"Wrote {len(found)} shifts over {days} days from {period_start:%Y-%m-%d %H:%M %Z} to {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(oncall_app, name="oncall")


def _now() -> datetime:
    return datetime.now(UTC)


def _instant(at: str | None, option: str = "--at") -> datetime:
    from siren.domain.times import aware_moment

    if at is None:
        return _now()
    return aware_moment(
        at,
        unreadable=f"{option} must be an ISO 8601 date-time such as 2026-03-08T09:00-05:00, got {at!r}",
        naive=f"{option} needs an offset or Z (the schedules are in different time zones), got {at!r}",
        error=UsageError,
    )


def _calendar_name(config: SirenConfig, user: str | None, schedules: list[str]) -> str:
    if user is not None:
        person = config.users[user]
        return f"Siren on call: {person.name} ({user})" if person.name != user else f"Siren on call: {user}"
    if len(schedules) == 1:
        return f"Siren on call: {schedules[0]}"
    return "Siren on call"


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
