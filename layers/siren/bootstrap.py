"""The composition root for Lambda: settings -> adapters -> use cases, built once per container.

Each function imports only what its own use case needs (imports sit inside the builders): an ingest function
does not pay the cold start of the paging channels, and a paging function not that of the parsers.
"""

from __future__ import annotations

import functools
import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from siren.adapters.store import IncidentStore
from siren.config import SirenConfig, config_from_json
from siren.settings import Settings, SettingsError

if TYPE_CHECKING:
    from siren.adapters.bus import EventBus
    from siren.adapters.channels import Pager
    from siren.app.escalation import Escalation
    from siren.app.incidents import Incidents
    from siren.app.intake import Intake


@functools.cache
def _deployed_config(path: str) -> SirenConfig:
    try:
        return config_from_json(json.loads(Path(path).read_text()))
    except FileNotFoundError:
        raise SettingsError(f"SIREN_CONFIG_PATH {path} does not exist (is the config layer attached?)") from None


def deployed_config(settings: Settings) -> SirenConfig:
    if not settings.config_path:
        raise SettingsError("environment variable SIREN_CONFIG_PATH is required but not set")
    return _deployed_config(settings.config_path)


def store(settings: Settings) -> IncidentStore:
    return IncidentStore(settings.table_name, timedelta(days=settings.raw_alert_ttl_days))


def intake() -> Intake:
    settings = Settings.load()
    return _intake(settings)


@functools.cache
def _intake(settings: Settings) -> Intake:
    from siren.adapters.dead_letters import DeadLetters
    from siren.adapters.secrets import secret_string
    from siren.app.ingest import Ingestor
    from siren.app.intake import Intake

    token_arn = settings.webhook_token_secret_arn
    return Intake(
        Ingestor(store(settings), deployed_config(settings)),
        DeadLetters(settings.dead_letter_queue_url),
        webhook_token=(lambda: secret_string(token_arn)) if token_arn else None,
    )


def incidents() -> Incidents:
    from siren.app.incidents import Incidents

    settings = Settings.load()
    return Incidents(store(settings), deployed_config(settings))


def escalation() -> Escalation:
    from siren.app.escalation import Escalation, PagingSettings

    settings = Settings.load()
    return Escalation(
        store(settings), deployed_config(settings), pager(settings), PagingSettings(email_sender=settings.email_sender)
    )


def pager(settings: Settings) -> Pager:
    from siren.adapters.channels import Pager

    return Pager(settings.origination_identity)


def state_machine_arn() -> str:
    arn = Settings.load().state_machine_arn
    if not arn:
        raise SettingsError("environment variable ESCALATION_STATE_MACHINE_ARN is required but not set")
    return arn


def event_bus() -> EventBus:
    from siren.adapters.bus import EventBus

    return EventBus(Settings.load().event_bus_name)
