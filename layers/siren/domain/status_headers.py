"""The HTTP security headers of the status site: one definition, read by the CloudFront response headers policy
(infra/components/status_site.py) and by the local runtime when it serves the page (siren_local/status_headers.py),
so that the browser test enforces exactly the policy that AWS sends.

The Content-Security-Policy is what the renderer (siren.render.status_site) makes true: no script at all, styles
only from the site's own stylesheet, no inline style, nothing from another origin, no framing, and forms only to
the subscriptions function URL's origin (the index's "Get updates by email" form; ``form-action 'none'`` when the
page has no form). The favicon is an empty ``data:`` URL (so browsers do not ask for /favicon.ico): that is the one
image source allowed.

On AWS the function URL is known only once it is deployed: the CDK construct passes
:func:`content_security_policy` a CloudFormation token for its origin (infra/components/status_site.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from siren.domain.subscribe_form import subscriptions_origin

NO_FORM = "'none'"


def content_security_policy(form_action: str = NO_FORM) -> str:
    """The page's policy; ``form_action``: the one origin its form may post to (the subscriptions function URL's),
    or 'none'. Not checked here: the CDK passes a token for it (use :func:`status_site_headers` with a URL)."""
    return "; ".join(
        (
            "default-src 'none'",  # anything not named below (scripts, fonts, connections, media, workers) is refused
            "style-src 'self'",  # the published stylesheet; no 'unsafe-inline', no hash: the pages have no inline style
            "img-src data:",  # the empty favicon
            "base-uri 'none'",
            f"form-action {form_action}",  # the subscribe form; CSP has no default for it: unnamed means anywhere
            "frame-ancestors 'none'",
        )
    )


CONTENT_SECURITY_POLICY = content_security_policy()
HSTS_MAX_AGE_SECONDS = 31_536_000  # one year, as the managed SecurityHeaders policy had
FRAME_OPTION = "DENY"  # CloudFront's HeadersFrameOption; frame-ancestors says the same to newer browsers
REFERRER_POLICY = "strict-origin-when-cross-origin"  # CloudFront's HeadersReferrerPolicy


@dataclass(frozen=True, slots=True)
class SecurityHeaders:
    content_security_policy: str = CONTENT_SECURITY_POLICY
    hsts_max_age_seconds: int = HSTS_MAX_AGE_SECONDS
    hsts_include_subdomains: bool = False  # the status domain's neighbours are not Siren's to pin
    frame_option: str = FRAME_OPTION
    referrer_policy: str = REFERRER_POLICY

    def as_http(self) -> dict[str, str]:
        """The headers as CloudFront adds them to every response of the distribution."""
        hsts = f"max-age={self.hsts_max_age_seconds}" + ("; includeSubDomains" if self.hsts_include_subdomains else "")
        return {
            "Content-Security-Policy": self.content_security_policy,
            "Strict-Transport-Security": hsts,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": self.frame_option,
            "Referrer-Policy": self.referrer_policy,
        }


STATUS_SITE_HEADERS = SecurityHeaders()


def status_site_headers(subscriptions_url: str | None = None) -> dict[str, str]:
    """The security headers every object of the status site is served with (CloudFront overrides the origin's):
    with a ``subscriptions_url``, its form may post there (raises FormUrlError for a URL it must not post to)."""
    if not subscriptions_url:
        return STATUS_SITE_HEADERS.as_http()
    policy = content_security_policy(subscriptions_origin(subscriptions_url))
    return SecurityHeaders(content_security_policy=policy).as_http()
