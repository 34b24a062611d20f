"""Which service a signal belongs to, which severity it gets (with the rule and the reason), and its policy."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siren.config import load_config, load_config_text
from siren.domain.policy import InsufficientData, OnRecovery, SirenConfig
from siren.domain.severity import (
    ServicePolicy,
    SeverityDecision,
    policy_for,
    resolve_service,
    resolve_severity,
)
from siren.domain.signals import SEVERITIES, SeverityHints, Signal, SignalStatus, Source

SHIPPED = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
DEFAULTS = SirenConfig()


def config(text: str) -> SirenConfig:
    return load_config_text(textwrap.dedent(text), "siren.yaml")


def signal(
    *,
    source: Source = Source.CLOUDWATCH,
    title: str = "something is wrong",
    service: str | None = None,
    alarm_name: str | None = None,
    namespace: str | None = None,
    metric: str | None = None,
    description: str | None = None,
    labels: Mapping[str, str] | None = None,
    explicit: str | None = None,
) -> Signal:
    return Signal(
        source=source,
        delivery_id="delivery-1",
        dedup_key=f"{source}:thing",
        status=SignalStatus.FIRING,
        title=title,
        occurred_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
        service=service,
        hints=SeverityHints(
            alarm_name=alarm_name,
            namespace=namespace,
            metric=metric,
            description=description,
            labels=labels or {},
            explicit=explicit,
        ),
    )


# ---- resolve_service --------------------------------------------------------------------------------------

OVERLAPPING = config(
    """
    services:
      payments-api:
        alarm_patterns: ["payments-api-*"]
      payments:
        alarm_patterns: ["payments-*"]
      checkout:
        alarm_patterns: ["checkout-*", "Checkout*"]
    """
)


@pytest.mark.parametrize(
    ("given_signal", "expected"),
    [
        pytest.param(signal(service=" Checkout ", alarm_name="payments-5xx"), "checkout", id="named by the sender"),
        pytest.param(signal(alarm_name="payments-api-latency"), "payments-api", id="first pattern in file order"),
        pytest.param(signal(alarm_name="payments-5xx"), "payments", id="a later service's pattern"),
        pytest.param(signal(alarm_name="Checkout5xx"), "checkout", id="any of a service's patterns"),
        pytest.param(signal(alarm_name="CHECKOUT-5xx"), "default", id="patterns are case-sensitive"),
        pytest.param(
            signal(alarm_name="orders-5xx", labels={"service": "Orders", "job": "node"}), "orders", id="service label"
        ),
        pytest.param(signal(labels={"job": "node-exporter"}), "node-exporter", id="job label"),
        pytest.param(
            signal(alarm_name="checkout-5xx", labels={"service": "orders"}), "checkout", id="patterns before labels"
        ),
        pytest.param(signal(service="  ", labels={"service": " "}), "default", id="blank names count as none"),
        pytest.param(signal(), "default", id="nothing to go on"),
    ],
)
def test_resolve_service(given_signal: Signal, expected: str):
    assert resolve_service(given_signal, OVERLAPPING) == expected


# ---- resolve_severity with the default rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_signal", "expected"),
    [
        pytest.param(
            signal(source=Source.GENERIC, explicit="sev2"),
            SeverityDecision("SEV2", "explicit", "severity SEV2 stated by the sender"),
            id="explicit",
        ),
        pytest.param(
            signal(source=Source.MANUAL, explicit="SEV1"),
            SeverityDecision("SEV1", "explicit", "severity SEV1 stated by siren declare"),
            id="explicit, declared",
        ),
        pytest.param(
            signal(description="Checkout errors [sev2] - see runbook"),
            SeverityDecision("SEV2", "description_tag", "tag [SEV2] in the alarm description"),
            id="lowercase tag in the alarm description",
        ),
        pytest.param(
            signal(source=Source.ALERTMANAGER, description="[SEV4] disk filling"),
            SeverityDecision("SEV4", "description_tag", "tag [SEV4] in the description"),
            id="tag in an annotation",
        ),
        pytest.param(
            signal(title="[Sev1] Payments down", description="no tag here"),
            SeverityDecision("SEV1", "description_tag", "tag [SEV1] in the title"),
            id="tag in the title",
        ),
        pytest.param(
            signal(source=Source.ALERTMANAGER, labels={"severity": "CRITICAL"}),
            SeverityDecision("SEV1", "severity_label", 'label severity="CRITICAL" maps to SEV1'),
            id="severity label in any case",
        ),
        pytest.param(
            signal(source=Source.GRAFANA, labels={"severity": "sev5"}),
            SeverityDecision("SEV5", "severity_label", 'label severity="sev5"'),
            id="severity label that is already a SEV",
        ),
        pytest.param(
            signal(explicit="SEV4", description="[SEV1]", labels={"severity": "critical"}),
            SeverityDecision("SEV4", "explicit", "severity SEV4 stated by the sender"),
            id="explicit before tag before label",
        ),
        pytest.param(
            signal(explicit="urgent", description="[SEV6] [SEV2]", labels={"severity": "critical"}),
            SeverityDecision("SEV2", "description_tag", "tag [SEV2] in the alarm description"),
            id="what is not a severity is passed over",
        ),
        pytest.param(
            signal(labels={"severity": "page-me"}),
            SeverityDecision(
                "SEV3", "default", "no rule matched and service default has no default severity; the default is SEV3"
            ),
            id="global default",
        ),
    ],
)
def test_the_default_rules(given_signal: Signal, expected: SeverityDecision):
    assert resolve_severity(given_signal, "default", DEFAULTS) == expected


def test_the_label_map_is_the_configured_one():
    custom = config("severity: {label_map: {P1: SEV1, p2: SEV2}}")

    assert resolve_severity(signal(labels={"severity": "p1"}), "api", custom).severity == "SEV1"
    assert resolve_severity(signal(labels={"severity": "P2"}), "api", custom).severity == "SEV2"
    # "critical" was in the default map only: writing label_map replaces it.
    assert resolve_severity(signal(labels={"severity": "critical"}), "api", custom).rule == "default"


# ---- configured rules, service defaults, the global default -----------------------------------------------

RULES = config(
    """
    defaults:
      severity: SEV4
    services:
      checkout:
        alarm_patterns: ["checkout-*"]
        default_severity: SEV2
      payments:
        alarm_patterns: ["payments-*"]
    severity:
      rules:
        - name: payments-latency-is-sev1
          when:
            alarm_name: "payments-*"
            metric: TargetResponseTime
          severity: SEV1
        - name: core-team-alertmanager
          when:
            source: alertmanager
            service: search
            labels: {team: core, tier: "1"}
          severity: SEV2
        - name: elb
          when: {namespace: AWS/ApplicationELB}
          severity: SEV3
        - name: tagged
          use: description_tag
        - name: everything-in-checkout
          when: {service: checkout}
          severity: SEV5
    """
)


def test_a_when_rule_records_its_name_and_what_it_matched():
    decision = resolve_severity(
        signal(alarm_name="payments-latency", metric="TargetResponseTime", description="[SEV3]"), "payments", RULES
    )

    assert decision == SeverityDecision(
        "SEV1",
        "payments-latency-is-sev1",
        'rule "payments-latency-is-sev1" matched alarm name payments-* and metric TargetResponseTime',
    )


def test_every_condition_of_a_when_must_hold():
    # The alarm name matches but the metric does not: the next rule that matches decides.
    decision = resolve_severity(
        signal(alarm_name="payments-latency", namespace="AWS/ApplicationELB", metric="HTTPCode_ELB_5XX_Count"),
        "payments",
        RULES,
    )

    assert decision == SeverityDecision("SEV3", "elb", 'rule "elb" matched namespace AWS/ApplicationELB')


def test_source_service_and_labels_conditions():
    matching = signal(source=Source.ALERTMANAGER, labels={"team": "core", "tier": "1", "alertname": "Slow"})
    assert resolve_severity(matching, "search", RULES) == SeverityDecision(
        "SEV2",
        "core-team-alertmanager",
        'rule "core-team-alertmanager" matched service search, source alertmanager and labels team=core, tier=1',
    )
    # One label different, another source, another service: no match.
    assert resolve_severity(signal(source=Source.ALERTMANAGER, labels={"team": "core"}), "search", RULES).rule == (
        "default"
    )
    assert resolve_severity(signal(source=Source.GRAFANA, labels=matching.hints.labels), "search", RULES).rule == (
        "default"
    )
    assert resolve_severity(matching, "payments", RULES).rule == "default"


def test_rules_are_tried_in_order_before_the_service_default():
    # A tag decides before the later service rule does, and both before checkout's default_severity.
    assert resolve_severity(signal(description="[SEV1] 5xx"), "checkout", RULES).rule == "tagged"
    assert resolve_severity(signal(), "checkout", RULES) == SeverityDecision(
        "SEV5", "everything-in-checkout", 'rule "everything-in-checkout" matched service checkout'
    )


def test_the_service_default_then_the_global_default():
    assert resolve_severity(signal(alarm_name="checkout-5xx"), "checkout", SHIPPED) == SeverityDecision(
        "SEV2", "service-default", "no rule matched; service checkout defaults to SEV2"
    )
    assert resolve_severity(signal(), "billing", RULES) == SeverityDecision(
        "SEV4", "default", "no rule matched and service billing has no default severity; the default is SEV4"
    )
    # Without any rules, the service default decides everything.
    no_rules = config("services: {api: {default_severity: SEV1}}\nseverity: {rules: []}")
    assert resolve_severity(signal(explicit="SEV5", description="[SEV5]"), "api", no_rules).rule == "service-default"


def test_the_shipped_config_pages_payments_latency_as_sev1():
    payments_latency = signal(
        alarm_name="payments-p99-latency", namespace="AWS/ApplicationELB", metric="TargetResponseTime"
    )
    service = resolve_service(payments_latency, SHIPPED)

    decision = resolve_severity(payments_latency, service, SHIPPED)

    assert (service, decision.severity, decision.rule) == ("payments", "SEV1", "payments-latency-is-sev1")
    assert "alarm name payments-*" in decision.reason


text_or_none = st.none() | st.text(max_size=12)
signals = st.builds(
    signal,
    source=st.sampled_from(Source),
    title=st.text(max_size=20),
    service=text_or_none,
    alarm_name=st.none() | st.sampled_from(["payments-latency", "checkout-5xx", "other"]),
    namespace=st.none() | st.just("AWS/ApplicationELB"),
    metric=st.none() | st.sampled_from(["TargetResponseTime", "Errors"]),
    description=st.none() | st.sampled_from(["[sev2] x", "[SEV9]", "plain"]),
    labels=st.dictionaries(st.sampled_from(["severity", "team", "tier", "service"]), st.text(max_size=8)),
    explicit=text_or_none,
)


@given(signals, st.sampled_from([DEFAULTS, SHIPPED, RULES]))
def test_every_signal_gets_a_severity_with_a_known_rule_and_a_reason(given_signal: Signal, configured: SirenConfig):
    service = resolve_service(given_signal, configured)

    decision = resolve_severity(given_signal, service, configured)

    assert decision.severity in SEVERITIES
    assert decision.rule in {rule.name for rule in configured.severity.rules} | {"service-default", "default"}
    assert decision.reason


# ---- policy_for -------------------------------------------------------------------------------------------


def test_policy_for_puts_the_service_settings_over_the_defaults():
    assert policy_for("checkout", SHIPPED) == ServicePolicy(
        on_recovery=OnRecovery.RECOVER,
        insufficient_data=InsufficientData.IGNORE,
        flapping_transitions=4,
        flapping_window=timedelta(minutes=30),
        default_severity="SEV2",
    )
    # payments overrides only the number of transitions; the window stays the default one.
    assert policy_for("payments", SHIPPED) == ServicePolicy(
        OnRecovery.RESOLVE, InsufficientData.IGNORE, 6, timedelta(minutes=30), "SEV1"
    )
    assert policy_for("search", SHIPPED).insufficient_data is InsufficientData.ALERT


def test_policy_for_an_unknown_service_is_the_defaults():
    configured = config(
        """
        defaults:
          on_recovery: recover
          insufficient_data: recover
          flapping: {transitions: 3, window_minutes: 90}
        services:
          api:
            on_recovery: resolve
            flapping: {window_minutes: 5}
        """
    )

    assert policy_for("billing", configured) == ServicePolicy(
        OnRecovery.RECOVER, InsufficientData.RECOVER, 3, timedelta(minutes=90), None
    )
    assert policy_for("api", configured) == ServicePolicy(
        OnRecovery.RESOLVE, InsufficientData.RECOVER, 3, timedelta(minutes=5), None
    )
    assert policy_for("default", DEFAULTS) == ServicePolicy(
        OnRecovery.RESOLVE, InsufficientData.IGNORE, 4, timedelta(minutes=30), None
    )
