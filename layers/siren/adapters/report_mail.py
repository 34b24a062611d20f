"""Report emails through SES v2: one multipart message (HTML and plain text) to every recipient at once.

The sender is checked first (its address or its domain must be verified for sending): an unverified sender is a
clear error before anything is sent, not a half-delivered report.
"""

from __future__ import annotations

from siren.adapters.ses import simple_email_request
from siren.clients import client


class UnverifiedSender(RuntimeError):
    pass


class ReportMail:
    def _verified(self, identity: str) -> bool:
        ses = client("sesv2")
        try:
            found = ses.get_email_identity(EmailIdentity=identity)
        except ses.exceptions.NotFoundException:
            return False
        # VerificationStatus is the identity's verification (SUCCESS once verified); VerifiedForSendingStatus also
        # says sending is enabled. moto 5.2.5 sets only the first, so either counts (sending paused by SES itself
        # is then SendEmail's own error).
        return bool(found.get("VerifiedForSendingStatus")) or found.get("VerificationStatus") == "SUCCESS"

    def send_report(self, sender: str, recipients: list[str], subject: str, text: str, html: str) -> str:
        domain = sender.rpartition("@")[2]
        if not (self._verified(sender) or (domain and self._verified(domain))):
            raise UnverifiedSender(
                f"the report sender {sender} is not verified in SES (verify the address or its domain, or set the "
                "EmailSender parameter): nothing was sent"
            )
        response = client("sesv2").send_email(**simple_email_request(sender, recipients, subject, text, html))
        return str(response.get("MessageId", ""))
