"""The one SES v2 request Siren sends: a multipart message (plain text and HTML) built the same way for a page
by email (siren.adapters.channels) and for a report (siren.adapters.report_mail)."""

from __future__ import annotations

from typing import Any


def simple_email_request(
    sender: str, recipients: list[str], subject: str, text: str, html: str, *, configuration_set: str | None = None
) -> dict[str, Any]:
    """SendEmail's arguments: every part in UTF-8, so a title in any script arrives as written; the configuration
    set (delivery events, suppression) only when one is configured."""
    request: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": recipients},
        "Content": {
            "Simple": {
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
            }
        },
    }
    if configuration_set:
        request["ConfigurationSetName"] = configuration_set
    return request
