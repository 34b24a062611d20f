"""``siren config validate``: check the project config the way the synth does."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from siren_cli.errors import EXIT_USAGE

config_app = typer.Typer(help="The project config (siren.yaml).", no_args_is_help=True)


@config_app.command("validate")
def validate(
    path: Annotated[Path | None, typer.Argument(help="The config file (default: $SIREN_CONFIG or siren.yaml).")] = None,
) -> None:
    """Check the config; print every problem as file:line: field: message."""
    from siren.config import ConfigError, load_config

    config_path = path or Path(os.environ.get("SIREN_CONFIG") or "siren.yaml")
    try:
        config = load_config(config_path)
    except FileNotFoundError:
        print(f"siren: error: config file {config_path} not found", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE) from None
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        raise typer.Exit(EXIT_USAGE) from None
    Console(emoji=False).print(
        f"{config_path}: OK ({len(config.services)} services, {len(config.severity.rules)} severity rules)"
    )
