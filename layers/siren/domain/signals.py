"""The normalized signal: what every alert source becomes before it touches an incident.

A signal says "this thing (dedup key) is firing / resolved", with what the source told us. Parsers (one per
source family, in :mod:`siren.domain.parsers`) build signals from raw payloads and never do I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


class SignalStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    # CloudWatch's INSUFFICIENT_DATA: ignored by default, configurable per service.
    INSUFFICIENT_DATA = "insufficient_data"


class Source(enum.StrEnum):
    CLOUDWATCH = "cloudwatch"  # "CloudWatch Alarm State Change" events through EventBridge
    CLOUDWATCH_SNS = "cloudwatch-sns"  # alarm actions through SNS (the classic notification JSON)
    ALERTMANAGER = "alertmanager"  # Prometheus Alertmanager webhook v4
    GRAFANA = "grafana"  # Grafana alerting webhook
    GENERIC = "generic"  # Siren's documented generic JSON
    MANUAL = "manual"  # `siren declare`
    CANARY = "canary"  # Siren's own end-to-end canary (POST <WebhookUrl>canary): never pages, never public


SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5")


class ParseError(ValueError):
    """The payload is not a valid alert of its family. The message says what was wrong, for the sender."""


@dataclass(frozen=True, slots=True)
class SeverityHints:
    """What a source says that severity rules can match on. Every field is optional."""

    alarm_name: str | None = None
    namespace: str | None = None
    metric: str | None = None
    # Text a "[SEV2]"-style tag is looked for in: the alarm description, or an annotation/summary.
    description: str | None = None
    # Alertmanager/Grafana labels (severity, team, ...); for CloudWatch, the metric's dimensions.
    labels: Mapping[str, str] = field(default_factory=dict)
    # A severity stated outright by the sender (generic format's "severity", `siren declare --severity`).
    explicit: str | None = None


@dataclass(frozen=True, slots=True)
class Signal:
    source: Source
    # Idempotency key of this delivery: a redelivered payload yields the same delivery_id.
    delivery_id: str
    # What makes two signals "the same thing": alarm ARN (CloudWatch), fingerprint (Alertmanager, Grafana),
    # the sender's dedup_key (generic). Namespaced by source family, e.g. "cloudwatch:arn:aws:...".
    dedup_key: str
    status: SignalStatus
    title: str
    occurred_at: datetime  # timezone-aware, UTC
    service: str | None = None  # the service the sender names, if any; config maps the rest
    summary: str = ""  # internal detail (alarm reason...): never shown on the public status page
    hints: SeverityHints = field(default_factory=SeverityHints)
    # Where the sender's own view lives (alarm console URL, generatorURL...), for responders.
    link: str | None = None
    # Source-specific facts worth keeping on the incident (alarm ARN, region, account, labels...).
    details: Mapping[str, str] = field(default_factory=dict)
    # A game-day drill: pages only these participants, never public, never in the real figures.
    drill: bool = False
    participants: tuple[str, ...] = ()
    # Siren's end-to-end canary: runs the first escalation step without sending, then resolves itself.
    canary: bool = False
