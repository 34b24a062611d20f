"""The notification shape Alertmanager and Grafana share: a group with ``alerts``, each with its own status.

Alertmanager's webhook v4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config) and Grafana's
webhook contact point (https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/
integrations/webhook-notifier/) send the same group document; Grafana adds ``orgId``, ``title``, ``state`` and
``message`` to the group and ``silenceURL``, ``dashboardURL``, ``panelURL`` and ``values`` to each alert, and calls
its version "1". Each alert of a group becomes one signal with the alert's own status: a group notification may
carry firing and resolved alerts together. Alerts are judged one by one (:func:`judge_group`): one wrong alert is
refused on its own, never its whole group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from siren.domain.parsers._common import (
    MAX_SUMMARY,
    MAX_TITLE,
    aware_utc,
    http_url,
    judge_each,
    optional_timestamp,
    stable_hash,
    timestamp,
    truncate,
)
from siren.domain.signals import Judgement, ParseError, SeverityHints, Signal, SignalStatus, Source
from siren.domain.validation import (
    describe,
    mapping,
    optional_str,
    optional_string_map,
    quoted,
    sequence,
    string_map,
    where_of,
)

_STATUSES: Final = {"firing": SignalStatus.FIRING, "resolved": SignalStatus.RESOLVED}
_FNV64_OFFSET: Final = 0xCBF29CE484222325
_FNV64_PRIME: Final = 0x100000001B3
_SEPARATOR: Final = 0xFF
MAX_FINGERPRINT: Final = 255


@dataclass(frozen=True, slots=True)
class Family:
    source: Source
    name: str  # for messages: "an Alertmanager webhook v4 notification"
    version: str
    link_keys: tuple[str, ...]  # the alert's URL fields, best first


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint Alertmanager itself gives an alert with these labels (prometheus/common's
    ``LabelSet.Fingerprint``: FNV-1a 64 over the sorted names and values, each followed by a 0xFF byte, as 16 hex
    digits), so that an alert sent without one folds with the same alert sent with one."""
    digest = _FNV64_OFFSET
    for name in sorted(labels, key=lambda text: text.encode("utf-8", "surrogatepass")):
        for part in (name, labels[name]):
            for byte in (*part.encode("utf-8", "surrogatepass"), _SEPARATOR):
                digest = ((digest ^ byte) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{digest:016x}"


def parse_group(body: Any, received_at: datetime | None, family: Family) -> list[Signal]:
    """Every alert of the group as a signal, or the first problem as a ParseError (the whole group or nothing)."""
    return judge_group(body, received_at, family).strict()


def judge_group(body: Any, received_at: datetime | None, family: Family, window: range | None = None) -> Judgement:
    """The group judged alert by alert: a ParseError only when the document itself is wrong (not this family's
    group, no alerts); an alert that is wrong is refused on its own, and its neighbours are still signals.

    ``window``: judge only the alerts at these indexes (a chunk of a large group); ``total`` counts them all.
    """
    if not isinstance(body, Mapping):
        raise ParseError(f"the body must be a JSON object ({family.name}), not {describe(body)}")
    version = body.get("version")
    if version != family.version:
        got = "missing" if version is None else repr(version)
        raise ParseError(f'version must be "{family.version}" ({family.name}); it is {got}')
    if body.get("alerts") is None:
        raise ParseError("alerts is required")
    alerts = sequence(body["alerts"], "alerts")
    if not alerts:
        raise ParseError("alerts must not be empty")
    group = _Group(
        family=family,
        common_labels=optional_string_map(body, "commonLabels", ""),
        context={
            "receiver": optional_str(body, "receiver", ""),
            "external_url": http_url(optional_str(body, "externalURL", "")),
        },
        received_at=aware_utc(received_at) if received_at is not None else None,
    )
    places = [(alert, f"alerts[{index}]") for index, alert in enumerate(alerts)]
    return judge_each(places, window, lambda alert, where: _alert(mapping(alert, where), where, group))


@dataclass(frozen=True, slots=True)
class _Group:
    """What a group says about all its alerts."""

    family: Family
    common_labels: Mapping[str, str]
    context: Mapping[str, str | None]  # facts for every alert's details
    received_at: datetime | None


def _alert(alert: Mapping[str, Any], where: str, group: _Group) -> Signal:
    family = group.family
    status_text = alert.get("status")
    status = _STATUSES.get(status_text) if isinstance(status_text, str) else None
    if status is None:
        raise ParseError(f'{where}.status must be "firing" or "resolved", not {quoted(status_text)}')
    if alert.get("labels") is None:
        raise ParseError(f"{where}.labels is required")
    own_labels = string_map(alert["labels"], where_of(where, "labels"))
    labels = {**group.common_labels, **own_labels}
    annotations = optional_string_map(alert, "annotations", where)
    if alert.get("startsAt") is None:
        raise ParseError(f"{where}.startsAt is required")
    starts_at = timestamp(alert["startsAt"], where_of(where, "startsAt"))
    ends_at = optional_timestamp(alert, "endsAt", where)
    fingerprint = optional_str(alert, "fingerprint", where, max_length=MAX_FINGERPRINT)
    if fingerprint is None:
        fingerprint = labels_fingerprint(own_labels)

    if status is SignalStatus.FIRING:
        occurred_at = starts_at
    elif ends_at is not None:
        occurred_at = ends_at
    elif group.received_at is not None:
        occurred_at = group.received_at  # a resolved alert without endsAt: it was resolved by the time it reached us
    else:
        raise ParseError(f"{where}.endsAt is required for a resolved alert")

    summary_annotation = _non_blank(annotations.get("summary"))
    description_annotation = _non_blank(annotations.get("description"))
    title = summary_annotation or _non_blank(labels.get("alertname")) or f"alert {fingerprint}"
    link = next(
        (url for key in family.link_keys if (url := http_url(optional_str(alert, key, where))) is not None), None
    )
    details = {"fingerprint": fingerprint, **{key: value for key, value in group.context.items() if value is not None}}
    runbook = http_url(_non_blank(annotations.get("runbook_url")))
    if runbook is not None:
        details["runbook_url"] = runbook
    description = description_annotation or summary_annotation  # where a "[SEV2]" tag is looked for
    return Signal(
        source=family.source,
        delivery_id=stable_hash(
            [fingerprint, status_text, starts_at.isoformat(), ends_at.isoformat() if ends_at else None]
        ),
        dedup_key=f"{family.source}:{fingerprint}",
        status=status,
        title=truncate(title, MAX_TITLE),
        occurred_at=occurred_at,
        service=_non_blank(labels.get("service")) or _non_blank(labels.get("job")),
        summary=truncate(description or "", MAX_SUMMARY),
        hints=SeverityHints(
            description=truncate(description, MAX_SUMMARY) if description else None,
            labels=labels,
        ),
        link=link,
        details=details,
    )


def _non_blank(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None
