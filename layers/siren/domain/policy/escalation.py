"""Escalation: who a level pages, how long it waits, and the incident roles paged beside it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Self

from siren.domain.policy.serialization import KEY, PolicyPart
from siren.domain.signals import SEVERITIES


class TargetKind(enum.StrEnum):
    SCHEDULE = "schedule"  # whoever is on call on the schedule when the level pages
    USER = "user"


SEVERITY_POLICY_KEYS: Final = ("default", *SEVERITIES)


@dataclass(frozen=True, slots=True)
class Target(PolicyPart):
    """Who a level pages: a schedule's on-call user at the time of the page, or a user."""

    kind: TargetKind
    name: str

    def to_json(self) -> dict[str, Any]:
        return {self.kind.value: self.name}  # as written: {"schedule": "primary"}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], key: str | None = None) -> Self:
        ((kind, name),) = data.items()
        return cls(TargetKind(kind), name)


@dataclass(frozen=True, slots=True)
class EscalationLevel(PolicyPart):
    """Page every target, then wait ``delay_minutes`` for an acknowledgement before the next level."""

    targets: tuple[Target, ...]
    delay_minutes: int


@dataclass(frozen=True, slots=True)
class EscalationPolicy(PolicyPart):
    name: str = field(metadata=KEY)
    levels: tuple[EscalationLevel, ...]
    repeat: int = 1  # how many times the levels run in all


@dataclass(frozen=True, slots=True)
class Roles(PolicyPart):
    """Incident roles paged in parallel with the escalation, for incidents of ``severities``."""

    severities: tuple[str, ...]
    commander: Target | None = None
    comms: Target | None = None
