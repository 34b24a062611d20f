"""Datadog monitor notifications through Datadog's Webhooks integration (``POST <WebhookUrl>datadog``).

Datadog sends what the webhook's payload template says, with its ``$VARIABLES`` filled in as strings
(https://docs.datadoghq.com/integrations/webhooks/). Two templates are understood:

- Datadog's **default payload**, sent when the webhook's Payload field is left as it comes::

    {"body": "$EVENT_MSG", "last_updated": "$LAST_UPDATED", "event_type": "$EVENT_TYPE", "title": "$EVENT_TITLE",
     "date": "$DATE", "org": {"id": "$ORG_ID", "name": "$ORG_NAME"}, "id": "$ID"}

  It names no monitor and no transition: both are read from the event title, which Datadog writes as
  ``[Triggered on {host:web-1}] Monitor name`` (``[Recovered on ...]``, ``[Warn]``, ``[No Data]``, ``[Re-Triggered]``,
  ``[Renotify]``, possibly after a ``[P1]``).
- **Siren's payload** (the default one plus the variables Datadog documents for exactly this): recommended, because
  the monitor id and the aggregation key do not change when someone renames the monitor::

    {"id": "$ID", "title": "$EVENT_TITLE", "date": "$DATE", "last_updated": "$LAST_UPDATED",
     "event_type": "$EVENT_TYPE", "body": "$EVENT_MSG", "org": {"id": "$ORG_ID", "name": "$ORG_NAME"},
     "alert_id": "$ALERT_ID", "alert_transition": "$ALERT_TRANSITION", "aggreg_key": "$AGGREG_KEY",
     "alert_priority": "$ALERT_PRIORITY", "alert_scope": "$ALERT_SCOPE", "hostname": "$HOSTNAME",
     "tags": "$TAGS", "link": "$LINK"}

What each becomes:

- status, from ``alert_transition`` (else the title): Triggered, Re-Triggered, Renotify, Warn and Re-Warn fire;
  Recovered resolves (or marks recovered: the service's policy decides, as for every source); No Data and Re-No Data
  are INSUFFICIENT_DATA (ignored unless the service says otherwise, as CloudWatch's). Anything else is refused.
- dedup_key ``"datadog:monitor:" + alert_id + "|group:" + group``, where the group is ``aggreg_key``, else the scope
  (``alert_scope``, else the ``on {...}`` of the title); without ``alert_id``, the monitor is the title's name:
  ``"datadog:title:" + name + "|group:" + group``. Trigger, re-trigger and recovery of one monitor and group are
  therefore one incident; another host of the same multi-alert monitor is another.
- delivery_id ``"datadog:" + id`` (Datadog's event id: a retried notification is applied once); a payload without
  ``id`` is identified by its content, scoped to its incident (as a generic alert without event_id).
- occurred_at from ``date`` (epoch milliseconds, as $DATE is), else ``last_updated``, else the receive time.
- severity: ``alert_priority`` (else a ``[P1]`` in the title) P1..P5 is stated as SEV1..SEV5 (the ``explicit``
  rule) and kept as the label ``priority``; ``tags`` (``"env:prod,service:checkout"``) become labels, and the
  ``service:`` tag names the service; ``hostname`` is the label ``host`` unless a tag says it.

Every variable may arrive empty (a monitor without priority gives ``"alert_priority": ""``): empty counts as absent.
A sample of each template: tests/events/datadog_webhook_*.json.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from siren.domain.parsers._common import (
    MAX_SUMMARY,
    MAX_TITLE,
    aware_utc,
    http_url,
    judge_each,
    stable_hash,
    timestamp,
    truncate,
)
from siren.domain.signals import Judgement, ParseError, SeverityHints, Signal, SignalStatus, Source
from siren.domain.validation import describe, mapping, optional_mapping, optional_str, sequence

MAX_ID: Final = 255
# $ALERT_TRANSITION's values, lower-cased with single spaces; "warn" pages as an alert does (a lower threshold
# is still a threshold crossed): severity rules can tell it by the label transition=warn.
TRANSITIONS: Final = {
    "triggered": SignalStatus.FIRING,
    "re-triggered": SignalStatus.FIRING,
    "renotify": SignalStatus.FIRING,
    "warn": SignalStatus.FIRING,
    "re-warn": SignalStatus.FIRING,
    "recovered": SignalStatus.RESOLVED,
    "no data": SignalStatus.INSUFFICIENT_DATA,
    "re-no data": SignalStatus.INSUFFICIENT_DATA,
}
_PRIORITY: Final = re.compile(r"[Pp]([1-5])")
# A title's leading "[...]" groups: "[P1] [Triggered on {host:web-1,env:prod}] Disk full".
_BRACKET: Final = re.compile(r"\s*\[([^\]]*)\]")
_TRANSITION_IN_TITLE: Final = re.compile(
    r"(?P<transition>re-triggered|triggered|renotify|re-warn|warn|recovered|re-no data|no data)"
    r"(?:\s+on\s+\{(?P<scope>.*)\})?",
    re.IGNORECASE,
)
_EPOCH_SECONDS_BELOW: Final = 100_000_000_000  # a $DATE below this is in seconds (year 5138 in seconds)


def parse_datadog(body: Any, received_at: datetime) -> list[Signal]:
    """The signal of a Datadog webhook notification (already decoded from JSON). Raises ParseError."""
    return judge_datadog(body, received_at).strict()


def judge_datadog(body: Any, received_at: datetime, window: range | None = None) -> Judgement:
    """A Datadog notification is one alert: a ParseError when the body is not an object; else the alert is a signal
    or a refusal that names the field at fault."""
    if not isinstance(body, Mapping):
        raise ParseError(f"the body must be a JSON object (a Datadog webhook payload), not {describe(body)}")
    received = aware_utc(received_at)
    return judge_each([(body, "")], window, lambda alert, where: _alert(mapping(alert, "the body"), received))


@dataclass(frozen=True, slots=True)
class _Title:
    """What Datadog's event title says: the transition, the scope of a multi-alert, a priority, the monitor name."""

    name: str
    transition: str | None = None
    scope: str | None = None
    priority: str | None = None


