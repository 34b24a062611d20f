"""The keys of the PagerDuty and Opsgenie integrations, derived from one secret.

A key is HMAC-SHA256(secret, "<api>:<name>:<key_version>"), shaped as the vendor's own: a PagerDuty routing key is
32 lowercase hexadecimal characters, an Opsgenie API key a UUID. One secret serves every integration (a new one needs
no new secret, nor a deploy of a secret), knowing one key tells nothing of another or of the secret, and raising an
integration's ``key_version`` replaces its key alone. Pure: the secret is read by the caller.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable

from siren.domain.policy.integrations import OPSGENIE, PAGERDUTY, Integration


def integration_key(secret: bytes, api: str, integration: Integration) -> str:
    digest = hmac.new(secret, f"{api}:{integration.name}:{integration.key_version}".encode(), hashlib.sha256).digest()
    if api == PAGERDUTY:
        return digest[:16].hex()
    if api == OPSGENIE:
        return str(uuid.UUID(bytes=digest[:16], version=4))
    raise ValueError(f"unknown API {api!r}")


def integration_for_key(
    secret: bytes, api: str, integrations: Iterable[Integration], presented: str
) -> Integration | None:
    """The integration whose key ``presented`` is, compared in constant time with every one; None: no such key."""
    found = None
    for integration in integrations:
        if hmac.compare_digest(integration_key(secret, api, integration).encode(), presented.strip().encode()):
            found = integration
    return found
