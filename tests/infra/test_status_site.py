"""The status site's distribution: Siren's own response headers policy (the CSP the pages satisfy, from the one
definition the local runtime serves too) and TLS 1.2 or newer whenever a custom domain is given.

GIVEN the synthesized template, WHEN its conditions are evaluated for each set of parameters, THEN the
distribution's certificate, aliases and page URL are what CloudFormation would deploy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from siren.domain.status_headers import status_site_headers
from siren_local.status_headers import headers_from_policy, status_page_headers

# The id of CloudFront's managed SecurityHeadersPolicy, which sends no Content-Security-Policy.
MANAGED_SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0b0c8f5e-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def template(siren_assembly: Path) -> dict[str, Any]:
    return json.loads((siren_assembly / "Siren.template.json").read_text())


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def distribution_config(template: dict[str, Any]) -> dict[str, Any]:
    ((_, distribution),) = of_type(template, "AWS::CloudFront::Distribution").items()
    config: dict[str, Any] = distribution["Properties"]["DistributionConfig"]
    return config


def evaluate(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """CloudFormation's condition functions and Ref of parameters, enough for the distribution's settings."""
    if isinstance(value, list):
        return [evaluate(item, template, parameters) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        if name in template["Parameters"]:
            return parameters.get(name, template["Parameters"][name].get("Default"))
        return "NoValue" if name == "AWS::NoValue" else {"Ref": name}
    if set(value) == {"Condition"}:
        return evaluate(template["Conditions"][value["Condition"]], template, parameters)
    if set(value) == {"Fn::Equals"}:
        left, right = evaluate(value["Fn::Equals"], template, parameters)
        return left == right
    if set(value) == {"Fn::Not"}:
        return not evaluate(value["Fn::Not"][0], template, parameters)
    if set(value) == {"Fn::And"}:
        return all(evaluate(item, template, parameters) for item in value["Fn::And"])
    if set(value) == {"Fn::Or"}:
        return any(evaluate(item, template, parameters) for item in value["Fn::Or"])
    if set(value) == {"Fn::If"}:
        condition, when_true, when_false = value["Fn::If"]
        holds = evaluate(template["Conditions"][condition], template, parameters)
        return evaluate(when_true if holds else when_false, template, parameters)
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(evaluate(part, template, parameters)) for part in parts)
    return {key: evaluate(item, template, parameters) for key, item in value.items()}


def test_the_distribution_uses_sirens_own_headers_policy_not_the_managed_one(template):
    policies = of_type(template, "AWS::CloudFront::ResponseHeadersPolicy")
    assert len(policies) == 1
    (policy_id,) = policies
    behaviour = distribution_config(template)["DefaultCacheBehavior"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    assert MANAGED_SECURITY_HEADERS not in json.dumps(template)


def test_the_policy_sends_exactly_the_headers_the_local_runtime_serves(template):
    """One definition: the headers CloudFront adds, rebuilt from the template, equal siren.domain.status_headers."""
    ((_, policy),) = of_type(template, "AWS::CloudFront::ResponseHeadersPolicy").items()
    policy_config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    config = policy_config["SecurityHeadersConfig"]
    assert all(header["Override"] is True for header in config.values())
    assert headers_from_policy(policy_config) == status_site_headers() == status_page_headers()
    assert set(config) == {
        "ContentSecurityPolicy",
        "StrictTransportSecurity",
        "ContentTypeOptions",
        "FrameOptions",
        "ReferrerPolicy",
    }


def test_the_csp_allows_no_script_and_no_inline_style():
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in status_site_headers()["Content-Security-Policy"].split("; ")
    )
    assert directives["default-src"] == ["'none'"]
    assert "script-src" not in directives  # falls back to default-src 'none'
    assert directives["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in status_site_headers()["Content-Security-Policy"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert int(status_site_headers()["Strict-Transport-Security"].removeprefix("max-age=")) >= 31_536_000


def test_tls_parameters_are_optional_strings_with_empty_defaults(template):
    parameters = template["Parameters"]
    for name in ("StatusDomainName", "CertificateArn"):
        assert parameters[name]["Type"] == "String" and parameters[name]["Default"] == ""
    assert "us-east-1" in parameters["CertificateArn"]["AllowedPattern"]  # CloudFront reads ACM there only
    assert evaluate({"Condition": "StatusCustomDomain"}, template, {}) is False
    given = {"StatusDomainName": "status.example.com", "CertificateArn": CERTIFICATE}
    assert evaluate({"Condition": "StatusCustomDomain"}, template, given) is True


def test_without_a_domain_the_default_certificate_and_the_cloudfront_name_are_used(template):
    config = evaluate(distribution_config(template), template, {})
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert config["Aliases"] == "NoValue"
    url = evaluate(template["Outputs"]["StatusPageUrl"]["Value"], template, {})
    assert url.startswith("https://{'Fn::GetAtt': ['StatusSiteDistribution")


def test_with_a_domain_and_certificate_only_tls_1_2_or_newer_is_served(template):
    given = {"StatusDomainName": "status.example.com", "CertificateArn": CERTIFICATE}
    config = evaluate(distribution_config(template), template, given)
    assert config["Aliases"] == ["status.example.com"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": CERTIFICATE,
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert evaluate(template["Outputs"]["StatusPageUrl"]["Value"], template, given) == "https://status.example.com"


@pytest.mark.parametrize(
    ("given", "accepted"),
    [
        ({}, True),
        ({"StatusDomainName": "status.example.com", "CertificateArn": CERTIFICATE}, True),
        ({"StatusDomainName": "status.example.com"}, False),
        ({"CertificateArn": CERTIFICATE}, False),
    ],
)
def test_a_domain_without_a_certificate_or_the_reverse_is_refused_by_a_rule(template, given, accepted):
    (assertion,) = template["Rules"]["StatusDomainNeedsCertificate"]["Assertions"]
    assert evaluate(assertion["Assert"], template, given) is accepted
