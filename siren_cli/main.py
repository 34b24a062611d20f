"""The ``siren`` command."""

from __future__ import annotations

import typer

from siren_cli import local

app = typer.Typer(
    help="Siren: the serverless incident pipeline for AWS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(local.app, name="local")


if __name__ == "__main__":
    app()
