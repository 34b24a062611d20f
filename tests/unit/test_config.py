"""siren.yaml: loading, every validation problem as file:line: field: message, and the JSON shipped to Lambda."""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from siren.config import ConfigError, ConfigProblem, config_from_json, load_config, load_config_text
from siren.domain.policy import (
    DEFAULT_LABEL_MAP,
    DEFAULT_NOTIFY,
    DEFAULT_RULES,
    RESERVED_RULE_NAMES,
    BuiltinRule,
    Defaults,
    EscalationLevel,
    EscalationPolicy,
    Flapping,
    FlappingOverride,
    InsufficientData,
    Match,
    NotificationMethod,
    NotificationRule,
    OnRecovery,
    Override,
    Restriction,
    Roles,
    Rotation,
    Schedule,
    ScheduleLayer,
    Service,
    SeverityConfig,
    SirenConfig,
    Target,
    TargetKind,
    User,
    UseRule,
    Weekday,
    WhenRule,
)
from siren.domain.severity import policy_for
from siren.domain.signals import SEVERITIES, Source

SHIPPED = Path(__file__).resolve().parents[2] / "siren.yaml"


def load(text: str) -> SirenConfig:
    return load_config_text(textwrap.dedent(text), "siren.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(text)
    return [str(problem) for problem in raised.value.problems]


# ---- what loads -------------------------------------------------------------------------------------------


def test_the_shipped_siren_yaml_loads():
    config = load_config(SHIPPED)

    assert list(config.services) == ["checkout", "payments", "search"]
    checkout, payments, search = config.services.values()
    assert (checkout.alarm_patterns, checkout.default_severity, checkout.on_recovery) == (
        ("checkout-*",),
        "SEV2",
        OnRecovery.RECOVER,
    )
    assert (payments.alarm_patterns, payments.default_severity) == (("payments-*",), "SEV1")
    assert (search.default_severity, search.insufficient_data) == ("SEV3", InsufficientData.ALERT)
    # The three default rules plus one `when` rule.
    kinds = [str(rule.use) if isinstance(rule, UseRule) else "when" for rule in config.severity.rules]
    assert kinds == ["explicit", "when", "description_tag", "severity_label"]


def test_an_empty_file_is_every_default():
    # GIVEN a file with nothing but a comment
    config = load("# nothing configured yet\n")

    # THEN every default of the documented schema applies
    assert config == SirenConfig()
    assert config.defaults == Defaults("SEV3", OnRecovery.RESOLVE, InsufficientData.IGNORE, Flapping(4, 30))
    assert config.services == {}
    assert dict(config.severity.label_map) == {
        "critical": "SEV1",
        "high": "SEV2",
        "error": "SEV2",
        "warning": "SEV3",
        "info": "SEV4",
    }
    assert [(rule.name, rule.use) for rule in config.severity.rules if isinstance(rule, UseRule)] == [
        ("explicit", BuiltinRule.EXPLICIT),
        ("description_tag", BuiltinRule.DESCRIPTION_TAG),
        ("severity_label", BuiltinRule.SEVERITY_LABEL),
    ]


def test_a_full_configuration_reads_as_written():
    config = load(
        """
        defaults:
          severity: SEV4
          on_recovery: recover
          insufficient_data: alert
          flapping: {transitions: 3, window_minutes: 10}
        services:
          checkout:
            description: "Checkout API"
            alarm_patterns: ["checkout-*", "Checkout*"]
            default_severity: SEV2
            on_recovery: resolve
            insufficient_data: recover
            flapping: {transitions: 6}
          batch_jobs-2:
        severity:
          label_map: {P1: SEV1, Warn: SEV3}
          rules:
            - name: payments-latency-is-sev1
              when:
                alarm_name: "payments-*"
                namespace: "AWS/ApplicationELB"
                metric: "TargetResponseTime"
                service: payments
                source: cloudwatch
                labels: {team: core}
              severity: SEV1
            - name: tagged
              use: description_tag
        """
    )

    assert config.defaults == Defaults("SEV4", OnRecovery.RECOVER, InsufficientData.ALERT, Flapping(3, 10))
    assert config.services["checkout"] == Service(
        name="checkout",
        description="Checkout API",
        alarm_patterns=("checkout-*", "Checkout*"),
        default_severity="SEV2",
        on_recovery=OnRecovery.RESOLVE,
        insufficient_data=InsufficientData.RECOVER,
        flapping=FlappingOverride(transitions=6),
    )
    # A service named with nothing under it takes every default.
    assert config.services["batch_jobs-2"] == Service(name="batch_jobs-2")
    # label_map keys are matched in any case, so they are kept lowercased.
    assert config.severity == SeverityConfig(
        label_map={"p1": "SEV1", "warn": "SEV3"},
        rules=(
            WhenRule(
                "payments-latency-is-sev1",
                Match(
                    "payments-*",
                    "AWS/ApplicationELB",
                    "TargetResponseTime",
                    "payments",
                    Source.CLOUDWATCH,
                    {"team": "core"},
                ),
                "SEV1",
            ),
            UseRule("tagged", BuiltinRule.DESCRIPTION_TAG),
        ),
    )


def test_an_empty_rule_list_means_no_rules_and_absent_rules_mean_the_default_ones():
    assert load("severity: {rules: []}").severity.rules == ()
    assert load("severity: {label_map: {}}").severity.rules == DEFAULT_RULES
    assert load("severity: {label_map: {}}").severity.label_map == {}


# ---- every problem, as file:line: field: message ----------------------------------------------------------


def test_the_documented_example_problem():
    text = """\
# Siren's configuration
defaults:
  severity: SEV3
  on_recovery: resolve
services:
  payments:
    description: Payments
    alarm_patterns: ["payments-*"]
    default_severity: SEV1
  checkout:
    description: Checkout API
    alarm_patterns: ["checkout-*"]
    default_severity: SEV2
    on_recovery: close
"""
    assert problems(text) == [
        'siren.yaml:14: services.checkout.on_recovery: must be one of resolve, recover (got "close")'
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """
            defaults:
              flapping: 5
            """,
            "siren.yaml:3: defaults.flapping: must be a mapping (got 5)",
            id="wrong type: mapping",
        ),
        pytest.param(
            """
            services:
              checkout:
                alarm_patterns: checkout-*
            """,
            'siren.yaml:4: services.checkout.alarm_patterns: must be a list (got "checkout-*")',
            id="wrong type: list",
        ),
        pytest.param(
            """
            services:
              checkout:
                description: 42
            """,
            "siren.yaml:4: services.checkout.description: must be a string (got 42)",
            id="wrong type: string",
        ),
        pytest.param(
            """
            defaults:
              flapping: {window_minutes: "30"}
            """,
            'siren.yaml:3: defaults.flapping.window_minutes: must be a whole number (got "30")',
            id="wrong type: a quoted number",
        ),
        pytest.param(
            """
            defaults:
              flapping: {transitions: yes}
            """,
            "siren.yaml:3: defaults.flapping.transitions: must be a whole number (got true)",
            id="wrong type: a YAML boolean is not a number",
        ),
        pytest.param(
            """
            defaults:
              on_recovry: recover
            """,
            'siren.yaml:3: defaults.on_recovry: unknown key (did you mean "on_recovery"?)',
            id="typo in a key",
        ),
        pytest.param(
            """
            sevrity: {}
            """,
            'siren.yaml:2: sevrity: unknown key (did you mean "severity"?)',
            id="typo in a section",
        ),
        pytest.param(
            """
            teams: {}
            """,
            "siren.yaml:2: teams: unknown key (known keys: defaults, services, severity, users, schedules,"
            " escalation_policies, severity_policies, roles, paging, status_page, reports, operations, heartbeats,"
            " integrations, slack)",
            id="unknown section",
        ),
        pytest.param(
            """
            defaults:
              insufficient_data: treat-as-ok
            """,
            'siren.yaml:3: defaults.insufficient_data: must be one of ignore, alert, recover (got "treat-as-ok")',
            id="bad enum",
        ),
        pytest.param(
            """
            defaults:
              severity: SEV0
            """,
            'siren.yaml:3: defaults.severity: must be one of SEV1, SEV2, SEV3, SEV4, SEV5 (got "SEV0")',
            id="bad SEV",
        ),
        pytest.param(
            """
            services:
              checkout:
                default_severity: sev2
            """,
            "siren.yaml:4: services.checkout.default_severity: must be one of SEV1, SEV2, SEV3, SEV4, SEV5"
            ' (got "sev2"; did you mean "SEV2"?)',
            id="SEV in the wrong case",
        ),
        pytest.param(
            """
            defaults:
              severity:
            """,
            "siren.yaml:3: defaults.severity: must be one of SEV1, SEV2, SEV3, SEV4, SEV5 (got nothing)",
            id="a value left empty",
        ),
        pytest.param(
            """
            services:
              checkout: {}
              payments: {}
              checkout: {}
            """,
            "siren.yaml:5: services.checkout: duplicate key (first at line 3)",
            id="duplicate key",
        ),
        pytest.param(
            """
            services:
              Checkout: {}
            """,
            'siren.yaml:3: services.Checkout: service names are lowercase letters, digits, "-" and "_",'
            ' starting with a letter or digit (got "Checkout")',
            id="bad service name",
        ),
        pytest.param(
            """
            services:
              checkout:
                flapping:
                  window_minutes: 0
            """,
            "siren.yaml:5: services.checkout.flapping.window_minutes: must be at least 1 (got 0)",
            id="zero flapping window",
        ),
        pytest.param(
            """
            defaults:
              flapping: {transitions: -2}
            """,
            "siren.yaml:3: defaults.flapping.transitions: must be at least 1 (got -2)",
            id="negative flapping transitions",
        ),
        pytest.param(
            """
            severity:
              label_map: {critical: SEV1, CRITICAL: SEV2}
            """,
            'siren.yaml:3: severity.label_map.CRITICAL: the same label value as "critical": they are matched in any'
            " case",
            id="label_map keys differing only in case",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: sev1
                  use: explicit
                - name: sev1
                  use: description_tag
            """,
            'siren.yaml:6: severity.rules[1].name: duplicate rule name "sev1" (first at line 4)',
            id="duplicate rule name",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: default
                  use: explicit
            """,
            'siren.yaml:4: severity.rules[0].name: "default" is reserved for decisions that no rule made',
            id="reserved rule name",
        ),
        pytest.param(
            """
            severity:
              rules:
                - use: explicit
            """,
            "siren.yaml:4: severity.rules[0].name: every rule needs a name",
            id="rule without a name",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: both
                  when: {metric: Errors}
                  severity: SEV2
                  use: explicit
            """,
            'siren.yaml:4: severity.rules[0]: a rule has either "when" (with "severity") or "use", not both',
            id="rule with both when and use",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: neither
                  severity: SEV2
            """,
            'siren.yaml:4: severity.rules[0]: a rule needs either "when" (with "severity") or "use"',
            id="rule with neither when nor use",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: no-severity
                  when: {metric: Errors}
            """,
            'siren.yaml:4: severity.rules[0].severity: required with "when"',
            id="when without severity",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: said
                  use: explicit
                  severity: SEV1
            """,
            'siren.yaml:6: severity.rules[0].severity: not allowed with "use": the severity comes from the signal',
            id="use with severity",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: everything
                  when: {}
                  severity: SEV1
            """,
            "siren.yaml:5: severity.rules[0].when: give at least one of alarm_name, namespace, metric, service,"
            " source, labels",
            id="empty when",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: typo
                  when: {alarm: "x-*"}
                  severity: SEV1
            """,
            'siren.yaml:5: severity.rules[0].when.alarm: unknown key (did you mean "alarm_name"?)',
            id="typo in when",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: from
                  when: {source: prometheus}
                  severity: SEV1
            """,
            "siren.yaml:5: severity.rules[0].when.source: must be one of "
            + ", ".join(source.value for source in Source)  # every source Siren reads, in the enum's order
            + ' (got "prometheus")',
            id="unknown source",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: tier
                  when:
                    labels: {tier: 1}
                  severity: SEV1
            """,
            "siren.yaml:6: severity.rules[0].when.labels.tier: must be a string (got 1)",
            id="label value that is not a string",
        ),
        pytest.param(
            """
            severity:
              rules:
                - name: odd
                  use: guess
            """,
            "siren.yaml:5: severity.rules[0].use: must be one of explicit, description_tag, severity_label"
            ' (got "guess")',
            id="unknown use",
        ),
        pytest.param(
            """
            - defaults
            """,
            "siren.yaml:2: must be a mapping (got a list)",
            id="not a mapping at the top",
        ),
    ],
)
def test_each_problem_names_file_line_and_field(text: str, expected: str):
    assert problems(text) == [expected]


