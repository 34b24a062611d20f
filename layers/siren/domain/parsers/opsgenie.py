"""Opsgenie's Alert API bodies (https://docs.opsgenie.com/docs/alert-api): a create request becomes a Signal, and
the bodies of acknowledge, close and add-note are read. Pure: the integration, its priorities and the request id are
given by the caller (siren.app.opsgenie_api).

A create request, field by field (Opsgenie's documented limits, and what Siren does with each):

=============== ==================================================================================================
``message``     required, a non-empty string: the incident's title. Longer than Opsgenie's 130 characters: cut to
                130, as Opsgenie and Alertmanager's notifier cut it; the whole message is kept in the details.
``alias``       the dedup key (at most 512 characters, longer is refused: cutting it could merge two alerts).
                The signal's key is ``opsgenie:<integration>:<alias>``: the same alias from the same integration
                joins the open incident, as Opsgenie de-duplicates by alias. Absent: the request id, so that each
                such create is an alert of its own (as Opsgenie's are).
``description`` the incident's summary (internal, never on the status page), cut to 4,000 characters.
``priority``    P1..P5 (default P3, as Opsgenie's), as the severity the integrations' ``opsgenie_priorities`` map
                gives it, stated outright (the explicit severity rule).
``details``     an object of strings (numbers and booleans are written as text): kept on the incident and read as
                labels by the severity rules (Alertmanager's notifier puts the group's common labels here).
``tags``        a list of strings: kept (joined by commas) in the details.
``entity``,     strings, kept in the details.
``source``,
``user``,
``note``
``responders``, accepted and ignored: who is paged is siren.yaml's escalation policy for the service, not the
``visibleTo``,  sender's; every incident is visible to every responder; Siren has no custom alert actions.
``actions``
=============== ==================================================================================================

Any other field is ignored, as Opsgenie ignores it. A problem is a :class:`FieldError`, which names its field as
Opsgenie's 422 answers do (``{"errors": {"message": "Message can not be empty."}}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from siren.domain.parsers._common import MAX_SUMMARY, truncate
from siren.domain.policy import Integration
from siren.domain.signals import ParseError, SeverityHints, Signal, SignalStatus, Source
from siren.domain.validation import describe

MAX_MESSAGE: Final = 130
MAX_ALIAS: Final = 512
DEFAULT_PRIORITY: Final = "P3"
IGNORED_FIELDS: Final = ("responders", "visibleTo", "actions")
DETAIL_PREFIX: Final = "opsgenie."  # Siren's own details beside the sender's, which keep their names


class FieldError(ParseError):
    """A body Opsgenie would refuse with 422: ``field`` is the field at fault, the message says what is wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def dedup_key(integration: str, alias: str) -> str:
    return f"opsgenie:{integration}:{alias}"


def parse_create(
    body: Any, integration: Integration, priorities: Mapping[str, str], request_id: str, received_at: datetime
) -> Signal:
    """The signal of a create-alert request; FieldError for the first problem."""
    alert = _object(body)
    message = _string(alert, "message")
    if message is None or not message.strip():
        raise FieldError("message", "Message can not be empty.")
    message = message.strip()
    alias = _string(alert, "alias")
    if alias is not None and len(alias) > MAX_ALIAS:
        raise FieldError("alias", f"Alias can not be longer than {MAX_ALIAS} characters.")
    alias = alias.strip() if alias and alias.strip() else request_id
    priority = _priority(alert.get("priority"), priorities)
    details = _details(alert.get("details"))
    tags = _tags(alert.get("tags"))
    description = _string(alert, "description")
    kept = {
        f"{DETAIL_PREFIX}integration": integration.name,
        f"{DETAIL_PREFIX}alias": alias,
        f"{DETAIL_PREFIX}priority": priority,
    }
    if len(message) > MAX_MESSAGE:
        kept[f"{DETAIL_PREFIX}message"] = message
    if tags:
        kept[f"{DETAIL_PREFIX}tags"] = ", ".join(tags)
    for name in ("entity", "source", "user", "note"):
        value = _string(alert, name)
        if value:
            kept[f"{DETAIL_PREFIX}{name}"] = value
    return Signal(
        source=Source.OPSGENIE,
        delivery_id=request_id,
        dedup_key=dedup_key(integration.name, alias),
        status=SignalStatus.FIRING,
        title=message[:MAX_MESSAGE],
        occurred_at=received_at,
        service=integration.service,
        summary=truncate(description, MAX_SUMMARY) if description else "",
        hints=SeverityHints(
            description=truncate(description, MAX_SUMMARY) if description else None,
            labels=details,
            explicit=priorities[priority],
        ),
        details={**details, **kept},
    )


@dataclass(frozen=True, slots=True)
class ActionBody:
    """The body of acknowledge, close and add-note: all optional, but add-note's ``note``."""

    user: str | None = None
    source: str | None = None
    note: str | None = None


def parse_action(body: Any, note_required: bool = False) -> ActionBody:
    """An empty body reads as ``{}`` (Opsgenie's clients send none for acknowledge)."""
    action = {} if body is None else _object(body)
    note = _string(action, "note")
    if note_required and (note is None or not note.strip()):
        raise FieldError("note", "Note can not be empty.")
    user, source = _string(action, "user"), _string(action, "source")
    return ActionBody(user.strip() if user and user.strip() else None, source, note.strip() if note else None)


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise FieldError("body", f"The request body must be a JSON object, not {describe(body)}.")
    return body


def _string(container: Mapping[str, Any], name: str) -> str | None:
    value = container.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(name, f"{name[0].upper()}{name[1:]} must be a string, not {describe(value)}.")
    return value


def _priority(value: Any, priorities: Mapping[str, str]) -> str:
    if value is None or value == "":
        return DEFAULT_PRIORITY
    level = value.strip().upper() if isinstance(value, str) else ""
    if level not in priorities:
        raise FieldError("priority", f"Priority should be one of [{', '.join(priorities)}].")
    return level


def _details(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FieldError("details", f"Details must be an object of strings, not {describe(value)}.")
    found = {}
    for key, item in value.items():
        if isinstance(item, bool):
            found[str(key)] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            found[str(key)] = str(item)
        elif item is not None:
            raise FieldError("details", f"Details values must be strings: {key!r} is {describe(item)}.")
    return found


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise FieldError("tags", f"Tags must be a list of strings, not {describe(value)}.")
    return [tag.strip() for tag in value if tag.strip()]
