"""Every SMS, voice call, email and chat message the local runtime sent, oldest first.

Sources: the End User Messaging fake (SMS, voice), SNS direct SMS publishes, SES and SES v2 sends (both go
through moto's SES backend), chat webhooks posted to the local runtime, and
the Slack Web API fake's calls (channel ``slack``).

moto 5.2.5's SES v2 SendEmail keeps only the HTML part of a Simple message (the text part when there is no HTML)
and drops ``Content.Simple.Headers``: the request's headers and text part are read where moto reads the request,
and recorded with the message (``headers``: ``[{"Name", "Value"}]``, ``text``), so that tests see the list headers
(List-Unsubscribe) a subscriber's mail client would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from siren_local.patching import patch_once

CHANNELS = ("sms", "voice", "email", "chat", "slack")  # slack: the Web API fake's calls (siren_local.slack_api)


@dataclass(frozen=True)
class OutboxMessage:
    channel: str
    to: str
    body: str
    sent_at: str
    via: str
    subject: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


@dataclass
class Outbox:
    _messages: list[OutboxMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self, *, channel: str, to: str, body: str, via: str, subject: str | None = None, **extra: Any
    ) -> OutboxMessage:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        message = OutboxMessage(
            channel=channel,
            to=to,
            body=body,
            subject=subject,
            via=via,
            sent_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            extra={k: v for k, v in extra.items() if v is not None},
        )
        with self._lock:
            self._messages.append(message)
        return message

    def messages(self) -> list[OutboxMessage]:
        with self._lock:
            return list(self._messages)


_active: Outbox | None = None
# What moto drops of the SES v2 request in flight (set around its SendEmail in the same thread): headers, text.
_simple_extras: ContextVar[dict[str, Any] | None] = ContextVar("siren_local_ses_simple_extras", default=None)


def active_outbox() -> Outbox | None:
    """The outbox of the runtime that runs now (None before any has started)."""
    return _active


def install(outbox: Outbox) -> None:
    """Record SNS direct SMS publishes and SES sends into ``outbox``."""
    global _active
    _active = outbox
    from moto.ses import models as ses_models
    from moto.sesv2 import responses as sesv2_responses
    from moto.sns import models as sns_models

    patch_once("outbox: SNS publish", sns_models.SNSBackend, "publish", _recording_publish)
    patch_once("outbox: SES send_email", ses_models.SESBackend, "send_email", _recording_send_email)
    patch_once("outbox: SES send_raw_email", ses_models.SESBackend, "send_raw_email", _recording_send_raw_email)
    patch_once("outbox: SES v2 Simple extras", sesv2_responses.SESV2Response, "send_email", _keeping_simple_extras)


def _keeping_simple_extras(original_send_email: Callable[..., Any]) -> Callable[..., Any]:
    def send_email(self: Any) -> Any:
        simple = (json.loads(self.body or "{}").get("Content") or {}).get("Simple") or {}
        extras = {"headers": simple.get("Headers"), "text": ((simple.get("Body") or {}).get("Text") or {}).get("Data")}
        token = _simple_extras.set(extras)
        try:
            return original_send_email(self)
        finally:
            _simple_extras.reset(token)

    return send_email


def _recording_publish(original_publish: Callable[..., Any]) -> Callable[..., Any]:
    def publish(
        self: Any, message: str, arn: str | None, phone_number: str | None = None, *args: Any, **kwargs: Any
    ) -> str:
        message_id: str = original_publish(self, message, arn, phone_number, *args, **kwargs)
        if phone_number and _active is not None:
            _active.record(channel="sms", to=phone_number, body=message, via="sns", message_id=message_id)
        return message_id

    return publish


def _recording_send_email(original_send_email: Callable[..., Any]) -> Callable[..., Any]:
    def send_email(self: Any, source: str, subject: str, body: str, destinations: dict[str, list[str]]) -> Any:
        sent = original_send_email(self, source, subject, body, destinations)
        extras = _simple_extras.get() or {}
        if _active is not None:
            for address in [a for addresses in destinations.values() for a in addresses]:
                _active.record(
                    channel="email",
                    to=address,
                    subject=subject,
                    body=body,
                    via="ses",
                    sender=source,
                    message_id=sent.id,
                    **extras,
                )
        return sent

    return send_email


def _recording_send_raw_email(original_send_raw: Callable[..., Any]) -> Callable[..., Any]:
    def send_raw_email(self: Any, source: str, destinations: list[str], raw_data: str) -> Any:
        import email
        from email import policy

        sent = original_send_raw(self, source, destinations, raw_data)
        if _active is not None:
            parsed = email.message_from_string(raw_data, policy=policy.default)
            plain = parsed.get_body(preferencelist=("plain", "html"))
            body = plain.get_content() if plain is not None else raw_data
            recipients = destinations or [
                address.strip()
                for header in ("to", "cc")
                for address in str(parsed.get(header, "")).split(",")
                if address.strip()
            ]
            for address in recipients:
                _active.record(
                    channel="email",
                    to=address,
                    subject=str(parsed.get("subject", "")),
                    body=body,
                    via="ses",
                    sender=source,
                    message_id=sent.id,
                    raw=raw_data,
                )
        return sent

    return send_raw_email