def test_all_problems_are_reported_at_once_in_file_order():
    found = problems(
        """
        defaults:
          severity: SEV9
          on_recovry: resolve
          flapping: {transitions: 0}
        services:
          checkout:
            on_recovery: close
          checkout:
            description: again
          Search: {}
        severity:
          rules:
            - name: a
              use: explicit
            - name: a
              when: {}
        """
    )

    assert found == [
        'siren.yaml:3: defaults.severity: must be one of SEV1, SEV2, SEV3, SEV4, SEV5 (got "SEV9")',
        'siren.yaml:4: defaults.on_recovry: unknown key (did you mean "on_recovery"?)',
        "siren.yaml:5: defaults.flapping.transitions: must be at least 1 (got 0)",
        'siren.yaml:8: services.checkout.on_recovery: must be one of resolve, recover (got "close")',
        "siren.yaml:9: services.checkout: duplicate key (first at line 7)",
        'siren.yaml:11: services.Search: service names are lowercase letters, digits, "-" and "_", starting with a'
        ' letter or digit (got "Search")',
        'siren.yaml:16: severity.rules[1].name: duplicate rule name "a" (first at line 14)',
        'siren.yaml:16: severity.rules[1].severity: required with "when"',
        "siren.yaml:17: severity.rules[1].when: give at least one of alarm_name, namespace, metric, service, source,"
        " labels",
    ]


