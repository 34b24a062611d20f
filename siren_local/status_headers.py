"""The status page's response headers, locally: what CloudFront adds on AWS, added by the runtime when it serves the
page at ``GET /_siren/status/<key>``, from the same definition as the deployed ResponseHeadersPolicy
(siren.domain.status_headers; tests/infra/test_status_site.py checks that the template says the same).

Also the local stand-in for ``AWS::CloudFront::ResponseHeadersPolicy``, which moto does not know: it is recorded,
like the distribution, so that the distribution's reference to it resolves.
"""

from __future__ import annotations

import hashlib
from typing import Any

from siren.domain.status_headers import status_site_headers
from siren_local.cloudformation import LocalResource


class CloudFrontResponseHeadersPolicy(LocalResource):
    TYPE = "AWS::CloudFront::ResponseHeadersPolicy"
    ATTRIBUTES = ("Id", "LastModifiedTime")

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        policy_id = hashlib.sha256(f"rhp{name}".encode()).hexdigest()[:32]
        return cls(policy_id, properties, {"Id": policy_id, "LastModifiedTime": "1970-01-01T00:00:00Z"})


LOCAL_TYPES: tuple[type[LocalResource], ...] = (CloudFrontResponseHeadersPolicy,)


def status_page_headers() -> dict[str, str]:
    """The headers every status page response gets, as CloudFront sends them (they override the origin's)."""
    return status_site_headers()
