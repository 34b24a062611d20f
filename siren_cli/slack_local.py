"""``siren local slack-command`` and ``siren local slack-click``: Slack's requests, signed, to the local Slack app.

They read the running runtime's stack outputs (SlackUrl, SlackSigningSecretArn), the signing secret from its Secrets
Manager, sign as Slack signs (siren_cli.slack_signing) and print what Siren answers, as Slack would show it. So a demo
or a test acts from "Slack" through the same verified path a real workspace uses.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from siren_cli.aws import DEFAULT_LOCAL_PORT, Target, local_endpoint
from siren_cli.errors import CliError, UsageError, one_line_errors
from siren_cli.options import JsonOption
from siren_cli.slack_signing import BUTTONS, SignedSlack, command_form

console = Console(emoji=False)
PortOption = Annotated[int, typer.Option("--port", help="Port of the embedded local AWS on 127.0.0.1.")]
MemberOption = Annotated[
    str,
    typer.Option("--as", help="The Slack member id sending it (users[].slack in siren.yaml, e.g. U07ALICE01)."),
]


def local_slack(port: int) -> SignedSlack:
    """The deployed Slack app's URL and signing secret, from the running embedded local AWS."""
    target = Target(local_endpoint(port))
    outputs = target.control("info")["outputs"]
    url, secret_arn = outputs.get("SlackUrl"), outputs.get("SlackSigningSecretArn")
    if not url or not secret_arn:
        raise CliError("the deployed stack has no SlackUrl / SlackSigningSecretArn output; deploy the current version")
    secret = target.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    return SignedSlack(url, str(secret))


def _show(status: int, answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"status": status, "answer": answer}, indent=2))
    elif status != 200:
        raise CliError(f"Siren answered {status}: {answer.get('error') or answer}")
    else:
        seen_by = "the channel" if answer.get("response_type") == "in_channel" else "you only"
        console.print(f"[dim]Siren ({seen_by}):[/dim] {escape(str(answer.get('text', '')))}")
    if status != 200:
        raise typer.Exit(1)


@one_line_errors
def slack_command(
    command_line: Annotated[str, typer.Argument(help='The slash command as typed in Slack, e.g. "/siren oncall".')],
    member: MemberOption,
    port: PortOption = DEFAULT_LOCAL_PORT,
    as_json: JsonOption = False,
) -> None:
    """Send a /siren command as Slack sends it (signed), and print Siren's answer."""
    try:
        command_form(command_line, member)
    except ValueError as error:
        raise UsageError(str(error)) from None
    _show(*local_slack(port).command(command_line, member), as_json)


@one_line_errors
def slack_click(
    incident_id: Annotated[str, typer.Argument(help="The incident whose message's button is clicked.")],
    action: Annotated[str, typer.Argument(help="acknowledge, resolve or escalate.")],
    member: MemberOption,
    port: PortOption = DEFAULT_LOCAL_PORT,
    as_json: JsonOption = False,
) -> None:
    """Click an incident message's button as Slack sends it (signed block_actions), and print Siren's answer."""
    if action not in BUTTONS:
        raise UsageError(f"the button must be one of {', '.join(BUTTONS)}, got {action!r}")
    _show(*local_slack(port).click(action, incident_id, member), as_json)


def register(app: typer.Typer) -> None:
    app.command("slack-command")(slack_command)
    app.command("slack-click")(slack_click)