def test_the_error_carries_structured_problems_and_is_a_value_error():
    with pytest.raises(ValueError, match=r"siren\.yaml:3: defaults\.severity") as raised:
        load("\ndefaults:\n  severity: high\n  on_recovery: close\n")

    error = raised.value
    assert isinstance(error, ConfigError)
    assert error.problems[0] == ConfigProblem(
        "siren.yaml", 3, "defaults.severity", 'must be one of SEV1, SEV2, SEV3, SEV4, SEV5 (got "high")'
    )
    assert [problem.line for problem in error.problems] == [3, 4]
    assert str(error).splitlines() == [str(problem) for problem in error.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "defaults:\n  flapping: [4, 30\nservices: {}\n",
            "siren.yaml:3: while parsing a flow sequence from line 2: expected ',' or ']', but got ':'",
            id="unclosed flow list",
        ),
        pytest.param(
            "defaults:\n\tseverity: SEV1\n",
            "siren.yaml:2: while scanning for the next token: found character '\\t' that cannot start any token",
            id="tab indentation",
        ),
        pytest.param(
            "defaults: {}\n---\nservices: {}\n",
            "siren.yaml:2: expected a single document in the stream from line 1: found another document",
            id="two documents",
        ),
        pytest.param(
            'services:\n  checkout:\n    description: "\x07"\n',
            "siren.yaml:3: character '\\x07' is not allowed in YAML",
            id="control character",
        ),
    ],
)
def test_malformed_yaml_is_a_config_error_with_its_line(text: str, expected: str):
    assert problems(text) == [expected]


def test_yaml_constructs_outside_the_schema_are_problems():
    assert problems("defaults: !Ref Defaults\n") == [
        "siren.yaml:1: defaults: could not determine a constructor for the tag '!Ref'"
    ]
    assert problems("base: &base {severity: SEV1}\ndefaults:\n  <<: *base\n") == [
        "siren.yaml:1: base: unknown key (known keys: defaults, services, severity, users, schedules,"
        " escalation_policies, severity_policies, roles, paging, status_page, reports, operations, heartbeats,"
        " integrations, slack)",
        "siren.yaml:3: defaults.<<: merge keys are not supported: write the keys out",
    ]
    assert problems("services:\n  ? [a, b]\n  : {}\n") == [
        "siren.yaml:2: services: keys must be plain names, not lists or mappings"
    ]


