"""The status page's headers, locally, are the deployed policy's: the ResponseHeadersPolicy of the synthesized
template, read the way CloudFront applies it, gives exactly the headers the runtime serves the page with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from siren_local.status_headers import headers_from_policy, status_page_headers


@pytest.fixture(scope="module")
def policy_config(siren_assembly: Path) -> dict[str, Any]:
    template = json.loads((siren_assembly / "Siren.template.json").read_text())
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"]
    config: dict[str, Any] = policy["Properties"]["ResponseHeadersPolicyConfig"]
    return config


def test_the_local_headers_are_the_deployed_policys(policy_config):
    assert headers_from_policy(policy_config) == status_page_headers()
    assert set(status_page_headers()) == {
        "Content-Security-Policy",
        "Strict-Transport-Security",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
    }


def test_a_policy_is_read_as_cloudfront_applies_it():
    config = {
        "SecurityHeadersConfig": {
            "StrictTransportSecurity": {
                "AccessControlMaxAgeSec": 63072000,
                "IncludeSubdomains": True,
                "Preload": True,
                "Override": True,
            },
            "XSSProtection": {"Protection": True, "ModeBlock": True, "Override": True},
            "FrameOptions": {"FrameOption": "SAMEORIGIN", "Override": True},
        }
    }
    assert headers_from_policy(config) == {
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
        "X-XSS-Protection": "1; mode=block",
        "X-Frame-Options": "SAMEORIGIN",
    }
    assert headers_from_policy({}) == {}
