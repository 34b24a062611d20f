"""PagerDuty's Events API v2, read as PagerDuty reads it: alert events (``/v2/enqueue``) and change events
(``/v2/change/enqueue``), from any sender that was pointed at PagerDuty (Alertmanager's ``pagerduty_configs``,
Grafana, the ``pagerduty`` client library, curl in a cron job).

Pure: the routing key is checked here for its shape only (32 characters, letters and digits, as PagerDuty checks
it); which integration it belongs to is the caller's business (it needs the stack's secret). Every problem of an
event is collected, not only the first, and each names its field the way PagerDuty's own errors do
(``'payload.severity' is invalid ...``), because senders log PagerDuty's ``errors`` list as they got it.

Fields (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/): ``routing_key`` and ``event_action``
(trigger, acknowledge, resolve) are required; ``dedup_key`` (at most 255 characters) is required to acknowledge or
resolve, and a trigger without one gets a generated key, returned to the sender. A trigger needs ``payload`` with
``summary`` (at most 1024 characters), ``source`` and ``severity`` (critical, error, warning, info); ``timestamp``
(ISO 8601 with an offset), ``component``, ``group``, ``class`` and ``custom_details`` (any JSON) are optional, as
are ``links`` (``href``, ``text``), ``images`` (``src``, ``href``, ``alt``), ``client`` and ``client_url``. An
acknowledge or resolve is read for its key alone: Alertmanager sends its resolve with the trigger's payload, and
PagerDuty does not judge it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from siren.domain.parsers._common import MAX_SUMMARY, MAX_TITLE, http_url, stable_hash, timestamp, truncate
from siren.domain.signals import ParseError, SeverityHints, Signal, SignalStatus, Source
from siren.domain.validation import describe

ROUTING_KEY_LENGTH: Final = 32
MAX_DEDUP_KEY: Final = 255
MAX_EVENT_SUMMARY: Final = 1024
MAX_EVENT_BYTES: Final = 512 * 1024  # PagerDuty's documented size limit of one event
ACTIONS: Final = ("trigger", "acknowledge", "resolve")
SEVERITIES: Final = ("critical", "error", "warning", "info")
MAX_CONTEXTS: Final = 50  # links or images kept on the incident; more are dropped, not refused
MAX_DETAIL: Final = 4000  # characters of one detail kept on the incident (custom_details as JSON, links...)
_ALPHANUMERIC: Final = re.compile(r"[A-Za-z0-9]*", re.ASCII)


class InvalidEvent(ParseError):
    """The event is not one PagerDuty would take: every problem found, each naming its field."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = tuple(errors)


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert event of the Events API v2. ``payload`` fields are read for a trigger only."""

    routing_key: str
    action: str  # one of ACTIONS
    dedup_key: str | None  # None only for a trigger: the caller generates one
    summary: str = ""
    source: str = ""
    severity: str = ""  # one of SEVERITIES
    timestamp: datetime | None = None
    component: str | None = None
    group: str | None = None
    event_class: str | None = None
    custom_details: Any = None  # any JSON value, as sent
    links: tuple[Link, ...] = ()
    images: tuple[Link, ...] = ()  # href: the image's src; text: its alt text
    client: str | None = None
    client_url: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A change event (a deploy, a configuration change): context for responders, never an incident."""

    routing_key: str
    summary: str
    source: str | None = None
    timestamp: datetime | None = None
    custom_details: Any = None
    links: tuple[Link, ...] = ()


def routing_key_of(body: Any) -> str:
    """The routing key of an event, checked for its shape as PagerDuty checks it; InvalidEvent otherwise."""
    if not isinstance(body, Mapping):
        raise InvalidEvent([f"the event must be a JSON object, not {describe(body)}"])
    errors = _Errors()
    key = errors.text(body, "routing_key", required=True)
    if key is not None:
        if len(key) != ROUTING_KEY_LENGTH:
            errors.add(f"Length of 'routing_key' is incorrect (should be {ROUTING_KEY_LENGTH} characters)")
        if not _ALPHANUMERIC.fullmatch(key):
            errors.add("'routing_key' cannot contain non-alphanumeric characters.")
    if errors.found or key is None:  # a missing key is among the errors
        raise InvalidEvent(errors.found)
    return key


