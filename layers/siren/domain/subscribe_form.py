"""Where the status page's "Get updates by email" form posts: the subscriptions function URL, checked before it is
put in a page (the form's ``action``) or in the page's Content-Security-Policy (``form-action``).

The URL comes from the environment (SUBSCRIPTIONS_URL), not from a person, but it ends up in every reader's browser:
a typo or an ``http://`` URL would send readers' addresses in clear, or to the wrong place. So only ``https`` is
accepted, and ``http`` only to a loopback host (the embedded local runtime serves function URLs at
``http://127.0.0.1:<port>/...``); no credentials, query or fragment, and nothing that needs quoting.

Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

SUBSCRIBE_PATH: Final = "subscribe"  # siren.app.subscription_links: POST /subscribe
LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1"})
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")
# Whitespace, quotes, angle brackets, backslashes and control characters have no business in a function URL; a URL
# with any of them is refused whole rather than quoted.
_UNSAFE = re.compile(r"[\s\"'<>\\`\x00-\x1f\x7f]")


class FormUrlError(ValueError):
    """A subscriptions URL the page must not send readers to."""


def subscriptions_origin(url: str) -> str:
    """``scheme://host[:port]`` of a subscriptions URL (what CSP's ``form-action`` allows); raises FormUrlError
    for a URL the page must not post to."""
    if _UNSAFE.search(url):
        raise FormUrlError("the subscriptions URL has whitespace, quotes or control characters")
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http"):
        raise FormUrlError(f"the subscriptions URL must be https, not {scheme or 'schemeless'}")
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise FormUrlError("the subscriptions URL may be http only to a loopback host (the local runtime)")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise FormUrlError("the subscriptions URL must have no credentials, query or fragment")
    if not _HOST.fullmatch(host):
        raise FormUrlError("the subscriptions URL has no usable host name")
    try:
        port = parts.port
    except ValueError as error:
        raise FormUrlError(f"the subscriptions URL has a bad port: {error}") from error
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def subscribe_action(url: str) -> str:
    """The form's ``action``: the subscriptions URL's ``/subscribe``, on its checked origin."""
    origin = subscriptions_origin(url)
    path = urlsplit(url).path.rstrip("/")
    return f"{origin}{path}/{SUBSCRIBE_PATH}"
