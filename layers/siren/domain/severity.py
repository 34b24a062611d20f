"""Which service a signal belongs to, what severity it gets and why, and how its service treats signals.

Pure functions of a signal and the configuration (:mod:`siren.domain.policy`); every decision carries the rule that
made it and a sentence for the incident timeline, so responders can see why they were paged at SEV1.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Final

from siren.domain.policy import (
    BuiltinRule,
    Match,
    ServicePolicy,
    SeverityRule,
    SirenConfig,
    UseRule,
    WhenRule,
)
from siren.domain.signals import SEVERITIES, Signal, Source

DEFAULT_SERVICE: Final = "default"
SERVICE_DEFAULT_RULE: Final = "service-default"
DEFAULT_RULE: Final = "default"

_TAG: Final = re.compile(r"\[(SEV[1-5])\]", re.IGNORECASE)
_CLOUDWATCH: Final = frozenset({Source.CLOUDWATCH, Source.CLOUDWATCH_SNS})


@dataclass(frozen=True, slots=True)
class SeverityDecision:
    severity: str  # one of SEVERITIES
    rule: str  # the configured rule's name, or "service-default" / "default" / "declared" (siren declare)
    reason: str  # for the incident timeline


def resolve_service(signal: Signal, config: SirenConfig) -> str:
    """The service the sender named, else the first configured service (in file order) whose alarm patterns
    match the alarm name, else the "service" or "job" label, else "default"."""
    if signal.service and signal.service.strip():
        return signal.service.strip().lower()
    alarm_name = signal.hints.alarm_name
    if alarm_name:
        for service in config.services.values():
            if any(fnmatchcase(alarm_name, pattern) for pattern in service.alarm_patterns):
                return service.name
    for label in ("service", "job"):
        value = signal.hints.labels.get(label, "").strip()
        if value:
            return value.lower()
    return DEFAULT_SERVICE


def resolve_severity(signal: Signal, service: str, config: SirenConfig) -> SeverityDecision:
    """The first rule that matches decides; else the service's default severity; else the global default."""
    for rule in config.severity.rules:
        decision = _apply(rule, signal, service, config)
        if decision is not None:
            return decision
    configured = config.services.get(service)
    if configured is not None and configured.default_severity is not None:
        severity = configured.default_severity
        reason = f"no rule matched; service {service} defaults to {severity}"
        return SeverityDecision(severity, SERVICE_DEFAULT_RULE, reason)
    severity = config.defaults.severity
    reason = f"no rule matched and service {service} has no default severity; the default is {severity}"
    return SeverityDecision(severity, DEFAULT_RULE, reason)


def policy_for(service: str, config: SirenConfig) -> ServicePolicy:
    """The service's settings over the defaults; a service the configuration does not name gets the defaults."""
    return config.service_policy(service)


def _apply(rule: SeverityRule, signal: Signal, service: str, config: SirenConfig) -> SeverityDecision | None:
    if isinstance(rule, WhenRule):
        matched = _matched(rule.when, signal, service)
        if matched is None:
            return None
        return SeverityDecision(rule.severity, rule.name, f'rule "{rule.name}" matched {_listed(matched)}')
    return _builtin(rule, signal, config)


def _matched(when: Match, signal: Signal, service: str) -> list[str] | None:
    """What the rule matched on, in words; None when any of its conditions does not hold."""
    hints = signal.hints
    conditions: list[tuple[bool, str]] = []
    if when.alarm_name is not None:
        holds = hints.alarm_name is not None and fnmatchcase(hints.alarm_name, when.alarm_name)
        conditions.append((holds, f"alarm name {when.alarm_name}"))
    if when.namespace is not None:
        conditions.append((hints.namespace == when.namespace, f"namespace {when.namespace}"))
    if when.metric is not None:
        conditions.append((hints.metric == when.metric, f"metric {when.metric}"))
    if when.service is not None:
        conditions.append((service == when.service, f"service {when.service}"))
    if when.source is not None:
        conditions.append((signal.source is when.source, f"source {when.source.value}"))
    if when.labels:
        holds = all(hints.labels.get(name) == value for name, value in when.labels.items())
        pairs = ", ".join(f"{name}={value}" for name, value in when.labels.items())
        conditions.append((holds, ("label " if len(when.labels) == 1 else "labels ") + pairs))
    if all(holds for holds, _ in conditions):
        return [words for _, words in conditions]
    return None


def _builtin(rule: UseRule, signal: Signal, config: SirenConfig) -> SeverityDecision | None:
    found = _BUILTIN[rule.use](signal, config)
    return None if found is None else SeverityDecision(found[0], rule.name, found[1])


def _explicit(signal: Signal, config: SirenConfig) -> tuple[str, str] | None:
    stated = (signal.hints.explicit or "").strip().upper()
    if stated not in SEVERITIES:
        return None
    return stated, f"severity {stated} stated by {'siren declare' if signal.source is Source.MANUAL else 'the sender'}"


def _description_tag(signal: Signal, config: SirenConfig) -> tuple[str, str] | None:
    description = "the alarm description" if signal.source in _CLOUDWATCH else "the description"
    for text, where in ((signal.hints.description, description), (signal.title, "the title")):
        tag = _TAG.search(text or "")
        if tag is not None:
            severity = tag.group(1).upper()
            return severity, f"tag [{severity}] in {where}"
    return None


def _severity_label(signal: Signal, config: SirenConfig) -> tuple[str, str] | None:
    label = signal.hints.labels.get("severity")
    if label is None:
        return None
    mapped = config.severity.label_map.get(label.strip().lower())
    if mapped is not None:
        return mapped, f'label severity="{label}" maps to {mapped}'
    if label.strip().upper() in SEVERITIES:  # a sender that labels in Siren's own terms
        return label.strip().upper(), f'label severity="{label}"'
    return None


# How each `use:` rule reads a signal: (severity, reason), or None when the signal does not say.
_BUILTIN: Final[Mapping[BuiltinRule, Callable[[Signal, SirenConfig], tuple[str, str] | None]]] = {
    BuiltinRule.EXPLICIT: _explicit,
    BuiltinRule.DESCRIPTION_TAG: _description_tag,
    BuiltinRule.SEVERITY_LABEL: _severity_label,
}


def _listed(parts: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    if len(parts) <= 1:
        return parts[0] if parts else "every signal"  # a `when` with no conditions, made in code
    return ", ".join(parts[:-1]) + " and " + parts[-1]