def read_alert_event(body: Any) -> AlertEvent:
    """An alert event (the body of ``POST /v2/enqueue``, decoded from JSON); InvalidEvent with every problem."""
    routing_key = routing_key_of(body)
    errors = _Errors()
    action = errors.text(body, "event_action", required=True)
    if action is not None and action not in ACTIONS:
        errors.add(f"'event_action' is invalid (must be one of {', '.join(ACTIONS)}; got {_shown(action)})")
    dedup_key = errors.text(body, "dedup_key", required=action in ("acknowledge", "resolve"), limit=MAX_DEDUP_KEY)
    if action != "trigger":
        if errors.found or action is None:
            raise InvalidEvent(errors.found)
        return AlertEvent(routing_key, action, dedup_key, raw=body)
    payload = _payload(body, errors)
    summary = errors.text(payload, "payload.summary", required=True, limit=MAX_EVENT_SUMMARY)
    source = errors.text(payload, "payload.source", required=True)
    severity = errors.text(payload, "payload.severity", required=True)
    if severity is not None and severity not in SEVERITIES:
        errors.add(f"'payload.severity' is invalid (must be one of {', '.join(SEVERITIES)}; got {_shown(severity)})")
    moment = _payload_timestamp(payload, errors)
    component = errors.text(payload, "payload.component")
    group = errors.text(payload, "payload.group")
    event_class = errors.text(payload, "payload.class")
    links = errors.contexts(body, "links", "href", "text")
    images = errors.contexts(body, "images", "src", "alt")
    client = errors.text(body, "client")
    client_url = errors.text(body, "client_url")
    if errors.found or summary is None or source is None or severity is None:
        raise InvalidEvent(errors.found)
    return AlertEvent(
        routing_key,
        "trigger",
        dedup_key,
        summary=summary,
        source=source,
        severity=severity,
        timestamp=moment,
        component=component,
        group=group,
        event_class=event_class,
        custom_details=payload.get("custom_details"),
        links=links,
        images=images,
        client=client,
        client_url=client_url,
        raw=body,
    )


def read_change_event(body: Any) -> ChangeEvent:
    """A change event (the body of ``POST /v2/change/enqueue``); InvalidEvent with every problem."""
    routing_key = routing_key_of(body)
    errors = _Errors()
    payload = _payload(body, errors)
    summary = errors.text(payload, "payload.summary", required=True, limit=MAX_EVENT_SUMMARY)
    source = errors.text(payload, "payload.source")
    moment = _payload_timestamp(payload, errors)
    links = errors.contexts(body, "links", "href", "text")
    if errors.found or summary is None:
        raise InvalidEvent(errors.found)
    return ChangeEvent(routing_key, summary, source, moment, payload.get("custom_details"), links)