def read_title(title: str) -> _Title:
    """``"[P2] [Triggered on {host:web-1}] Disk full"`` -> transition "triggered", scope "host:web-1", priority
    "P2", name "Disk full". A title without those brackets is all name."""
    rest, transition, scope, priority = title, None, None, None
    while (bracket := _BRACKET.match(rest)) is not None:
        text = bracket.group(1).strip()
        found = _TRANSITION_IN_TITLE.fullmatch(text)
        if found is not None and transition is None:
            transition, scope = _normal(found["transition"]), found["scope"]
        elif _PRIORITY.fullmatch(text) and priority is None:
            priority = text.upper()
        else:
            break  # a bracket of the monitor's own name ("[prod] Disk full"): the name starts here
        rest = rest[bracket.end() :]
    return _Title(rest.strip() or title.strip(), transition, scope.strip() if scope else None, priority)


def _alert(alert: Mapping[str, Any], received_at: datetime) -> Signal:
    title_text = _text(alert, "title")
    if title_text is None:
        raise ParseError("title is required (the event title, $EVENT_TITLE)")
    title = read_title(title_text)
    status, transition = _status(alert, title)
    alert_id = _identifier(alert, "alert_id")
    scope = _text(alert, "alert_scope") or title.scope
    group = _text(alert, "aggreg_key") or scope or ""
    monitor = f"monitor:{alert_id}" if alert_id is not None else f"title:{title.name}"
    labels = _tags(alert.get("tags"))
    hostname = _text(alert, "hostname")
    if hostname is not None:
        labels.setdefault("host", hostname)
    priority = _priority(alert, title)
    if priority is not None:
        labels["priority"] = priority
    labels["transition"] = transition
    event_id = _identifier(alert, "id")
    link_text = _text(alert, "link")
    link = http_url(link_text)
    if link_text is not None and link is None:
        raise ParseError("link must be an http(s) URL of at most 2048 characters ($LINK)")
    body = _text(alert, "body") or ""
    details = _details(alert, alert_id, group, transition)
    shown = f"{title.name} ({scope})" if scope else title.name
    return Signal(
        source=Source.DATADOG,
        delivery_id=f"datadog:{event_id}" if event_id is not None else stable_hash(["datadog", dict(alert)]),
        dedup_key=truncate(f"datadog:{monitor}|group:{group}", 1024),
        status=status,
        title=truncate(shown, MAX_TITLE),
        occurred_at=_occurred_at(alert, received_at),
        service=(labels.get("service") or "").strip() or None,
        summary=truncate(body, MAX_SUMMARY),
        hints=SeverityHints(
            alarm_name=title.name,
            metric=_text(alert, "alert_metric"),
            description=truncate(body, MAX_SUMMARY) if body else None,
            labels=labels,
            explicit=f"SEV{priority[1]}" if priority is not None else None,
        ),
        link=link,
        details=details,
        scoped_delivery=event_id is None,
    )


