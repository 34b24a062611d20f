"""``siren integrations keys``: the keys of the PagerDuty and Opsgenie integrations of siren.yaml, for their senders.

The keys are derived from the deployed stack's integration secret (siren.domain.integration_keys): reading it takes
``secretsmanager:GetSecretValue`` on that secret, which an operator has and a sender does not need.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_cli.context import CliContext, context
from siren_cli.errors import CliError, one_line_errors

console = Console(emoji=False)
integrations_app = typer.Typer(
    help="Senders of PagerDuty's Events API v2 and Opsgenie's Alert API, moved to Siren.", no_args_is_help=True
)


def integration_keys(cli: CliContext) -> list[dict[str, str]]:
    """Every integration of the config with its key: ``{"api", "name", "service", "key"}``, PagerDuty's first."""
    from siren.domain.integration_keys import integration_key
    from siren.domain.policy import APIS

    arn = cli.output("IntegrationSecretArn")
    try:
        secret = cli.target.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    except Exception as error:
        raise CliError(f"cannot read the integration secret {arn}: {error}") from None
    integrations = cli.config.integrations
    return [
        {
            "api": api,
            "name": integration.name,
            "service": integration.service,
            "key": integration_key(secret.encode(), api, integration),
        }
        for api in APIS
        for integration in integrations.of(api)
    ]


@integrations_app.command("keys")
@one_line_errors
def keys(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Each integration's key (PagerDuty routing key, Opsgenie API key) and the service its alerts open."""
    found = integration_keys(context(ctx))
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    if not found:
        console.print("no integrations in siren.yaml (section integrations: pagerduty, opsgenie)")
        return
    table = Table(title="Integrations")
    for column in ("api", "name", "service"):
        table.add_column(column)
    # Whole, on one line, whatever the terminal's width: a key is copied into the sender's configuration.
    table.add_column("key", no_wrap=True, min_width=max(len(entry["key"]) for entry in found))
    for entry in found:
        table.add_row(*(escape(entry[column]) for column in ("api", "name", "service", "key")))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(integrations_app, name="integrations")
