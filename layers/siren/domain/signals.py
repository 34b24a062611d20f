"""The normalized signal: what every alert source becomes before it touches an incident.

A signal says "this thing (dedup key) is firing / resolved", with what the source told us. Parsers (one per
source family, in :mod:`siren.domain.parsers`) build signals from raw payloads and never do I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta


class SignalStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    # CloudWatch's INSUFFICIENT_DATA: ignored by default, configurable per service.
    INSUFFICIENT_DATA = "insufficient_data"


class Source(enum.StrEnum):
    CLOUDWATCH = "cloudwatch"  # "CloudWatch Alarm State Change" events through EventBridge
    CLOUDWATCH_SNS = "cloudwatch-sns"  # alarm actions through SNS (the classic notification JSON)
    CLOUDWATCH_LAMBDA = "cloudwatch-lambda"  # alarm actions that invoke Siren's function directly (alarmData)
    ALERTMANAGER = "alertmanager"  # Prometheus Alertmanager webhook v4
    GRAFANA = "grafana"  # Grafana alerting webhook
    DATADOG = "datadog"  # Datadog monitor notifications (Webhooks integration)
    GENERIC = "generic"  # Siren's documented generic JSON
    PAGERDUTY = "pagerduty"  # PagerDuty's Events API v2 (POST <WebhookUrl>pagerduty/v2/enqueue)
    MANUAL = "manual"  # `siren declare`
    CANARY = "canary"  # Siren's own end-to-end canary (POST <WebhookUrl>canary): never pages, never public
    OPSGENIE = "opsgenie"  # Opsgenie's Alert API (POST <WebhookUrl>opsgenie/v2/alerts): siren.app.opsgenie_api


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
    # The sender gave no id of its own (a generic alert without event_id): delivery_id is a hash of the alert's
    # content, which the same failure repeats night after night. The ingestor scopes it to the incident it applies
    # to (see siren.app.ingest), so that a redelivery is applied once but the same failure after a resolve is new.
    scoped_delivery: bool = False


CLOCK_SKEW_NOTE = "clock_skew"  # the details key of the note a clamped timestamp leaves


def clamped_to_receipt(signal: Signal, received_at: datetime, allowance: timedelta) -> Signal:
    """``signal`` with an occurred_at more than ``allowance`` ahead of ``received_at`` set to ``received_at``, and a
    note in its details saying so; otherwise ``signal`` itself.

    A sender whose clock runs fast (a Prometheus a few minutes ahead) still has a real alert: refusing it would lose
    the page, and Alertmanager would re-send the same group, refused the same way, every group_interval. Nothing
    happens in the future, so the receive time is the best truth we have; the note keeps the sender's own time.
    """
    if signal.occurred_at <= received_at + allowance:
        return signal
    ahead = int((signal.occurred_at - received_at).total_seconds())
    note = (
        f"the sender's time {signal.occurred_at.isoformat()} was {ahead} s ahead of the time Siren received it "
        f"({received_at.isoformat()}); taken as the receive time (is the sender's clock fast?)"
    )
    return replace(signal, occurred_at=received_at, details={**signal.details, CLOCK_SKEW_NOTE: note})


@dataclass(frozen=True, slots=True)
class Refusal:
    """One alert of a request that cannot be applied: its position in the request and why, for the sender."""

    index: int  # 0 for a body that is one alert
    reason: str

    def to_json(self) -> dict[str, int | str]:
        return {"index": self.index, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Judgement:
    """A webhook request judged alert by alert: each alert either became a signal or was refused, on its own."""

    total: int  # alerts in the request (all of them, whatever window was judged)
    accepted: tuple[tuple[int, Signal], ...] = ()  # (index in the request, signal), in request order
    refused: tuple[Refusal, ...] = ()

    def strict(self) -> list[Signal]:
        """The signals, or the first refusal as a ParseError: for callers that take a request whole or not at all."""
        if self.refused:
            raise ParseError(self.refused[0].reason)
        return [signal for _, signal in self.accepted]