def test_load_config_names_the_path_and_rejects_non_utf8(tmp_path: Path):
    path = tmp_path / "siren.yaml"
    path.write_text("defaults:\n  severity: SEV0\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}:2: defaults.severity: ")

    path.write_bytes(b"services:\n  caf\xe9: {}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}:2: the file is not UTF-8 text"


# ---- the normalized JSON shipped to Lambda ----------------------------------------------------------------


def test_the_shipped_config_round_trips_through_json_keeping_service_order():
    config = load_config(SHIPPED)

    # The config layer writes it with sorted keys: service order (first match wins) must survive that.
    shipped = json.loads(json.dumps(config.to_json(), sort_keys=True))
    again = config_from_json(shipped)

    assert again == config
    assert list(again.services) == list(config.services)
    assert policy_for("search", again) == policy_for("search", config)


def test_the_json_has_every_default_filled_in():
    data = load("services: {api: {}}\n").to_json()

    assert data == {
        "defaults": {
            "severity": "SEV3",
            "on_recovery": "resolve",
            "insufficient_data": "ignore",
            "flapping": {"transitions": 4, "window_minutes": 30},
        },
        "services": [{"name": "api", "description": "", "alarm_patterns": []}],
        "severity": {
            "label_map": dict(DEFAULT_LABEL_MAP),
            "rules": [
                {"name": "explicit", "use": "explicit"},
                {"name": "description_tag", "use": "description_tag"},
                {"name": "severity_label", "use": "severity_label"},
            ],
        },
        "users": {},
        "schedules": {},
        "escalation_policies": {},
        "severity_policies": {},
        "roles": None,
        "paging": {"sms_links": False, "chat_severities": []},
        "status_page": {
            "name": "Status",
            "components": [],
            "impact": {
                "SEV1": "major_outage",
                "SEV2": "partial_outage",
                "SEV3": "degraded_performance",
                "SEV4": "operational",
                "SEV5": "operational",
            },
        },
        "reports": {
            "recipients": [],
            "time_zone": "UTC",
            "weekly": "cron(0 9 ? * MON *)",
            "monthly": "cron(0 9 1 * ? *)",
            "off_hours": {"start": "18:00", "end": "08:00", "weekends": True},
        },
        "operations": {"contacts": [], "heartbeat_minutes": 5},
        "heartbeats": [],
        "integrations": {
            "pagerduty": [],
            "opsgenie": [],
            "pagerduty_severities": {"critical": "SEV1", "error": "SEV2", "warning": "SEV3", "info": "SEV4"},
            "opsgenie_priorities": {"P1": "SEV1", "P2": "SEV2", "P3": "SEV3", "P4": "SEV4", "P5": "SEV5"},
        },
        "slack": {"severities": ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"], "incident_channels": False},
    }


def test_the_json_files_each_part_under_its_key_and_leaves_out_what_is_absent():
    config = load(
        """
        services:
          api: {flapping: {}, alarm_patterns: [api-*]}
        users:
          alice: {phone: "+14255550100"}
        schedules:
          primary:
            time_zone: UTC
            layers:
              - name: nights
                rotation: daily
                handoff: "2026-01-05T09:00"
                participants: [alice]
                restrict: [{start: "22:00", end: "06:00", days: [mon]}]
        escalation_policies:
          pager: {levels: [{targets: [{schedule: primary}, {user: alice}], delay_minutes: 5}]}
        severity_policies: {default: pager}
        """
    )

    data = config.to_json()

    assert data["services"] == [{"name": "api", "description": "", "alarm_patterns": ["api-*"]}]
    assert data["users"] == {
        "alice": {
            "name": "alice",
            "phone": "+14255550100",
            "time_zone": "UTC",
            "notify": [{"method": "sms", "after_minutes": 0}, {"method": "voice", "after_minutes": 2}],
        }
    }
    assert data["schedules"] == {
        "primary": {
            "time_zone": "UTC",
            "layers": [
                {
                    "name": "nights",
                    "rotation": "daily",
                    "handoff": "2026-01-05T09:00",
                    "participants": ["alice"],
                    "restrict": [{"start": "22:00", "end": "06:00", "days": ["mon"]}],
                }
            ],
            "overrides": [],
        }
    }
    assert data["escalation_policies"] == {
        "pager": {
            "levels": [{"targets": [{"schedule": "primary"}, {"user": "alice"}], "delay_minutes": 5}],
            "repeat": 1,
        }
    }
    assert data["roles"] is None


def test_invalid_json_is_reported_without_lines():
    data = load_config(SHIPPED).to_json()
    data["defaults"]["on_recovery"] = "close"
    data["services"].append({"name": "checkout"})
    data["services"].append({"description": "no name"})

    with pytest.raises(ConfigError) as raised:
        config_from_json(data, "/opt/siren-config/config.json")

    assert str(raised.value).splitlines() == [
        '/opt/siren-config/config.json: defaults.on_recovery: must be one of resolve, recover (got "close")',
        '/opt/siren-config/config.json: services[3].name: duplicate service "checkout"',
        "/opt/siren-config/config.json: services[4]: every service needs a name",
    ]


def test_json_written_in_the_yaml_shape_reads_too():
    assert config_from_json({"services": {"api": {"default_severity": "SEV2"}}}) == load(
        "services: {api: {default_severity: SEV2}}"
    )


# Generated configurations: whatever is valid survives to_json -> JSON text -> config_from_json, and reads the
# same when written out as YAML, so the two ways in cannot drift apart.

names = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,11}", fullmatch=True)
alphabet = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
texts = st.text(alphabet, min_size=1, max_size=12).filter(str.strip)
severities = st.sampled_from(SEVERITIES)
positive = st.integers(min_value=1, max_value=10_000)
services = st.builds(
    Service,
    name=st.just("-"),
    description=st.text(alphabet, max_size=20),
    alarm_patterns=st.lists(texts, max_size=3).map(tuple),
    default_severity=st.none() | severities,
    on_recovery=st.none() | st.sampled_from(OnRecovery),
    insufficient_data=st.none() | st.sampled_from(InsufficientData),
    flapping=st.builds(FlappingOverride, st.none() | positive, st.none() | positive),
)
matches = st.builds(
    Match,
    alarm_name=st.none() | texts,
    namespace=st.none() | texts,
    metric=st.none() | texts,
    service=st.none() | names,
    source=st.none() | st.sampled_from(Source),
    labels=st.dictionaries(texts, st.text(alphabet, max_size=8), max_size=2),
).filter(lambda match: match.to_json())
rules = st.builds(WhenRule, name=st.just("-"), when=matches, severity=severities) | st.builds(
    UseRule, name=st.just("-"), use=st.sampled_from(BuiltinRule)
)
configs = st.builds(
    SirenConfig,
    defaults=st.builds(
        Defaults,
        severity=severities,
        on_recovery=st.sampled_from(OnRecovery),
        insufficient_data=st.sampled_from(InsufficientData),
        flapping=st.builds(Flapping, positive, positive),
    ),
    services=st.dictionaries(names, services, max_size=4).map(
        lambda by_name: {name: replace(service, name=name) for name, service in by_name.items()}
    ),
    severity=st.builds(
        SeverityConfig,
        label_map=st.dictionaries(texts.map(str.lower).filter(lambda label: label == label.strip()), severities),
        rules=st.just(DEFAULT_RULES)
        | st.dictionaries(names.filter(lambda name: name not in RESERVED_RULE_NAMES), rules, max_size=5).map(
            lambda by_name: tuple(replace(rule, name=name) for name, rule in by_name.items())
        ),
    ),
)


@settings(max_examples=150)
@given(configs)
def test_any_valid_config_round_trips_through_json_and_yaml(config: SirenConfig):
    data = json.loads(json.dumps(config.to_json(), sort_keys=True))
    from_json = config_from_json(data)
    assert from_json == config
    assert list(from_json.services) == list(config.services)

    # The same configuration written by a person, as YAML with services as a mapping.
    written = config.to_json()
    written["services"] = {service.pop("name"): service for service in written["services"]}
    page = written["status_page"]
    page["components"] = {component.pop("id"): component for component in page["components"]}
    from_yaml = load_config_text(yaml.safe_dump(written, sort_keys=False, allow_unicode=True), "siren.yaml")
    assert from_yaml == config
    assert list(from_yaml.services) == list(config.services)


def test_policy_windows_come_out_as_timedeltas():
    assert policy_for("payments", load_config(SHIPPED)).flapping_window == timedelta(minutes=30)


# ---- on call: users, schedules, escalation policies, severity policies, roles -----------------------------

ON_CALL = """\
users:
  alice:
    name: Alice Martin
    phone: "+14255550101"
    email: alice@example.com
    time_zone: America/Los_Angeles
    notify:
      - {method: sms, after_minutes: 0}
      - {method: voice, after_minutes: 2}
      - {method: chat}
  bob:
    email: bob@example.com
  erin:
    phone: "+14255550105"
schedules:
  primary:
    time_zone: America/New_York
    layers:
      - name: weekly
        rotation: weekly
        length_hours: 168
        handoff: "2026-01-05T09:00"
        participants: [alice, bob]
        restrict: null
      - name: nights
        rotation: custom
        length_hours: 12
        handoff: 2026-01-05 21:00:00
        participants: [erin]
        restrict:
          - {start: "21:00", end: "09:00", days: [fri, mon]}
    overrides:
      - {user: erin, start: "2026-12-24T09:00", end: "2026-12-26T09:00"}
  secondary:
    time_zone: UTC
    layers:
      - {name: daily, rotation: daily, handoff: 2026-01-05, participants: [bob]}
escalation_policies:
  standard:
    repeat: 2
    levels:
      - {targets: [{schedule: primary}], delay_minutes: 5}
      - {targets: [{schedule: secondary}, {user: erin}], delay_minutes: 10}
  critical:
    levels:
      - {targets: [{user: alice}], delay_minutes: 1}
severity_policies:
  default: standard
  SEV1: critical
roles:
  severities: [SEV2, SEV1]
  commander: {schedule: primary}
  comms: {user: bob}
"""


def test_the_shipped_siren_yaml_has_an_on_call_team():
    config = load_config(SHIPPED)

    assert list(config.users) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert all(user.phone and user.phone.startswith("+1425555010") for user in config.users.values())
    assert list(config.schedules) == ["primary", "secondary", "incident-commander", "comms-lead"]
    assert [layer.name for layer in config.schedules["primary"].layers] == ["weekly", "europe-covers-us-nights"]
    assert len(config.schedules["primary"].overrides) == 1
    assert config.policy_for_severity("SEV1").name == "critical"
    assert config.policy_for_severity("SEV2").name == "critical"
    assert config.policy_for_severity("SEV3").name == "standard"
    assert config.roles == Roles(
        ("SEV1", "SEV2"),
        commander=Target(TargetKind.SCHEDULE, "incident-commander"),
        comms=Target(TargetKind.SCHEDULE, "comms-lead"),
    )


def test_the_on_call_sections_read_as_written():
    config = load(ON_CALL)

    assert config.users["alice"] == User(
        id="alice",
        name="Alice Martin",
        phone="+14255550101",
        email="alice@example.com",
        time_zone="America/Los_Angeles",
        notify=(
            NotificationRule(NotificationMethod.SMS, 0),
            NotificationRule(NotificationMethod.VOICE, 2),
            NotificationRule(NotificationMethod.CHAT, 0),
        ),
    )
    # Without notify: the default rules the user has a phone or an email for; the name is the id.
    assert config.users["bob"] == User(
        "bob", "bob", email="bob@example.com", notify=(NotificationRule(NotificationMethod.EMAIL, 0),)
    )
    assert [rule.method for rule in config.users["erin"].notify] == [NotificationMethod.SMS, NotificationMethod.VOICE]
    assert (
        NotificationRule(NotificationMethod.SMS, 0),
        NotificationRule(NotificationMethod.EMAIL, 0),
        NotificationRule(NotificationMethod.VOICE, 2),
    ) == DEFAULT_NOTIFY

    assert config.schedules["primary"] == Schedule(
        name="primary",
        time_zone="America/New_York",
        layers=(
            # length_hours is kept for custom rotations only: a weekly rotation is local weeks.
            ScheduleLayer("weekly", Rotation.WEEKLY, datetime(2026, 1, 5, 9), ("alice", "bob")),
            ScheduleLayer(
                "nights",
                Rotation.CUSTOM,
                datetime(2026, 1, 5, 21),  # an unquoted YAML timestamp reads too
                ("erin",),
                length_hours=12,
                restrict=(Restriction(time(21), time(9), (Weekday.MON, Weekday.FRI)),),
            ),
        ),
        overrides=(Override("erin", datetime(2026, 12, 24, 9), datetime(2026, 12, 26, 9)),),
    )
    # A date alone is midnight; restrict's days default to every day.
    assert config.schedules["secondary"].layers[0].handoff == datetime(2026, 1, 5)
    assert config.schedules["secondary"].zone.key == "UTC"

    assert config.escalation_policies["standard"] == EscalationPolicy(
        "standard",
        levels=(
            EscalationLevel((Target(TargetKind.SCHEDULE, "primary"),), 5),
            EscalationLevel((Target(TargetKind.SCHEDULE, "secondary"), Target(TargetKind.USER, "erin")), 10),
        ),
        repeat=2,
    )
    assert config.escalation_policies["critical"].repeat == 1
    assert config.severity_policies == {"default": "standard", "SEV1": "critical"}
    assert config.roles == Roles(
        ("SEV1", "SEV2"), Target(TargetKind.SCHEDULE, "primary"), Target(TargetKind.USER, "bob")
    )


def test_policy_for_severity_takes_the_severitys_own_policy_else_the_default():
    config = load(ON_CALL)

    assert config.policy_for_severity("SEV1") is config.escalation_policies["critical"]
    assert {config.policy_for_severity(severity).name for severity in SEVERITIES[1:]} == {"standard"}
    with pytest.raises(ValueError, match="not a severity"):
        config.policy_for_severity("sev1")
    with pytest.raises(LookupError, match="no escalation policy for SEV1"):
        SirenConfig().policy_for_severity("SEV1")


def test_a_restriction_with_every_day_and_an_override_round_trip_through_json():
    config = load(ON_CALL)
    data = json.loads(json.dumps(config.to_json(), sort_keys=True))

    assert data["schedules"]["primary"]["layers"][1]["restrict"] == [
        {"start": "21:00", "end": "09:00", "days": ["mon", "fri"]}
    ]
    assert data["schedules"]["primary"]["overrides"] == [
        {"user": "erin", "start": "2026-12-24T09:00", "end": "2026-12-26T09:00"}
    ]
    assert data["roles"] == {
        "severities": ["SEV1", "SEV2"],
        "commander": {"schedule": "primary"},
        "comms": {"user": "bob"},
    }
    assert config_from_json(data) == config
    # And written back out as YAML by a person.
    written = config.to_json()
    written["services"] = {}
    written["status_page"]["components"] = {}
    assert load_config_text(yaml.safe_dump(written, sort_keys=False), "siren.yaml") == config


def test_the_shipped_on_call_config_survives_yaml_too():
    config = load_config(SHIPPED)
    written = config.to_json()
    written["services"] = {service.pop("name"): service for service in written["services"]}
    page = written["status_page"]
    page["components"] = {component.pop("id"): component for component in page["components"]}

    assert load_config_text(yaml.safe_dump(written, sort_keys=False), "siren.yaml") == config


def on_call(extra: str, indent: int = 0) -> str:
    """A valid on-call configuration (lines 1 to 8) followed by ``extra``, indented to go under its last lines."""
    base = """\
users:
  alice: {phone: "+14255550101"}
  bob: {email: bob@example.com}
schedules:
  primary:
    time_zone: America/New_York
    layers:
      - {name: weekly, rotation: weekly, handoff: "2026-01-05T09:00", participants: [alice, bob]}
"""
    return base + textwrap.indent(textwrap.dedent(extra), " " * indent)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            on_call("""\
            escalation_policies:
              standard:
                levels:
                  - {targets: [{schedule: primray}], delay_minutes: 5}
            severity_policies: {default: standard}
            """),
            'siren.yaml:12: escalation_policies.standard.levels[0].targets[0].schedule: unknown schedule "primray"'
            ' (did you mean "primary"?)',
            id="unknown target schedule",
        ),
        pytest.param(
            on_call("""\
            escalation_policies:
              standard:
                levels:
                  - targets:
                      - {user: zed}
                    delay_minutes: 5
            severity_policies: {default: standard}
            """),
            'siren.yaml:13: escalation_policies.standard.levels[0].targets[0].user: unknown user "zed" (not in users)',
            id="unknown target user",
        ),
        pytest.param(
            on_call("""\
            escalation_policies:
              standard:
                levels: [{targets: [{user: alice}], delay_minutes: 5}]
            severity_policies:
              default: standard
              SEV1: critical
            """),
            'siren.yaml:14: severity_policies.SEV1: unknown escalation policy "critical" (not in escalation_policies)',
            id="severity mapped to a missing policy",
        ),
        pytest.param(
            on_call("""\
            escalation_policies:
              standard:
                levels: [{targets: [{user: alice}], delay_minutes: 5}]
            severity_policies:
              SEV1: standard
              SEV3: standard
            """),
            "siren.yaml:12: severity_policies: no escalation policy for SEV2, SEV4, SEV5: map each severity, or give a"
            " default",
            id="severities without a policy",
        ),
        pytest.param(
            on_call("""\
            escalation_policies:
              standard:
                levels: [{targets: [{user: alice}], delay_minutes: 5}]
            """),
            "siren.yaml:1: severity_policies: required with escalation_policies: the policy for each severity, or a"
            ' "default"',
            id="policies but no severity_policies",
        ),
        pytest.param(
            on_call("""\
            escalation_policies:
              standard:
                levels: [{targets: [{user: alice}], delay_minutes: 5}]
            severity_policies: {default: standard, sev1: standard}
            """),
            'siren.yaml:12: severity_policies.sev1: unknown key (did you mean "SEV1"?)',
            id="severity key in the wrong case",
        ),
        pytest.param(
            on_call("""\
            roles:
              severities: [SEV1]
              commander: {schedule: incident-commander}
            """),
            'siren.yaml:11: roles.commander.schedule: unknown schedule "incident-commander" (not in schedules)',
            id="unknown roles schedule",
        ),
        pytest.param(
            on_call("""\
            roles:
              commander: {schedule: primary}
            """),
            "siren.yaml:10: roles.severities: required: the severities whose incidents page these roles",
            id="roles without severities",
        ),
        pytest.param(
            """
            users:
              alice:
                phone: +14255550101
            """,
            'siren.yaml:4: users.alice.phone: must be a phone number in quotes, such as "+14255550101" (YAML reads it'
            " unquoted as a number)",
            id="unquoted phone",
        ),
        pytest.param(
            """
            users:
              alice:
                phone: "425-555-0101"
            """,
            'siren.yaml:4: users.alice.phone: must be an E.164 phone number: "+", the country code and the number, no'
            ' spaces (got "425-555-0101")',
            id="phone not E.164",
        ),
        pytest.param(
            """
            users:
              alice:
                email: alice.example.com
            """,
            "siren.yaml:4: users.alice.email: must be an email address such as alice@example.com (got"
            ' "alice.example.com")',
            id="bad email",
        ),
        pytest.param(
            """
            users:
              alice:
                email: alice@example.com
                time_zone: America/Seattle
            """,
            'siren.yaml:5: users.alice.time_zone: must be an IANA time zone such as "America/New_York" or "UTC" (got'
            ' "America/Seattle")',
            id="unknown time zone",
        ),
        pytest.param(
            """
            users:
              alice:
                name: Alice
            """,
            "siren.yaml:3: users.alice: give a phone or an email: without either nobody can page this user",
            id="a user nobody can reach",
        ),
        pytest.param(
            """
            users:
              alice:
                email: alice@example.com
                notify:
                  - {method: voice, after_minutes: 2}
            """,
            "siren.yaml:6: users.alice.notify[0].method: voice needs the user's phone",
            id="voice without a phone",
        ),
        pytest.param(
            """
            users:
              alice:
                email: alice@example.com
                notify: [{method: pager}]
            """,
            'siren.yaml:5: users.alice.notify[0].method: must be one of sms, voice, email, chat (got "pager")',
            id="unknown notification method",
        ),
        pytest.param(
            """
            users:
              Alice: {email: alice@example.com}
            """,
            'siren.yaml:3: users.Alice: user names are lowercase letters, digits, "-" and "_", starting with a letter'
            ' or digit (got "Alice")',
            id="bad user id",
        ),
        pytest.param(
            on_call(
                """\
            other:
                layers:
                  - {name: a, rotation: daily, handoff: "2026-01-05T09:00", participants: [alice]}
            """,
                indent=2,
            ),
            'siren.yaml:10: schedules.other.time_zone: required: an IANA time zone such as "America/New_York"',
            id="schedule without a time zone",
        ),
        pytest.param(
            on_call(
                """\
            other:
                time_zone: UTC
                layers:
                  - {name: a, rotation: daily, handoff: "2026-01-05T09:00", participants: [alice, bobby]}
            """,
                indent=2,
            ),
            'siren.yaml:12: schedules.other.layers[0].participants[1]: unknown user "bobby" (did you mean "bob"?)',
            id="participant not a user",
        ),
        pytest.param(
            on_call(
                """\
            other:
                time_zone: UTC
                layers:
                  - {name: a, rotation: custom, handoff: "2026-01-05T09:00", participants: [alice]}
            """,
                indent=2,
            ),
            'siren.yaml:12: schedules.other.layers[0].length_hours: required with rotation "custom"',
            id="custom rotation without a length",
        ),
        pytest.param(
            on_call(
                """\
            other:
                time_zone: UTC
                layers:
                  - {name: a, rotation: daily, length_hours: 12, handoff: "2026-01-05T09:00", participants: [alice]}
            """,
                indent=2,
            ),
            "siren.yaml:12: schedules.other.layers[0].length_hours: a daily rotation is 24 hours (got 12): use rotation"
            ' "custom" for other lengths',
            id="daily rotation with another length",
        ),
        pytest.param(
            on_call(
                """\
            other:
                time_zone: UTC
                layers:
                  - {name: a, rotation: daily, handoff: "2026-01-05T09:00+01:00", participants: [alice]}
            """,
                indent=2,
            ),
            "siren.yaml:12: schedules.other.layers[0].handoff: must be a local date-time without an offset: it is read"
            " in the schedule's time_zone",
            id="handoff with an offset",
        ),
        pytest.param(
            on_call(
                """\
            other:
                time_zone: UTC
                layers:
                  - {name: a, rotation: daily, handoff: "next monday", participants: [alice]}
            """,
                indent=2,
            ),
            'siren.yaml:12: schedules.other.layers[0].handoff: must be a local date-time such as "2026-01-05T09:00"'
            ' (got "next monday")',
            id="handoff not a date-time",
        ),
        pytest.param(
            on_call(
                """\
            other:
                time_zone: UTC
                layers:
                  - name: a
                    rotation: daily
                    handoff: "2026-01-05T09:00"
                    participants: [alice]
                    restrict:
                      - {start: "09:00", end: 17:00}
            """,
                indent=2,
            ),
            "siren.yaml:17: schedules.other.layers[0].restrict[0].end: must be a time of day in quotes, such as"
            ' "17:00" (YAML reads it unquoted as the number 1020)',
            id="unquoted time of day",
        ),
        pytest.param(
            on_call(
                """\
            other:
                time_zone: UTC
                layers:
                  - name: a
                    rotation: daily
                    handoff: "2026-01-05T09:00"
                    participants: [alice]
                    restrict:
                      - {start: "09:00", end: "17:00", days: [monday]}
            """,
                indent=2,
            ),
            "siren.yaml:17: schedules.other.layers[0].restrict[0].days[0]: must be one of mon, tue, wed, thu, fri, sat,"
            ' sun (got "monday")',
            id="unknown day",
        ),
        pytest.param(
            on_call(
                """\
                overrides:
                  - {user: bob, start: "2026-12-26T09:00", end: "2026-12-24T09:00"}
            """,
                indent=4,
            ),
            "siren.yaml:10: schedules.primary.overrides[0].end: must be after start (2026-12-26T09:00)",
            id="override ending before it starts",
        ),
        pytest.param(
            on_call(
                """\
                overrides:
                  - {user: dave, start: "2026-12-24T09:00", end: "2026-12-26T09:00"}
            """,
                indent=4,
            ),
            'siren.yaml:10: schedules.primary.overrides[0].user: unknown user "dave" (not in users)',
            id="override user not a user",
        ),
        pytest.param(
            on_call("""\
            escalation_policies:
              standard:
                levels:
                  - {targets: [{schedule: primary, user: alice}], delay_minutes: 5}
            severity_policies: {default: standard}
            """),
            'siren.yaml:12: escalation_policies.standard.levels[0].targets[0]: a target is either "schedule" or "user",'
            " not both",
            id="target with both",
        ),
        pytest.param(
            on_call("""\
            escalation_policies:
              standard:
                levels:
                  - {targets: [{user: alice}]}
            severity_policies: {default: standard}
            """),
            "siren.yaml:12: escalation_policies.standard.levels[0].delay_minutes: required: the minutes to wait for an"
            " acknowledgement before the next level",
            id="level without a delay",
        ),
        pytest.param(
            on_call("""\
            escalation_policies:
              standard:
                repeat: 0
                levels: [{targets: [{user: alice}], delay_minutes: 5}]
            severity_policies: {default: standard}
            """),
            "siren.yaml:11: escalation_policies.standard.repeat: must be at least 1 (got 0)",
            id="repeat zero",
        ),
    ],
)
def test_each_on_call_problem_names_file_line_and_field(text: str, expected: str):
    assert problems(text) == [expected]


