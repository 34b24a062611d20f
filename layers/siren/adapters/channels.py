"""Paging channels: SMS and voice through AWS End User Messaging (SMS and voice v2), SMS through SNS as the
fallback, email through SES v2, chat through an incoming webhook.

A failed delivery is a result, not an exception: every method returns :class:`Delivery` (``ok=False`` with the
error's text), so the escalation can put every attempt on the timeline and move on to the next channel or
person. Amazon Pinpoint's own API is not used (end of support 2026-10-30).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.message import Message
from typing import IO, Any
from urllib.parse import urlsplit

from aws_lambda_powertools.metrics import MetricUnit

from siren.adapters.ses import simple_email_request
from siren.clients import paging_client
from siren.domain.messages import EmailMessage
from siren.observability import logger, metrics
from siren.ports import Delivery

VIA_END_USER_MESSAGING = "end-user-messaging"
VIA_SNS = "sns"
VIA_SES = "ses"
VIA_WEBHOOK = "webhook"

CHAT_TIMEOUT_SECONDS = 5.0
VOICE_ID = "JOANNA"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_ERROR_MAX_CHARS = 500


# One datapoint per failed send, even when a fallback then reaches the person: the ``Siren-PageDeliveryFailures``
# alarm tells operations that a channel is broken before the fallback breaks too.
DELIVERY_FAILED_METRIC = "PageDeliveryFailed"


def _attempt(channel: str, to: str, via: str, send: Callable[[], str | None]) -> Delivery:
    try:
        message_id = send()
    except Exception as exc:  # any failure to deliver is reported, never raised (see the module docstring)
        error = (str(exc) or type(exc).__name__)[:_ERROR_MAX_CHARS]
        logger.warning("delivery failed", extra={"channel": channel, "via": via, "error": error})
        return _failed(Delivery(channel, to, via, ok=False, error=error))
    return Delivery(channel, to, via, ok=True, message_id=message_id)


def _refused(channel: str, to: str, via: str, error: str) -> Delivery:
    return _failed(Delivery(channel, to, via, ok=False, error=error))


def _failed(delivery: Delivery) -> Delivery:
    metrics.add_metric(name=DELIVERY_FAILED_METRIC, unit=MetricUnit.Count, value=1)
    return delivery


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is misconfigured: report it (a non-2xx) rather than re-POST elsewhere."""

    def redirect_request(  # noqa: PLR0917 (urllib's signature)
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Message, newurl: str
    ) -> urllib.request.Request | None:
        return None


class Pager:
    """Sends pages. ``origination_identity``: the End User Messaging phone number, pool or sender id (its
    ARN or id) that SMS and voice go from; without one, SMS goes through SNS and voice cannot be sent."""

    def __init__(
        self,
        origination_identity: str | None = None,
        *,
        configuration_set: str | None = None,
        chat_timeout: float = CHAT_TIMEOUT_SECONDS,
    ) -> None:
        self._origination_identity = origination_identity or None
        self._configuration_set = configuration_set or None
        self._chat_timeout = chat_timeout

    # -- SMS ----------------------------------------------------------------------------------------------
    def send_sms(self, to: str, text: str) -> list[Delivery]:
        """End User Messaging first when an origination identity is configured, SNS when that fails or none is
        configured. Every attempt is returned, in order; the last one says whether the text went out."""
        attempts: list[Delivery] = []
        if self._origination_identity:
            attempts.append(self.sms_via_end_user_messaging(to, text))
            if attempts[-1].ok:
                return attempts
        attempts.append(self.sms_via_sns(to, text))
        return attempts

    def check_sms(self, to: str, text: str) -> Delivery:
        """A dry run of a page by SMS (Siren's canary): End User Messaging checks the whole request (number,
        origination identity, permissions, spend limits) with ``DryRun`` and sends nothing. Without an origination
        identity there is nothing to check this way: SNS has no dry run."""
        if not self._origination_identity:
            return Delivery("sms", to, VIA_SNS, ok=True, error=None, message_id=None)
        return self.sms_via_end_user_messaging(to, text, dry_run=True)

    def sms_via_end_user_messaging(self, to: str, text: str, *, dry_run: bool = False) -> Delivery:
        extra = {"DryRun": True} if dry_run else {}
        return self._end_user_messaging(
            "sms", to, "send_text_message", MessageBody=text, MessageType="TRANSACTIONAL", **extra
        )

    def sms_via_sns(self, to: str, text: str) -> Delivery:
        if not _E164.fullmatch(to):
            return _refused("sms", to, VIA_SNS, f"not an E.164 phone number: {to!r}")

        def send() -> str | None:
            response = paging_client("sns").publish(
                PhoneNumber=to,
                Message=text,
                MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
            )
            return response.get("MessageId")  # type: ignore[no-any-return]

        return _attempt("sms", to, VIA_SNS, send)

    # -- voice --------------------------------------------------------------------------------------------
    def send_voice(self, to: str, ssml: str) -> Delivery:
        """A call reading ``ssml``. There is no SNS voice: on failure the caller falls back to SMS."""
        return self._end_user_messaging(
            "voice", to, "send_voice_message", MessageBody=ssml, MessageBodyTextType="SSML", VoiceId=VOICE_ID
        )

    def _end_user_messaging(self, channel: str, to: str, operation: str, **message: Any) -> Delivery:
        """One End User Messaging (SMS and voice v2) ``operation`` to ``to``, from the origination identity and
        through the configuration set; refused before any request when the number or the identity is missing."""
        if not _E164.fullmatch(to):
            return _refused(channel, to, VIA_END_USER_MESSAGING, f"not an E.164 phone number: {to!r}")
        if not self._origination_identity:
            return _refused(channel, to, VIA_END_USER_MESSAGING, "no origination identity is configured")
        request: dict[str, Any] = {
            "DestinationPhoneNumber": to,
            "OriginationIdentity": self._origination_identity,
            **message,
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set

        def send() -> str | None:
            response = getattr(paging_client("pinpoint-sms-voice-v2"), operation)(**request)
            return response.get("MessageId")  # type: ignore[no-any-return]

        return _attempt(channel, to, VIA_END_USER_MESSAGING, send)

    # -- email --------------------------------------------------------------------------------------------
    def send_email(self, to: str, message: EmailMessage, sender: str) -> Delivery:
        """Through SES v2; ``sender`` must be a verified identity (an address or one on a verified domain)."""
        request = simple_email_request(
            sender, [to], message.subject, message.text, message.html, configuration_set=self._configuration_set
        )

        def send() -> str | None:
            return paging_client("sesv2").send_email(**request).get("MessageId")  # type: ignore[no-any-return]

        return _attempt("email", to, VIA_SES, send)

    # -- chat ---------------------------------------------------------------------------------------------
    def send_chat(self, webhook_url: str, payload: Mapping[str, Any]) -> Delivery:
        """POST ``payload`` as JSON to an incoming webhook (Slack's format); anything but a 2xx is a failure."""
        parts = urlsplit(webhook_url)
        to = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme not in ("https", "http") or not parts.netloc:
            return _refused("chat", to, VIA_WEBHOOK, "the webhook URL must be an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            webhook_url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        opener = urllib.request.build_opener(_NoRedirects)

        def send() -> str | None:
            with opener.open(request, timeout=self._chat_timeout) as response:
                response.read(64 * 1024)
                if not 200 <= response.status < 300:
                    raise RuntimeError(f"the webhook answered HTTP {response.status}")
            return None

        return _attempt("chat", to, VIA_WEBHOOK, send)
