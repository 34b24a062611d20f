"""What every command needs: where AWS is, the deployed stack's outputs, the project config."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from siren_cli.aws import Target, local_endpoint
from siren_cli.errors import CliError, UsageError

if TYPE_CHECKING:
    from siren.adapters.dynamodb import DynamoStore
    from siren.app.incidents import Incidents
    from siren.app.reports import Reports
    from siren.app.status_page import StatusPage
    from siren.domain.policy import SirenConfig


@dataclass
class CliContext:
    local: bool = False
    stack: str = "Siren"
    config_path: Path | None = None

    @functools.cached_property
    def target(self) -> Target:
        endpoint = local_endpoint() if self.local else os.environ.get("AWS_ENDPOINT_URL") or None
        target = Target(endpoint)
        target.activate()
        return target

    @functools.cached_property
    def outputs(self) -> dict[str, str]:
        try:
            return self.target.outputs(self.stack)
        except Exception as error:
            where = self.target.endpoint or "AWS"
            raise CliError(f"cannot read stack {self.stack} at {where}: {error}") from None

    def output(self, name: str) -> str:
        value = self.outputs.get(name)
        if not value:
            raise CliError(f"stack {self.stack} has no output {name}; deploy the current version")
        return value

    @functools.cached_property
    def config(self) -> SirenConfig:
        from siren.config import ConfigError, load_config

        path = self.config_path or Path(os.environ.get("SIREN_CONFIG") or "siren.yaml")
        if not path.exists():
            raise UsageError(f"config file {path} not found (use --config or run from the project root)")
        try:
            return load_config(path)
        except ConfigError as error:
            problems = str(error).splitlines()
            more = f" (and {len(problems) - 1} more: siren config validate lists them)" if len(problems) > 1 else ""
            raise UsageError(problems[0] + more) from None

    def stores(self) -> DynamoStore:
        """The deployed table's repositories, one per noun."""
        from siren.adapters.dynamodb import dynamo_store

        return dynamo_store(self.output("IncidentsTableName"))

    def incidents(self) -> Incidents:
        """People's changes to incidents; an acknowledgement or resolve from the CLI ends the escalation's wait at
        once, and a declared incident starts its escalation at once (the relayed event stays the guarantee)."""
        from siren.adapters.escalations import StepFunctionsRuns
        from siren.app.escalation_events import EscalationShortcut
        from siren.app.incidents import Incidents

        stores = self.stores()
        machine = self.outputs.get("EscalationStateMachineArn")
        shortcut = EscalationShortcut(stores.escalations, StepFunctionsRuns(machine)) if machine else None
        return Incidents(stores.incidents, self.config, after_commit=shortcut, escalation=shortcut)

    def reports(self) -> Reports:
        from siren.app.reports import Reports

        stores = self.stores()
        return Reports(stores.incidents, stores.action_items, self.config)

    def email_sender(self) -> str:
        """The deployed EmailSender parameter (what the stack's functions send from)."""
        return self.target.parameter(self.stack, "EmailSender") or "siren@example.com"

    def status_page(self) -> StatusPage:
        from siren.app.status_page import StatusPage

        stores = self.stores()
        return StatusPage(stores.incidents, stores.status_page, self.config, self.output("StatusPageUrl"))

    def request_status_publish(self, why: str, **detail: str) -> None:
        """Changes that are not incident lifecycle events reach the publisher as an event of their own (``detail``:
        what else its consumers read, e.g. the subscriber notifier a scheduled maintenance's id)."""
        from siren.adapters.bus import EventBus
        from siren.domain.incidents import EVENT_SOURCE, LifecycleEventType
        from siren.ports import BusEvent

        EventBus(self.output("EventBusName")).put(
            [BusEvent(EVENT_SOURCE, str(LifecycleEventType.STATUS_CHANGED), {"change": why, **detail})]
        )


def context(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliContext):
        obj = CliContext()
        ctx.find_root().obj = obj
    return obj