def test_every_broken_reference_is_reported_at_its_own_line():
    found = problems(
        on_call("""\
              secondary:
                time_zone: Europe/Berlin
                layers:
                  - {name: a, rotation: weekly, handoff: "2026-01-05T09:00", participants: [carol]}
                overrides:
                  - {user: dave, start: "2026-12-24T09:00", end: "2026-12-26T09:00"}
            escalation_policies:
              standard:
                levels:
                  - {targets: [{schedule: platform}, {user: erin}], delay_minutes: 5}
            severity_policies: {default: standard, SEV1: critical}
            roles:
              severities: [SEV1]
              comms: {schedule: comms-lead}
            """)
    )

    assert found == [
        'siren.yaml:12: schedules.secondary.layers[0].participants[0]: unknown user "carol" (not in users)',
        'siren.yaml:14: schedules.secondary.overrides[0].user: unknown user "dave" (not in users)',
        'siren.yaml:18: escalation_policies.standard.levels[0].targets[0].schedule: unknown schedule "platform"'
        " (not in schedules)",
        'siren.yaml:18: escalation_policies.standard.levels[0].targets[1].user: unknown user "erin" (not in users)',
        'siren.yaml:19: severity_policies.SEV1: unknown escalation policy "critical" (not in escalation_policies)',
        'siren.yaml:22: roles.comms.schedule: unknown schedule "comms-lead" (not in schedules)',
    ]


