"""The status page's headers, locally, are the deployed policy's: the ResponseHeadersPolicy of the synthesized
template, read the way CloudFront applies it, gives exactly the headers the runtime serves the page with, its
form-action the origin of the local function URL (http, on the runtime's own host and port)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from siren_local.status_headers import headers_from_policy, status_page_headers
from tests.infra.test_status_site import evaluate, form_url_attribute

# What the local runtime makes of the form function's AWS::Lambda::Url (siren_local/function_urls.py).
LOCAL_FORM_URL = "http://127.0.0.1:45678/_siren/function-url/0123456789abcdef0123456789abcdef/"


@pytest.fixture(scope="module")
def policy_config(siren_assembly: Path) -> dict[str, Any]:
    template = json.loads((siren_assembly / "Siren.template.json").read_text())
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"]
    config: dict[str, Any] = evaluate(
        policy["Properties"]["ResponseHeadersPolicyConfig"],
        template,
        {},
        {form_url_attribute(template): LOCAL_FORM_URL},
    )
    return config


def test_the_local_headers_are_the_deployed_policys(policy_config):
    assert headers_from_policy(policy_config) == status_page_headers(LOCAL_FORM_URL)
    assert "form-action http://127.0.0.1:45678;" in status_page_headers(LOCAL_FORM_URL)["Content-Security-Policy"]
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
