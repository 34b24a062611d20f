"""Siren's generic alert format: for any sender that can POST JSON (a cron job, a CI pipeline, a custom check).

POST it to the webhook's ``/generic`` path with ``Authorization: Bearer <token>`` and ``content-type:
application/json``. The body is either one alert object, or ``{"alerts": [ ... ]}`` with at least one alert object
(and no other field). Each alert is judged on its own: the valid ones are applied, and the answer names each refused
one by its index with the problem and where it is, e.g. ``{"index": 2, "reason": "alerts[2].labels must be an
object of strings"}`` (HTTP 202 when at least one alert was taken, 400 when none was).

An alert object has these fields; any other field is refused, so that a misspelt one is not silently ignored.

==============  ==========================  =================================================================
field           type                        meaning
==============  ==========================  =================================================================
``dedup_key``   string, 1-255 characters,   What makes two alerts "the same thing". A firing alert whose key
                required                    has an open incident joins it; a resolved alert resolves it.
``status``      ``"firing"`` or             Default ``"firing"``. Case-insensitive.
                ``"resolved"``
``title``       string, required when       The incident's title. Longer than 255 characters: cut to 255.
                firing                      A resolved alert without one is titled with its dedup_key.
``service``     string, 1-255 characters    The service the alert belongs to (as named in siren.yaml).
``severity``    ``"SEV1"`` .. ``"SEV5"``    The severity, stated outright. Case-insensitive.
``summary``     string                      Internal detail for responders (never on the public status
                                            page). Longer than 4,000 characters: cut to 4,000.
``occurred_at`` string, ISO 8601 date-time  When it happened, e.g. ``"2026-03-01T09:30:00Z"`` or
                with a UTC offset           ``"2026-03-01T10:30:00+01:00"``. Default: when Siren received it.
                                            A time more than a few minutes in the future (a fast clock) is
                                            taken as the receive time, with a note on the incident.
``event_id``    string, 1-255 characters    This delivery's id: send the same alert again with the same
                                            ``event_id`` (a retry) and it is applied once. Default: a hash of
                                            the alert object, scoped to its incident (see below).
``link``        string, an http(s) URL      Where responders see the sender's own view (a dashboard, a log).
``labels``      object of string: string    Facts severity rules can match on (``team``, ``severity``...).
``drill``       boolean                     A game-day drill (``siren gameday``): the incident is marked as
                                            a drill, pages only ``participants``, stays off the public status
                                            page and out of MTTA/MTTR. Default false.
``participants`` list of user ids           Who a drill may page (users in siren.yaml); required for a drill.
==============  ==========================  =================================================================

``null`` counts as absent for every optional field.

Without ``event_id``, the delivery id is a hash of the alert object's canonical JSON scoped to the incident it
applies to (and to that incident's state): an identical alert sent again while nothing changed (a retry, a
redelivery) is applied once, but the same alert after its incident was resolved (the same failure the next night)
opens a new incident, and after a recovery it fires again.

Example (one alert)::

    {"dedup_key": "nightly-backup", "title": "Nightly backup failed", "service": "billing",
     "severity": "sev2", "summary": "pg_dump exited 1: disk full", "occurred_at": "2026-03-01T02:10:00Z",
     "link": "https://ci.example.com/jobs/4821", "labels": {"team": "payments"}}

and, later, ``{"dedup_key": "nightly-backup", "status": "resolved", "occurred_at": "2026-03-01T03:00:00Z"}``.

The signal's dedup_key is ``"generic:" + dedup_key``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
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
from siren.domain.signals import SEVERITIES, Judgement, ParseError, SeverityHints, Signal, SignalStatus, Source
from siren.domain.validation import describe, mapping, optional_str, optional_string_map, quoted, sequence, where_of

MAX_KEY: Final = 255
FIELDS: Final = (
    "dedup_key",
    "status",
    "title",
    "service",
    "severity",
    "summary",
    "occurred_at",
    "event_id",
    "link",
    "labels",
    "drill",
    "participants",
)
_STATUSES: Final = {"firing": SignalStatus.FIRING, "resolved": SignalStatus.RESOLVED}


def parse_generic(body: Any, received_at: datetime) -> list[Signal]:
    """The signals of a generic alert body (already decoded from JSON); ``received_at`` is the default occurred_at.
    Raises ParseError for the first problem (the whole body or nothing)."""
    return judge_generic(body, received_at).strict()


def judge_generic(body: Any, received_at: datetime, window: range | None = None) -> Judgement:
    """A generic body judged alert by alert: a ParseError only when the body itself is wrong (not an object, a batch
    with another field than "alerts", no alerts); each wrong alert is refused on its own.

    ``window``: judge only the alerts at these indexes (a chunk of a large batch); ``total`` counts them all."""
    if not isinstance(body, Mapping):
        raise ParseError(f'the body must be a JSON object (one alert, or {{"alerts": [...]}}), not {describe(body)}')
    received = aware_utc(received_at)
    if "alerts" in body:
        extra = sorted(set(body) - {"alerts"})
        if extra:
            raise ParseError(f'a batch has only "alerts"; unknown field {extra[0]!r} beside it')
        alerts = sequence(body["alerts"], "alerts")
        if not alerts:
            raise ParseError("alerts must not be empty")
        places = [(alert, f"alerts[{index}]") for index, alert in enumerate(alerts)]
    else:
        places = [(body, "")]
    return judge_each(
        places, window, lambda alert, where: _alert(mapping(alert, where or "the alert"), where, received)
    )


def _alert(alert: Mapping[str, Any], where: str, received_at: datetime) -> Signal:
    unknown = sorted(set(alert) - set(FIELDS))
    if unknown:
        known = ", ".join(FIELDS)
        raise ParseError(f"{where_of(where, unknown[0])} is not a field of a generic alert (known: {known})")
    key = _key(alert, "dedup_key", where)
    if key is None:
        raise ParseError(f"{where_of(where, 'dedup_key')} is required")
    status = _status(alert.get("status"), where_of(where, "status"))
    title = optional_str(alert, "title", where)
    if title is None and status is SignalStatus.FIRING:
        raise ParseError(f"{where_of(where, 'title')} is required for a firing alert")
    service = optional_str(alert, "service", where, max_length=MAX_KEY)
    severity = _severity(alert.get("severity"), where_of(where, "severity"))
    summary = optional_str(alert, "summary", where)
    occurred_at = (
        timestamp(alert["occurred_at"], where_of(where, "occurred_at"))
        if alert.get("occurred_at") is not None
        else received_at
    )
    event_id = _key(alert, "event_id", where)
    link_text = optional_str(alert, "link", where)
    link = http_url(link_text)
    if link_text is not None and link is None:
        raise ParseError(f"{where_of(where, 'link')} must be an http(s) URL of at most 2048 characters")
    labels = optional_string_map(alert, "labels", where)
    drill, participants = _drill(alert, where)
    return Signal(
        source=Source.GENERIC,
        delivery_id=event_id if event_id is not None else stable_hash(dict(alert)),
        scoped_delivery=event_id is None,
        dedup_key=f"generic:{key}",
        status=status,
        title=truncate(title if title is not None else key, MAX_TITLE),
        occurred_at=occurred_at,
        service=service,
        summary=truncate(summary or "", MAX_SUMMARY),
        hints=SeverityHints(
            description=truncate(summary, MAX_SUMMARY) if summary else None, labels=labels, explicit=severity
        ),
        link=link,
        drill=drill,
        participants=participants,
    )


MAX_PARTICIPANTS = 50


def _drill(alert: Mapping[str, Any], where: str) -> tuple[bool, tuple[str, ...]]:
    drill = alert.get("drill")
    if drill is None:
        drill = False
    if not isinstance(drill, bool):
        raise ParseError(f"{where_of(where, 'drill')} must be true or false, not {describe(drill)}")
    raw = alert.get("participants")
    if raw is None:
        raw = []
    people = sequence(raw, where_of(where, "participants"))
    if len(people) > MAX_PARTICIPANTS or not all(isinstance(p, str) and 0 < len(p) <= MAX_KEY for p in people):
        raise ParseError(f"{where_of(where, 'participants')} must be a list of at most {MAX_PARTICIPANTS} user ids")
    if drill and not people:
        raise ParseError(f"{where_of(where, 'participants')} is required for a drill: who may be paged")
    if people and not drill:
        raise ParseError(f'{where_of(where, "participants")} is only for a drill ("drill": true)')
    return drill, tuple(people)


def _key(alert: Mapping[str, Any], name: str, where: str) -> str | None:
    """A key-like string (dedup_key, event_id): never blank, never cut (a cut key could merge two)."""
    value = alert.get(name)
    path = where_of(where, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"{path} must be a string, not {describe(value)}")
    if not value.strip() or len(value) > MAX_KEY:
        raise ParseError(f"{path} must be 1 to {MAX_KEY} characters (not blank), not {len(value)}")
    return value


def _status(value: Any, where: str) -> SignalStatus:
    if value is None:
        return SignalStatus.FIRING
    status = _STATUSES.get(value.strip().lower()) if isinstance(value, str) else None
    if status is None:
        raise ParseError(f'{where} must be "firing" or "resolved", not {quoted(value)}')
    return status


def _severity(value: Any, where: str) -> str | None:
    if value is None:
        return None
    severity = value.strip().upper() if isinstance(value, str) else None
    if severity not in SEVERITIES:
        raise ParseError(f"{where} must be one of {', '.join(SEVERITIES)}, not {quoted(value)}")
    return severity


def parse_canary(body: Any, received_at: datetime) -> list[Signal]:
    """The canary route (``/canary``): the generic format, every alert marked as Siren's own canary.

    A separate route, not a field of the generic format: an ordinary sender cannot make a real alert silent by
    setting a flag, and the canary goes through the same front door, token and parser as every alert.
    """
    return judge_canary(body, received_at).strict()


def judge_canary(body: Any, received_at: datetime, window: range | None = None) -> Judgement:
    """The canary route judged alert by alert (see :func:`judge_generic`)."""
    judged = judge_generic(body, received_at, window)
    return replace(judged, accepted=tuple((index, _as_canary(signal)) for index, signal in judged.accepted))


def _as_canary(signal: Signal) -> Signal:
    return replace(
        signal,
        source=Source.CANARY,
        dedup_key="canary:" + signal.dedup_key.removeprefix("generic:"),
        canary=True,
        drill=False,
        participants=(),
    )
