"""The severity rules: which signals get which severity, or take the one the sender stated."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from siren.domain.policy.serialization import OMIT_EMPTY, PolicyPart
from siren.domain.signals import Source


class BuiltinRule(enum.StrEnum):
    """Severity rules that read what the sender said, named by ``use:`` in ``severity.rules``."""

    EXPLICIT = "explicit"  # SeverityHints.explicit
    DESCRIPTION_TAG = "description_tag"  # a "[SEV2]" tag in the description or the title
    SEVERITY_LABEL = "severity_label"  # the "severity" label through severity.label_map


# Rule names a severity decision records when no configured rule made it ("declared": `siren declare`).
RESERVED_RULE_NAMES: Final = frozenset({"service-default", "default", "declared"})
DEFAULT_LABEL_MAP: Final[Mapping[str, str]] = {
    "critical": "SEV1",
    "high": "SEV2",
    "error": "SEV2",
    "warning": "SEV3",
    "info": "SEV4",
}


@dataclass(frozen=True, slots=True)
class Match(PolicyPart):
    """The ``when`` of a rule: every field given must match (AND)."""

    alarm_name: str | None = None  # fnmatch glob, case-sensitive
    namespace: str | None = None
    metric: str | None = None
    service: str | None = None  # the resolved service
    source: Source | None = None
    labels: Mapping[str, str] = field(default_factory=dict, metadata=OMIT_EMPTY)  # each label must be equal


@dataclass(frozen=True, slots=True)
class WhenRule(PolicyPart):
    """Give ``severity`` to signals that match ``when``."""

    name: str
    when: Match
    severity: str


@dataclass(frozen=True, slots=True)
class UseRule(PolicyPart):
    """Take the severity the sender stated, one of the ways :class:`BuiltinRule` names."""

    name: str
    use: BuiltinRule


SeverityRule = WhenRule | UseRule

DEFAULT_RULES: Final[tuple[SeverityRule, ...]] = (
    UseRule("explicit", BuiltinRule.EXPLICIT),
    UseRule("description_tag", BuiltinRule.DESCRIPTION_TAG),
    UseRule("severity_label", BuiltinRule.SEVERITY_LABEL),
)


@dataclass(frozen=True, slots=True)
class SeverityConfig(PolicyPart):
    # Keys are lowercase: a "severity" label's value is looked up lowercased.
    label_map: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LABEL_MAP))
    rules: tuple[SeverityRule, ...] = DEFAULT_RULES  # in order, the first match wins
