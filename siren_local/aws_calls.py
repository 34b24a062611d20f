"""Which AWS API call a raw request is, from its headers and body: what fault injection needs to know to fail it
(the service, the operation, a phone number it sends to, the parsed request)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs


def _header(headers: Mapping[str, Any], name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == lowered), "")
    return value.decode() if isinstance(value, bytes) else str(value or "")


def signing_service(headers: Mapping[str, Any]) -> str:
    """The service a SigV4 request was signed for (the credential scope's fourth part), or ""."""
    authorization = _header(headers, "Authorization")
    _, found, rest = authorization.partition("Credential=")
    if not found:
        return ""
    parts = rest.split(",", 1)[0].split("/")
    return parts[3] if len(parts) >= 5 else ""


def might_intercept(headers: Mapping[str, Any]) -> bool:
    """Whether a request could be one ``FaultInjector.intercept`` (faults.py) answers, from its headers alone: any
    other request (an S3 upload, say) is passed on with its body untouched."""
    amz_target = _header(headers, "X-Amz-Target")
    if amz_target:
        return amz_target.startswith(("DynamoDB_20120810.", "AWSEvents."))
    return signing_service(headers) in ("sns", "ses")


def identify(
    headers: Mapping[str, Any], method: str, path: str, body: bytes
) -> tuple[str, str, str | None, Any] | None:
    """(target, operation, destination number, parsed request) of an AWS API call a fault could fail, or None."""
    amz_target = _header(headers, "X-Amz-Target")
    if amz_target:
        prefix, _, operation = amz_target.partition(".")
        target = {"DynamoDB_20120810": "dynamodb", "AWSEvents": "events"}.get(prefix)
        if target is None:
            return None
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        return target, operation, None, request
    service = signing_service(headers)
    if service == "sns" and method == "POST":
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        return "sns", form.get("Action", ""), form.get("PhoneNumber"), form
    if service == "ses" and method == "POST":
        if path.rstrip("/") in ("/v2/email/outbound-emails", "/v2/email/outbound-bulk-emails"):
            operation = "SendEmail" if path.rstrip("/").endswith("outbound-emails") else "SendBulkEmail"
            return "ses", operation, None, {}
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("Action"):
            return "ses", form["Action"], None, {**form, "__query__": True}
    return None
