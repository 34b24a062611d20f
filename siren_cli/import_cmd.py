"""``siren import pagerduty|opsgenie``: the on-call setup of another tool as siren.yaml sections, and a report.

Reads a recorded export (``--from DIR``) or the vendor's REST API (``--api-token``, ``--base-url``), writes the
users, schedules, escalation_policies, severity_policies and services sections to ``--output`` (never over an
existing file unless ``--force``: the user's siren.yaml is theirs), validated by Siren's own config loader, and
tells what could not be imported exactly, and why, on stdout and in ``--report FILE`` as JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from siren_cli.errors import UsageError, one_line_errors

if TYPE_CHECKING:
    from siren_cli.importers.common import Imported


class Vendor(StrEnum):
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"


@one_line_errors
def import_setup(
    vendor: Annotated[Vendor, typer.Argument(help="Where the on-call setup comes from.")],
    from_dir: Annotated[
        Path | None, typer.Option("--from", help="A directory of the API's JSON (see the README for the layout).")
    ] = None,
    api_token: Annotated[
        str | None,
        typer.Option("--api-token", envvar="SIREN_IMPORT_API_TOKEN", help="Fetch from the API with this token/key."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="The API's URL (default: the vendor's; EU Opsgenie: api.eu...).")
    ] = None,
    output: Annotated[Path, typer.Option("--output", help="Where to write the sections.")] = Path(
        "siren.imported.yaml"
    ),
    report: Annotated[Path | None, typer.Option("--report", help="Also write the report here, as JSON.")] = None,
    save: Annotated[
        Path | None, typer.Option("--save", help="Keep what was fetched here, as a --from directory.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The export's 'now' (ISO 8601 with offset; default: now).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output if it exists.")] = False,
) -> None:
    """Import users, schedules, escalation policies and services from PagerDuty or Opsgenie."""
    if (from_dir is None) == (api_token is None):
        raise UsageError("give either --from DIR (a recorded export) or --api-token (fetch from the API)")
    if output.exists() and not force:
        raise UsageError(f"{output} exists: give another --output, or --force to overwrite it")
    now = datetime.now(UTC) if as_of is None else _instant(as_of)
    imported, text = _import(vendor, from_dir, api_token, base_url, save, now)
    output.write_text(text, encoding="utf-8")
    if report is not None:
        report.write_text(json.dumps(imported.report.to_json(), indent=2) + "\n", encoding="utf-8")
    sections = imported.sections
    print(
        f"Wrote {output}: {len(sections.get('users', {}))} users, {len(sections.get('schedules', {}))} schedules,"
        f" {len(sections.get('escalation_policies', {}))} escalation policies,"
        f" {len(sections.get('services', {}))} services."
    )
    print(imported.report.text())


def _import(
    vendor: Vendor, from_dir: Path | None, api_token: str | None, base_url: str | None, save: Path | None, now: datetime
) -> tuple[Imported, str]:
    from siren.config import ConfigError
    from siren_cli.importers.common import ExportError, render_yaml

    try:
        imported = (
            _pagerduty(from_dir, api_token, base_url, save, now)
            if vendor is Vendor.PAGERDUTY
            else _opsgenie(from_dir, api_token, base_url, save, now)
        )
        return imported, render_yaml(imported)
    except ExportError as error:
        raise UsageError(str(error)) from None
    except ConfigError as error:  # a bug of the importer, not of the user's input: say exactly what
        raise UsageError("the imported config does not validate:\n" + "\n".join(map(str, error.problems))) from None


def _pagerduty(
    from_dir: Path | None, api_token: str | None, base_url: str | None, save: Path | None, now: datetime
) -> Imported:
    from siren_cli.importers import pagerduty
    from siren_cli.importers.common import JsonClient, check_base_url

    if from_dir is not None:
        return pagerduty.convert(pagerduty.read_export(from_dir), now)
    client = JsonClient(check_base_url(base_url or pagerduty.DEFAULT_BASE_URL), f"Token token={api_token}")
    export = pagerduty.fetch_export(client, now, now + timedelta(days=14))
    if save is not None:
        export.save(save)
    return pagerduty.convert(export, now)


def _opsgenie(
    from_dir: Path | None, api_token: str | None, base_url: str | None, save: Path | None, now: datetime
) -> Imported:
    from siren_cli.importers import opsgenie
    from siren_cli.importers.common import JsonClient, check_base_url

    if from_dir is not None:
        return opsgenie.convert(opsgenie.read_export(from_dir), now)
    client = JsonClient(check_base_url(base_url or opsgenie.DEFAULT_BASE_URL), f"GenieKey {api_token}")
    export = opsgenie.fetch_export(client, now, 14)
    if save is not None:
        export.save(save)
    return opsgenie.convert(export, now)


def _instant(text: str) -> datetime:
    from siren_cli.importers.common import ExportError, instant

    try:
        return instant(text)
    except (ExportError, ValueError):
        raise UsageError(f"--as-of must be an ISO 8601 date-time with its offset (got {text!r})") from None


def register(app: typer.Typer) -> None:
    app.command("import")(import_setup)
