"""The ``siren`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from siren_cli import (
    dlq_cmd,
    gameday_cmd,
    health_cmd,
    heartbeats_cmd,
    import_cmd,
    incidents,
    integrations_cmd,
    local,
    oncall_cmd,
    report_cmd,
    status_cmd,
)
from siren_cli.config_cmd import config_app
from siren_cli.context import CliContext

app = typer.Typer(
    help="Siren: the serverless incident pipeline for AWS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    use_local: Annotated[bool, typer.Option("--local", help="Use the embedded local AWS (127.0.0.1:4566).")] = False,
    stack: Annotated[str, typer.Option("--stack", help="The deployed stack's name.")] = "Siren",
    config: Annotated[Path | None, typer.Option("--config", help="The project config (default: siren.yaml).")] = None,
) -> None:
    """Operate incidents on AWS (the normal credential chain) or on the embedded local AWS."""
    ctx.obj = CliContext(local=use_local, stack=stack, config_path=config)


app.add_typer(local.app, name="local")
app.add_typer(config_app, name="config")
incidents.register(app)
oncall_cmd.register(app)
status_cmd.register(app)
report_cmd.register(app)
gameday_cmd.register(app)
health_cmd.register(app)
dlq_cmd.register(app)
heartbeats_cmd.register(app)
integrations_cmd.register(app)
import_cmd.register(app)


if __name__ == "__main__":
    app()
