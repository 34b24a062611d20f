"""The status site's distribution: Siren's own response headers policy (the CSP the pages satisfy, from the one
definition the local runtime serves too, its form-action the subscriptions function URL's origin) and TLS 1.2 or
newer whenever a custom domain is given.

GIVEN the synthesized template, WHEN its conditions are evaluated for each set of parameters, THEN the
distribution's certificate, aliases and page URL are what CloudFormation would deploy.
"""

from __future__ import annotations

import graphlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from siren.domain.status_headers import status_site_headers
from siren_local.status_headers import headers_from_policy, status_page_headers

# The id of CloudFront's managed SecurityHeadersPolicy, which sends no Content-Security-Policy.
MANAGED_SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0b0c8f5e-0000-4000-8000-000000000001"
# What AWS gives the subscriptions function's URL once deployed (its id is random): the template's policy must name it.
FORM_URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/"


@pytest.fixture(scope="module")
def template(siren_assembly: Path) -> dict[str, Any]:
    return json.loads((siren_assembly / "Siren.template.json").read_text())


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def distribution_config(template: dict[str, Any]) -> dict[str, Any]:
    ((_, distribution),) = of_type(template, "AWS::CloudFront::Distribution").items()
    config: dict[str, Any] = distribution["Properties"]["DistributionConfig"]
    return config


def evaluate(
    value: Any,
    template: dict[str, Any],
    parameters: dict[str, str],
    attributes: dict[tuple[str, str], str] | None = None,
) -> Any:
    """CloudFormation's condition functions, Ref of parameters, and Fn::GetAtt of the given ``attributes`` (what
    exists only once deployed), enough for the distribution's settings and its headers policy."""
    attributes = attributes or {}
    if isinstance(value, list):
        return [evaluate(item, template, parameters, attributes) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        name = value["Ref"]
        if name in template["Parameters"]:
            return parameters.get(name, template["Parameters"][name].get("Default"))
        return "NoValue" if name == "AWS::NoValue" else {"Ref": name}
    if set(value) == {"Condition"}:
        return evaluate(template["Conditions"][value["Condition"]], template, parameters, attributes)
    if set(value) == {"Fn::Equals"}:
        left, right = evaluate(value["Fn::Equals"], template, parameters, attributes)
        return left == right
    if set(value) == {"Fn::Not"}:
        return not evaluate(value["Fn::Not"][0], template, parameters, attributes)
    if set(value) == {"Fn::And"}:
        return all(evaluate(item, template, parameters, attributes) for item in value["Fn::And"])
    if set(value) == {"Fn::Or"}:
        return any(evaluate(item, template, parameters, attributes) for item in value["Fn::Or"])
    if set(value) == {"Fn::If"}:
        condition, when_true, when_false = value["Fn::If"]
        holds = evaluate(template["Conditions"][condition], template, parameters, attributes)
        return evaluate(when_true if holds else when_false, template, parameters, attributes)
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join(str(evaluate(part, template, parameters, attributes)) for part in parts)
    if set(value) == {"Fn::GetAtt"} and tuple(value["Fn::GetAtt"]) in attributes:
        return attributes[tuple(value["Fn::GetAtt"])]
    if set(value) == {"Fn::Split"}:
        separator, source = value["Fn::Split"]
        return str(evaluate(source, template, parameters, attributes)).split(separator)
    if set(value) == {"Fn::Select"}:
        index, items = value["Fn::Select"]
        return evaluate(items, template, parameters, attributes)[int(index)]
    return {key: evaluate(item, template, parameters, attributes) for key, item in value.items()}


def test_the_distribution_uses_sirens_own_headers_policy_not_the_managed_one(template):
    policies = of_type(template, "AWS::CloudFront::ResponseHeadersPolicy")
    assert len(policies) == 1
    (policy_id,) = policies
    behaviour = distribution_config(template)["DefaultCacheBehavior"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    assert MANAGED_SECURITY_HEADERS not in json.dumps(template)


def form_url_attribute(template: dict[str, Any]) -> tuple[str, str]:
    """The subscriptions form function's URL, as the template reads it (Fn::GetAtt [<Url>, FunctionUrl])."""
    (url,) = [
        name
        for name, r in of_type(template, "AWS::Lambda::Url").items()
        if r["Properties"]["TargetFunctionArn"]["Fn::GetAtt"][0].startswith("SubscriptionsForm")
    ]
    return (url, "FunctionUrl")


def deployed_policy(template: dict[str, Any]) -> dict[str, Any]:
    """The headers policy's config as CloudFormation would deploy it, the form function's URL being FORM_URL."""
    ((_, policy),) = of_type(template, "AWS::CloudFront::ResponseHeadersPolicy").items()
    deployed: dict[str, Any] = evaluate(
        policy["Properties"]["ResponseHeadersPolicyConfig"], template, {}, {form_url_attribute(template): FORM_URL}
    )
    return deployed


def csp_directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_the_policy_sends_exactly_the_headers_the_local_runtime_serves(template):
    """One definition: the headers CloudFront adds, rebuilt from the template, equal siren.domain.status_headers."""
    policy_config = deployed_policy(template)
    config = policy_config["SecurityHeadersConfig"]
    assert all(header["Override"] is True for header in config.values())
    assert headers_from_policy(policy_config) == status_site_headers(FORM_URL) == status_page_headers(FORM_URL)
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


def test_the_page_may_post_forms_to_the_subscriptions_function_urls_origin_only(template):
    """GIVEN the deployed function URL, THEN form-action is exactly its origin (no path, no wildcard, not 'self'),
    and every other directive is the page's policy without a form."""
    deployed = csp_directives(
        deployed_policy(template)["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    )
    assert deployed["form-action"] == ["https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws"]
    without_form = csp_directives(status_site_headers()["Content-Security-Policy"])
    assert without_form["form-action"] == ["'none'"]
    assert {k: v for k, v in deployed.items() if k != "form-action"} == {
        k: v for k, v in without_form.items() if k != "form-action"
    }
    # The publisher renders the form for that same URL.
    (publisher,) = [
        r for name, r in of_type(template, "AWS::Lambda::Function").items() if name.startswith("StatusPublisherPublish")
    ]
    variables = publisher["Properties"]["Environment"]["Variables"]
    assert variables["SUBSCRIPTIONS_URL"] == {"Fn::GetAtt": list(form_url_attribute(template))}


def references(value: Any) -> set[str]:
    """The resources a template value refers to (Ref, Fn::GetAtt, Fn::Sub's ${...})."""
    if isinstance(value, list):
        return set().union(*(references(item) for item in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, item in value.items():
        if key == "Ref" and isinstance(item, str):
            found.add(item)
        elif key == "Fn::GetAtt":
            found.add(item[0] if isinstance(item, list) else str(item).split(".")[0])
        elif key == "Fn::Sub":
            text = item[0] if isinstance(item, list) else item
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!][^}]*)\}", text)}
            found |= references(item[1]) if isinstance(item, list) else set()
        else:
            found |= references(item)
    return found


def test_the_template_has_no_dependency_cycle(template):
    """The distribution's CSP names the form function's URL: nothing that function needs may depend on the
    distribution (CloudFormation refuses a circular dependency at deploy time, not at synth)."""
    resources = template["Resources"]
    edges = {
        name: {
            ref
            for ref in references(r.get("Properties", {})) | set(r.get("DependsOn", []) or [])
            if ref in resources and ref != name
        }
        for name, r in resources.items()
    }
    try:
        tuple(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as error:
        raise AssertionError(f"dependency cycle: {' -> '.join(error.args[1])}") from error


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