# ---- paging ----------------------------------------------------------------------------------------------


def test_paging_reads_sms_links_and_chat_severities_in_severity_order():
    config = load("""\
        paging:
          sms_links: true
          chat_severities: [SEV2, SEV1]
        """)
    assert config.paging.sms_links is True
    assert config.paging.chat_severities == ("SEV1", "SEV2")
    assert config_from_json(json.loads(json.dumps(config.to_json()))).paging == config.paging


def test_paging_defaults_to_no_sms_links_and_no_chat():
    config = load("")
    assert config.paging.sms_links is False and config.paging.chat_severities == ()


def test_paging_problems_name_the_line_and_field():
    found = problems("""\
        paging:
          sms_links: "yes please"
          chat_severities: [sev1]
          chat_url: https://hooks.example
        """)
    assert any(p.startswith("siren.yaml:2: paging.sms_links: must be true or false") for p in found), found
    assert any("paging.chat_severities[0]" in p and 'did you mean "SEV1"' in p for p in found), found
    assert any("paging.chat_url" in p for p in found), found


# ---- reports ---------------------------------------------------------------------------------------------


def test_reports_read_recipients_schedules_and_off_hours():
    config = load("""\
        reports:
          recipients: [cto@example.com]
          time_zone: Europe/Berlin
          weekly: "cron(0 8 ? * MON *)"
          monthly: ""
          off_hours: {start: "19:30", end: "07:00", weekends: false}
        """)
    reports = config.reports
    assert reports.recipients == ("cto@example.com",) and reports.time_zone == "Europe/Berlin"
    assert (reports.weekly, reports.monthly) == ("cron(0 8 ? * MON *)", None)
    assert (reports.off_hours_start, reports.off_hours_end, reports.weekends_off) == (time(19, 30), time(7), False)


