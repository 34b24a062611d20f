"""Options and arguments that several commands take, spelled (and helped) the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IncidentIdArgument = Annotated[str, typer.Argument(help="Incident id.")]
