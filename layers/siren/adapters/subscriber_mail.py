"""Status page subscriber mail through SES v2 (siren.ports.SubscriberMailer): one message per subscriber, with the
list headers (RFC 2369 ``List-Unsubscribe``, RFC 8058 ``List-Unsubscribe-Post``) as SES v2's ``Content.Simple.Headers``
so that mail clients show their own unsubscribe button and mailbox providers accept the bulk mail.

One message per subscriber, never one to many: each carries its own unsubscribe link, and no subscriber sees
another's address. A refusal that concerns this one message (SES rejected it, or the request was malformed for this
address) is :class:`~siren.ports.MailRefused`, so that the use case mails the others; anything else (throttling
after botocore's retries, an account paused, no network) propagates: the next address would fail the same way.
"""

from __future__ import annotations

from typing import Final

from botocore.exceptions import ClientError

from siren.adapters.ses import simple_email_request
from siren.clients import client
from siren.domain.subscriptions import SubscriberMail
from siren.ports import MailRefused

# SES v2's errors that say "not this message" rather than "not now" or "not this account".
_REFUSALS: Final = frozenset({"MessageRejected", "BadRequestException", "MailFromDomainNotVerifiedException"})


class SesSubscriberMailer:
    def __init__(self, sender: str, configuration_set: str | None = None) -> None:
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, mail: SubscriberMail) -> str:
        request = simple_email_request(
            self._sender, [mail.to], mail.subject, mail.text, mail.html, configuration_set=self._configuration_set
        )
        request["Content"]["Simple"]["Headers"] = [{"Name": name, "Value": value} for name, value in mail.headers]
        try:
            response = client("sesv2").send_email(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _REFUSALS:
                raise MailRefused(f"{code}: {error.response.get('Error', {}).get('Message', '')}") from error
            raise
        return str(response.get("MessageId", ""))
