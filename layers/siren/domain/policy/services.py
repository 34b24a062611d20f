"""Services and how their signals behave: recovery, CloudWatch's INSUFFICIENT_DATA, flapping."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta

from siren.domain.policy.serialization import KEY, OMIT_EMPTY, PolicyPart


class OnRecovery(enum.StrEnum):
    """What a resolved signal does to its open incident."""

    RESOLVE = "resolve"  # the incident resolves by itself
    RECOVER = "recover"  # the incident is marked recovered; a person resolves it


class InsufficientData(enum.StrEnum):
    """What CloudWatch's INSUFFICIENT_DATA state counts as."""

    IGNORE = "ignore"
    ALERT = "alert"  # as firing
    RECOVER = "recover"  # as resolved


@dataclass(frozen=True, slots=True)
class Flapping(PolicyPart):
    """This many firing<->resolved transitions of one dedup key within the window: flapping, no new page."""

    transitions: int = 4
    window_minutes: int = 30


@dataclass(frozen=True, slots=True)
class FlappingOverride(PolicyPart):
    """A service's flapping settings; None inherits ``defaults.flapping``."""

    transitions: int | None = None
    window_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Defaults(PolicyPart):
    severity: str = "SEV3"
    on_recovery: OnRecovery = OnRecovery.RESOLVE
    insufficient_data: InsufficientData = InsufficientData.IGNORE
    flapping: Flapping = Flapping()


@dataclass(frozen=True, slots=True)
class Service(PolicyPart):
    """A service's settings as written; None inherits from ``defaults`` (:class:`ServicePolicy` is the result)."""

    name: str = field(metadata=KEY)
    description: str = ""
    alarm_patterns: tuple[str, ...] = ()  # fnmatch globs on CloudWatch alarm names, case-sensitive
    default_severity: str | None = None
    on_recovery: OnRecovery | None = None
    insufficient_data: InsufficientData | None = None
    flapping: FlappingOverride = field(default=FlappingOverride(), metadata=OMIT_EMPTY)


@dataclass(frozen=True, slots=True)
class ServicePolicy:
    """How one service's signals behave: its settings over the defaults (``SirenConfig.service_policy``)."""

    on_recovery: OnRecovery = OnRecovery.RESOLVE
    insufficient_data: InsufficientData = InsufficientData.IGNORE
    flapping_transitions: int = 4
    flapping_window: timedelta = timedelta(minutes=30)
    default_severity: str | None = None
