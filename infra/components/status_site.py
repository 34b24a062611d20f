"""The customer status page: a private bucket served only through CloudFront (origin access control).

Every response carries Siren's own security headers (siren.domain.status_headers: a Content-Security-Policy the
pages satisfy, HSTS, nosniff, frame and referrer policies), the same the local runtime serves the page with.
:meth:`StatusSite.allow_form_posts_to` opens the policy's ``form-action`` to the subscriptions function URL's origin,
which exists only once deployed: the policy is then an ``Fn::Join`` around that URL's scheme and host. (No cycle:
the distribution depends on the function URL, so the subscriptions form function must not read the page's URL.)

TLS: with the optional ``StatusDomainName`` and ``CertificateArn`` parameters (an ACM certificate in us-east-1
for that name) the distribution answers on that name with SNI and refuses anything below TLS 1.2
(TLSv1.2_2021). Without them it answers only on its *.cloudfront.net name, whose certificate CloudFront shares
between all distributions: the security policy is then CloudFront's own (TLSv1, so a client may still negotiate
TLS 1.0 or 1.1) and cannot be raised, which is why a custom domain is the way to enforce TLS 1.2.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import (
    Acknowledgment,
    Aws,
    CfnCondition,
    CfnParameter,
    CfnRule,
    CfnRuleAssertion,
    Duration,
    Fn,
    RemovalPolicy,
    Validations,
)
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.components.buckets import private_bucket
from infra.nag import acknowledge
from siren.domain.status_headers import STATUS_SITE_HEADERS, content_security_policy

# CloudFront's name for it (the CDK enum's member name, TLS_V1_2_2021, is not what the template takes).
MINIMUM_TLS = "TLSv1.2_2021"
# An ACM certificate for CloudFront must live in us-east-1.
_CERTIFICATE_PATTERN = r"^$|^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]{36}$"
_DOMAIN_PATTERN = r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"


def _enum_name(header_value: str) -> str:
    """'strict-origin-when-cross-origin' -> CDK's enum member STRICT_ORIGIN_WHEN_CROSS_ORIGIN."""
    return header_value.upper().replace("-", "_")


def security_headers_behavior() -> cloudfront.ResponseSecurityHeadersBehavior:
    """siren.domain.status_headers as CloudFront's security headers, each overriding whatever the origin sent."""
    headers = STATUS_SITE_HEADERS
    return cloudfront.ResponseSecurityHeadersBehavior(
        content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
            content_security_policy=headers.content_security_policy, override=True
        ),
        strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
            access_control_max_age=Duration.seconds(headers.hsts_max_age_seconds),
            include_subdomains=headers.hsts_include_subdomains,
            override=True,
        ),
        content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
        frame_options=cloudfront.ResponseHeadersFrameOptions(
            frame_option=cloudfront.HeadersFrameOption[headers.frame_option.upper()], override=True
        ),
        referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
            referrer_policy=cloudfront.HeadersReferrerPolicy[_enum_name(headers.referrer_policy)], override=True
        ),
    )