def alert_signal(
    event: AlertEvent, integration: str, service: str, *, severity: str | None, dedup_key: str, received_at: datetime
) -> Signal:
    """The signal of a trigger or a resolve, for ``integration``'s ``service``; ``severity`` is the SEV level the
    configuration maps the event's severity to, ``dedup_key`` the event's key (or the one generated for it).

    The incident's key is namespaced by the integration, so that two senders that both use "disk-full" as their
    key never meet. The delivery id is the event's content hash, scoped to the incident it applies to (see
    :attr:`Signal.scoped_delivery`): a sender's retry is applied once, the same trigger after a resolve is new.
    """
    firing = event.action == "trigger"
    details: dict[str, str] = {"pagerduty_integration": integration, "pagerduty_dedup_key": dedup_key}
    if firing:
        details["pagerduty_severity"] = event.severity
        details["source"] = truncate(event.source, MAX_DETAIL)
        for name, value in (
            ("component", event.component),
            ("group", event.group),
            ("class", event.event_class),
            ("client", event.client),
        ):
            if value is not None:
                details[name] = truncate(value, MAX_DETAIL)
        if event.custom_details is not None:
            details["custom_details"] = truncate(_json(event.custom_details), MAX_DETAIL)
        for name, contexts in (("links", event.links), ("images", event.images)):
            if contexts:
                shown = [{"href": c.href, "text": c.text} for c in contexts[:MAX_CONTEXTS]]
                details[name] = truncate(_json(shown), MAX_DETAIL)
    labels = {
        name: value
        for name, value in (
            ("severity", event.severity),
            ("source", event.source),
            ("component", event.component),
            ("group", event.group),
            ("class", event.event_class),
        )
        if value
    }
    links = [http_url(link.href) for link in event.links] + [http_url(event.client_url)]
    without_key = {name: value for name, value in event.raw.items() if name != "routing_key"}
    return Signal(
        source=Source.PAGERDUTY,
        delivery_id=stable_hash({"integration": integration, "dedup_key": dedup_key, "event": without_key}),
        scoped_delivery=True,
        dedup_key=f"pagerduty:{integration}:{dedup_key}",
        status=SignalStatus.FIRING if firing else SignalStatus.RESOLVED,
        title=truncate(event.summary if firing else dedup_key, MAX_TITLE),
        occurred_at=event.timestamp or received_at,
        service=service,
        summary=truncate(event.summary, MAX_SUMMARY),
        hints=SeverityHints(description=event.summary or None, labels=labels, explicit=severity),
        link=next((link for link in links if link is not None), None),
        details=details,
    )


def _payload(body: Mapping[str, Any], errors: _Errors) -> Mapping[str, Any]:
    """The event's ``payload`` object; InvalidEvent (with the problems found so far) when it is not one."""
    payload = body.get("payload")
    if not isinstance(payload, Mapping):
        errors.add("'payload' is missing or blank" if payload is None else "'payload' must be an object")
        raise InvalidEvent(errors.found)
    return payload


def _payload_timestamp(payload: Mapping[str, Any], errors: _Errors) -> datetime | None:
    """``payload.timestamp`` if given (ISO 8601 with an offset), else None; a bad one is one more problem."""
    written = errors.text(payload, "payload.timestamp")
    if written is None:
        return None
    try:
        return timestamp(written, "'payload.timestamp'")
    except ParseError:
        errors.add(f"'payload.timestamp' is invalid (an ISO 8601 date-time with an offset; got {_shown(written)})")
        return None


class _Errors:
    """The problems of one event, in the order they were found."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, error: str) -> None:
        self.found.append(error)

    def text(
        self, container: Mapping[str, Any], path: str, *, required: bool = False, limit: int | None = None
    ) -> str | None:
        """The string at ``path``'s last part; None (and, if required, an error) when absent, null or blank."""
        value = container.get(path.rpartition(".")[2])
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(f"'{path}' is missing or blank")
            return None
        if not isinstance(value, str):
            self.add(f"'{path}' is invalid (must be a string, not {describe(value)})")
            return None
        if limit is not None and len(value) > limit:
            self.add(f"'{path}' is too long (at most {limit} characters, got {len(value)})")
            return None
        return value

    def contexts(self, event: Mapping[str, Any], name: str, target: str, label: str) -> tuple[Link, ...]:
        """``links`` or ``images``: a list of objects, each with its URL (``href``, ``src``) and optional text."""
        value = event.get(name)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add(f"'{name}' is invalid (must be an array of objects, not {describe(value)})")
            return ()
        found = []
        for index, item in enumerate(value):
            where = f"{name}[{index}]"
            if not isinstance(item, Mapping):
                self.add(f"'{where}' is invalid (must be an object, not {describe(item)})")
                continue
            url = self.text(item, f"{where}.{target}", required=True)
            text = self.text(item, f"{where}.{label}")
            if url is not None:
                found.append(Link(url, text))
        return tuple(found)


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _shown(value: str) -> str:
    return repr(truncate(value, 64))
