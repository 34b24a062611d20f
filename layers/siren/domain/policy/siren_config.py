"""The whole policy, as siren.yaml declares it: :class:`SirenConfig`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Self

from siren.domain.policy.escalation import EscalationPolicy, Roles
from siren.domain.policy.integrations import Integrations
from siren.domain.policy.operations import Heartbeat, Operations, Paging, ReportsConfig
from siren.domain.policy.schedules import Schedule
from siren.domain.policy.serialization import PolicyPart, as_json, read_fields
from siren.domain.policy.services import Defaults, Service, ServicePolicy
from siren.domain.policy.severity_rules import SeverityConfig
from siren.domain.policy.slack import SlackConfig
from siren.domain.policy.status_page import StatusPageConfig
from siren.domain.policy.users import User
from siren.domain.signals import SEVERITIES


@dataclass(frozen=True, slots=True)
class SirenConfig(PolicyPart):
    defaults: Defaults = field(default_factory=Defaults)
    services: Mapping[str, Service] = field(default_factory=dict)  # in file order
    severity: SeverityConfig = field(default_factory=SeverityConfig)
    users: Mapping[str, User] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    escalation_policies: Mapping[str, EscalationPolicy] = field(default_factory=dict)
    # "default" and any of SEV1..SEV5 -> an escalation policy's name, as written.
    severity_policies: Mapping[str, str] = field(default_factory=dict)
    roles: Roles | None = None
    paging: Paging = field(default_factory=Paging)
    status_page: StatusPageConfig = field(default_factory=StatusPageConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    operations: Operations = field(default_factory=Operations)
    heartbeats: Mapping[str, Heartbeat] = field(default_factory=dict)  # by name, in file order
    integrations: Integrations = field(default_factory=Integrations)
    slack: SlackConfig = field(default_factory=SlackConfig)

    def policy_for_severity(self, severity: str) -> EscalationPolicy:
        """The escalation policy that pages for incidents of ``severity`` (its own, else the default)."""
        if severity not in SEVERITIES:
            raise ValueError(f"not a severity: {severity!r} (one of {', '.join(SEVERITIES)})")
        name = self.severity_policies.get(severity) or self.severity_policies.get("default")
        if name is None:
            raise LookupError(f"no escalation policy for {severity}: the configuration has no severity_policies")
        return self.escalation_policies[name]

    def service_policy(self, service: str) -> ServicePolicy:
        """The service's settings over the defaults; a service the configuration does not name gets the defaults."""
        defaults = self.defaults
        configured = self.services.get(service)
        if configured is None:
            return ServicePolicy(
                on_recovery=defaults.on_recovery,
                insufficient_data=defaults.insufficient_data,
                flapping_transitions=defaults.flapping.transitions,
                flapping_window=timedelta(minutes=defaults.flapping.window_minutes),
                default_severity=None,
            )
        flapping = configured.flapping
        return ServicePolicy(
            on_recovery=configured.on_recovery or defaults.on_recovery,
            insufficient_data=configured.insufficient_data or defaults.insufficient_data,
            flapping_transitions=_or(flapping.transitions, defaults.flapping.transitions),
            flapping_window=timedelta(minutes=_or(flapping.window_minutes, defaults.flapping.window_minutes)),
            default_severity=configured.default_severity,
        )

    def to_json(self) -> dict[str, Any]:
        """The normalized configuration (every default filled in), as shipped to Lambda.

        It is the YAML schema but for one thing: ``services`` is a list of objects with a ``name``, because the
        first service whose alarm patterns match wins, in file order, and the order of a JSON object's keys
        does not survive ``json.dumps(sort_keys=True)`` or ``jq -S``. (Nothing else depends on key order.)
        ``roles`` is written as null when there are none; ``heartbeats`` is a list, each with its name.
        """
        return {
            "defaults": self.defaults.to_json(),
            "services": [{"name": name, **service.to_json()} for name, service in self.services.items()],
            "severity": self.severity.to_json(),
            "users": as_json(self.users),
            "schedules": as_json(self.schedules),
            "escalation_policies": as_json(self.escalation_policies),
            "severity_policies": dict(self.severity_policies),
            "roles": as_json(self.roles),
            "paging": self.paging.to_json(),
            "status_page": self.status_page.to_json(),
            "reports": self.reports.to_json(),
            "operations": self.operations.to_json(),
            "heartbeats": as_json(list(self.heartbeats.values())),
            "integrations": self.integrations.to_json(),
            "slack": self.slack.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], key: str | None = None) -> Self:
        """What :meth:`to_json` wrote, trusted (validated at synth; see :mod:`siren.domain.policy.serialization`):
        the deployed configuration as Lambda reads it, without the validators of :mod:`siren.config`."""
        services = {entry["name"]: entry for entry in data.get("services", ())}
        heartbeats = {entry["name"]: entry for entry in data.get("heartbeats", ())}
        return read_fields(cls, {**data, "services": services, "heartbeats": heartbeats})


def _or(value: int | None, default: int) -> int:
    return default if value is None else value