def _status(alert: Mapping[str, Any], title: _Title) -> tuple[SignalStatus, str]:
    """The status and the transition's name, from alert_transition, else from the title."""
    given = _text(alert, "alert_transition")
    if given is not None:
        transition = _normal(given)
        if transition not in TRANSITIONS:
            known = ", ".join(sorted(TRANSITIONS))
            raise ParseError(f"alert_transition must be one of {known} ($ALERT_TRANSITION), not {given!r}")
        return TRANSITIONS[transition], transition
    if title.transition is None:
        raise ParseError(
            "alert_transition is required when the title does not start with the transition (like "
            '"[Triggered on {host:web-1}] ..."): add "alert_transition": "$ALERT_TRANSITION" to the payload'
        )
    return TRANSITIONS[title.transition], title.transition


def _priority(alert: Mapping[str, Any], title: _Title) -> str | None:
    given = _text(alert, "alert_priority")
    if given is None or given.strip().lower() in ("none", "null"):
        return title.priority
    if not _PRIORITY.fullmatch(given.strip()):
        raise ParseError(f"alert_priority must be P1, P2, P3, P4 or P5 ($ALERT_PRIORITY), not {given!r}")
    return given.strip().upper()


def _tags(value: Any) -> dict[str, str]:
    """$TAGS ("env:prod,service:checkout,critical"), or a list of such tags: name:value labels; a bare tag is a
    label with an empty value."""
    if value is None:
        return {}
    if isinstance(value, str):
        tags = value.split(",")
    else:
        tags = list(sequence(value, "tags"))
        for index, tag in enumerate(tags):
            if not isinstance(tag, str):
                raise ParseError(f"tags[{index}] must be a string, not {describe(tag)}")
    labels: dict[str, str] = {}
    for tag in tags:
        name, _, text = tag.strip().partition(":")
        if name.strip():
            labels[name.strip()] = text.strip()
    return labels


def _occurred_at(alert: Mapping[str, Any], received_at: datetime) -> datetime:
    for key in ("date", "last_updated"):
        value = alert.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            raise ParseError(f"{key} must be epoch milliseconds ($DATE), not {describe(value)}")
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
            number = float(value)
            seconds = number if number < _EPOCH_SECONDS_BELOW else number / 1000
            try:
                return datetime.fromtimestamp(seconds, UTC)
            except (ValueError, OverflowError, OSError):
                raise ParseError(f"{key} is not a usable time: {value!r}") from None
        if isinstance(value, str):
            return timestamp(value, key)
        raise ParseError(f"{key} must be epoch milliseconds ($DATE), not {describe(value)}")
    return received_at


def _details(alert: Mapping[str, Any], alert_id: str | None, group: str, transition: str) -> dict[str, str]:
    details = {"transition": transition}
    if alert_id is not None:
        details["monitor_id"] = alert_id
    if group:
        details["group"] = truncate(group, MAX_TITLE)
    for key in ("event_type", "alert_cycle_key", "alert_query", "alert_status"):
        text = _text(alert, key)
        if text is not None:
            details[key] = truncate(text, MAX_SUMMARY)
    org = optional_mapping(alert, "org", "")
    org_name = optional_str(org, "name", "org")
    if org_name is not None:
        details["org"] = truncate(org_name, MAX_TITLE)
    return details


def _text(alert: Mapping[str, Any], key: str) -> str | None:
    return optional_str(alert, key, "")


def _identifier(alert: Mapping[str, Any], key: str) -> str | None:
    """An id Datadog fills in ($ID, $ALERT_ID): a string, or a number when the template left it unquoted."""
    value = alert.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ParseError(f"{key} must be a string or a whole number, not {describe(value)}")
    if len(value) > MAX_ID:
        raise ParseError(f"{key} must be at most {MAX_ID} characters, not {len(value)}")
    return value.strip() or None


def _normal(transition: str) -> str:
    return " ".join(transition.split()).lower()


__all__ = ["TRANSITIONS", "judge_datadog", "parse_datadog", "read_title"]