def test_reports_problems_name_the_line_and_field():
    found = problems("""\
        reports:
          recipients: [nope]
          time_zone: Mars/Base
          weekly: every monday
          off_hours: {start: "25:00"}
        """)
    assert any(p.startswith("siren.yaml:2: reports.recipients[0]: must be an email address") for p in found), found
    assert any(p.startswith("siren.yaml:3: reports.time_zone: must be an IANA time zone") for p in found), found
    assert any(p.startswith("siren.yaml:4: reports.weekly: must be an EventBridge Scheduler cron") for p in found)
    assert any("reports.off_hours.start: must be a time of day" in p for p in found), found


def test_operations_contacts_split_into_phones_and_emails_with_a_default_heartbeat():
    config = load("""\
        operations:
          contacts: ["+14255550199", ops@example.com, "+14255550199"]
        """)
    assert config.operations.phones == ("+14255550199",)  # once, however often it is listed
    assert config.operations.emails == ("ops@example.com",)
    assert config.operations.heartbeat_minutes == 5
    assert load("").operations.phones == load("").operations.emails == ()


def test_operations_problems_name_the_line_and_field():
    found = problems("""\
        operations:
          contacts: ["555-1234", 14255550199]
          heartbeat_minutes: 0
        """)
    assert any(
        p.startswith("siren.yaml:2: operations.contacts[0]: must be an E.164 phone number such as") for p in found
    )
    assert any(p.startswith("siren.yaml:2: operations.contacts[1]: must be a string") for p in found), found
    assert any(p.startswith("siren.yaml:3: operations.heartbeat_minutes: must be at least 1") for p in found), found