class StatusSite(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            # CloudFront standard logging writes with ACLs.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.bucket = private_bucket(
            self,
            "Bucket",
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="s3/",
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Siren status page: CSP, HSTS, nosniff, frame and referrer policies",
            security_headers_behavior=security_headers_behavior(),
        )
        self.domain_name = CfnParameter(
            scope,
            "StatusDomainName",
            type="String",
            default="",
            allowed_pattern=_DOMAIN_PATTERN,
            description="Optional: the status page's own domain name (e.g. status.example.com); with CertificateArn "
            "the page is served there with TLS 1.2 or newer only. Point a CNAME or alias record at the distribution.",
        )
        self.domain_name.override_logical_id("StatusDomainName")
        self.certificate_arn = CfnParameter(
            scope,
            "CertificateArn",
            type="String",
            default="",
            allowed_pattern=_CERTIFICATE_PATTERN,
            description="Optional, with StatusDomainName: an ACM certificate in us-east-1 that covers that name.",
        )
        self.certificate_arn.override_logical_id("CertificateArn")
        no_domain = Fn.condition_equals(self.domain_name.value_as_string, "")
        no_certificate = Fn.condition_equals(self.certificate_arn.value_as_string, "")
        # Both, and the rule below refuses one without the other (a name with no certificate, or a certificate
        # for no name); naming both here also tells cfn-lint the certificate is not empty where it is used.
        self.custom_domain = CfnCondition(
            scope,
            "StatusCustomDomain",
            expression=Fn.condition_and(Fn.condition_not(no_domain), Fn.condition_not(no_certificate)),
        )
        self.custom_domain.override_logical_id("StatusCustomDomain")
        CfnRule(
            scope,
            "StatusDomainNeedsCertificate",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_or(
                        Fn.condition_and(no_domain, no_certificate),
                        Fn.condition_and(Fn.condition_not(no_domain), Fn.condition_not(no_certificate)),
                    ),
                    assert_description="StatusDomainName and CertificateArn go together: give both or neither.",
                )
            ],
        ).override_logical_id("StatusDomainNeedsCertificate")
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Siren status page",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=self.headers_policy,
                # The publisher sets Cache-Control per object; honour it.
                cache_policy=cloudfront.CachePolicy.USE_ORIGIN_CACHE_CONTROL_HEADERS,
            ),
            enable_logging=True,
            log_bucket=self.access_logs,
            log_file_prefix="cloudfront/",
        )
        # The L2 construct cannot take a name and a certificate that exist only under a condition: set both (and
        # the TLS floor that comes with them) in the template, and the default certificate otherwise.
        config = cast(cloudfront.CfnDistribution, self.distribution.node.default_child)
        condition = self.custom_domain.logical_id
        config.add_property_override(
            "DistributionConfig.Aliases",
            Fn.condition_if(condition, [self.domain_name.value_as_string], Aws.NO_VALUE),
        )
        config.add_property_override(
            "DistributionConfig.ViewerCertificate",
            Fn.condition_if(
                condition,
                {
                    "AcmCertificateArn": self.certificate_arn.value_as_string,
                    "SslSupportMethod": "sni-only",
                    "MinimumProtocolVersion": MINIMUM_TLS,
                },
                {"CloudFrontDefaultCertificate": True},
            ),
        )

        # The CDK's template validation reads the Fn::If above as neither certificate; each branch names exactly one.
        Validations.of(self.distribution).acknowledge(
            Acknowledgment(
                id="CloudFormation-Validate::F3014",
                reason="ViewerCertificate is an Fn::If whose branches each name one certificate (ACM or CloudFront's)",
            )
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "A status page must be readable from every country during an outage: no geo restriction.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "The page is static, read-only and cached; WAF is opt-in (it costs money) and attaches to this "
            "distribution without changes to Siren.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "Without the optional StatusDomainName and CertificateArn parameters the distribution has only the "
            "shared *.cloudfront.net certificate, whose TLS policy CloudFront fixes; with them it is TLSv1.2_2021.",
        )

    def allow_form_posts_to(self, url: str) -> None:
        """The page's form posts to ``url`` (a function URL, a token at synth time): form-action is its origin,
        ``https://<id>.lambda-url.<region>.on.aws`` (scheme and host: the URL ends in '/', and CSP would read a
        path). Every other directive stays as siren.domain.status_headers has it."""
        parts = Fn.split("/", url)
        origin = Fn.join("", [Fn.select(0, parts), "//", Fn.select(2, parts)])
        policy = cast(cloudfront.CfnResponseHeadersPolicy, self.headers_policy.node.default_child)
        policy.add_property_override(
            "ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy",
            content_security_policy(origin),
        )

    @property
    def url(self) -> str:
        """The page's public base URL: its own domain when one is given, else the distribution's."""
        host = Fn.condition_if(
            self.custom_domain.logical_id, self.domain_name.value_as_string, self.distribution.distribution_domain_name
        ).to_string()
        return f"https://{host}"
