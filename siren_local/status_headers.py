"""The status page's response headers, locally: what CloudFront adds on AWS, added by the runtime when it serves the
page at ``GET /_siren/status/<key>``.

One source: siren.domain.status_headers, which the CDK construct turns into the deployed ResponseHeadersPolicy.
``headers_from_policy`` reads a ResponseHeadersPolicyConfig (the template's, or the one the local CloudFormation
recorded) the way CloudFront applies it; tests/infra/test_status_site.py checks that the synthesized template's
policy gives exactly ``status_page_headers(<the subscriptions URL>)``, so the browser test enforces what AWS will
send.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from siren.domain.status_headers import status_site_headers


def headers_from_policy(policy_config: Mapping[str, Any]) -> dict[str, str]:
    """The security headers a CloudFront ResponseHeadersPolicyConfig adds to every response."""
    config = policy_config.get("SecurityHeadersConfig", {})
    headers: dict[str, str] = {}
    if "ContentSecurityPolicy" in config:
        headers["Content-Security-Policy"] = str(config["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    if "StrictTransportSecurity" in config:
        hsts = config["StrictTransportSecurity"]
        headers["Strict-Transport-Security"] = (
            f"max-age={int(hsts['AccessControlMaxAgeSec'])}"
            + ("; includeSubDomains" if hsts.get("IncludeSubdomains") else "")
            + ("; preload" if hsts.get("Preload") else "")
        )
    if "ContentTypeOptions" in config:
        headers["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in config:
        headers["X-Frame-Options"] = str(config["FrameOptions"]["FrameOption"])
    if "ReferrerPolicy" in config:
        headers["Referrer-Policy"] = str(config["ReferrerPolicy"]["ReferrerPolicy"])
    if "XSSProtection" in config:
        xss = config["XSSProtection"]
        headers["X-XSS-Protection"] = ("1" if xss.get("Protection") else "0") + (
            "; mode=block" if xss.get("ModeBlock") else ""
        )
    return headers


def status_page_headers(subscriptions_url: str | None = None) -> dict[str, str]:
    """The headers every status page response gets, as CloudFront sends them (they override the origin's); with
    the deployed stack's ``SubscriptionsUrl``, its subscribe form may post there (as the deployed policy says)."""
    return status_site_headers(subscriptions_url)
