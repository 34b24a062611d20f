"""Senders of other vendors' APIs (siren.yaml ``integrations``): PagerDuty's Events API v2 and Opsgenie's Alert API.

Each integration is a name and the service its alerts open incidents on. Its key (the PagerDuty routing key, the
Opsgenie API key) is the sender's credential: it is never in siren.yaml, but derived from the stack's integration
secret (siren.domain.integration_keys), so that a new integration needs no new secret and ``key_version`` + 1
rotates one key alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from siren.domain.policy.serialization import PolicyPart

PAGERDUTY: Final = "pagerduty"
OPSGENIE: Final = "opsgenie"
APIS: Final = (PAGERDUTY, OPSGENIE)

# PagerDuty's payload.severity (its four values) and Opsgenie's priority (P1..P5), as SEV levels by default.
DEFAULT_PAGERDUTY_SEVERITIES: Final[Mapping[str, str]] = MappingProxyType(
    {"critical": "SEV1", "error": "SEV2", "warning": "SEV3", "info": "SEV4"}
)
DEFAULT_OPSGENIE_PRIORITIES: Final[Mapping[str, str]] = MappingProxyType(
    {"P1": "SEV1", "P2": "SEV2", "P3": "SEV3", "P4": "SEV4", "P5": "SEV5"}
)


@dataclass(frozen=True, slots=True)
class Integration(PolicyPart):
    name: str  # lowercase letters, digits, "-" and "_": part of what the key is derived from
    service: str
    key_version: int = 1  # raise it to give this integration a new key (the old one stops working)


@dataclass(frozen=True, slots=True)
class Integrations(PolicyPart):
    pagerduty: tuple[Integration, ...] = ()
    opsgenie: tuple[Integration, ...] = ()
    pagerduty_severities: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PAGERDUTY_SEVERITIES))
    opsgenie_priorities: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_OPSGENIE_PRIORITIES))

    def of(self, api: str) -> tuple[Integration, ...]:
        if api == PAGERDUTY:
            return self.pagerduty
        if api == OPSGENIE:
            return self.opsgenie
        raise ValueError(f"unknown API {api!r} (one of {', '.join(APIS)})")
