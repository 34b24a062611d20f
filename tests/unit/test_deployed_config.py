"""The deployed configuration as Lambda reads it: ``SirenConfig.from_json``, the trusted reading of the JSON that
``SirenConfig.to_json`` wrote at synth (no validators, no YAML reader: see siren.domain.policy.serialization).

It must read back exactly what the validating reader (``siren.config.config_from_json``) reads, for every section:
the same configuration, the same order of services and heartbeats.
"""

from __future__ import annotations

import json
import textwrap

from hypothesis import given, settings

from siren.config import config_from_json, load_config, load_config_text
from siren.domain.policy import SirenConfig
from tests.unit.test_config import ON_CALL, SHIPPED, configs

# Every section away from its defaults, so that each override of from_json and each field type is exercised.
EVERY_SECTION = ON_CALL + textwrap.dedent("""\
    defaults: {severity: SEV2, on_recovery: recover, insufficient_data: alert, flapping: {transitions: 6}}
    services:
      checkout: {description: Payments, alarm_patterns: ["checkout-*"], default_severity: SEV1,
                 flapping: {window_minutes: 10}}
      search: {on_recovery: resolve, insufficient_data: recover}
    severity:
      label_map: {p1: SEV1}
      rules:
        - {name: db, when: {namespace: AWS/RDS, source: cloudwatch, labels: {team: data}}, severity: SEV2}
        - {name: stated, use: explicit}
    paging: {sms_links: true, chat_severities: [SEV1]}
    status_page:
      name: Example status
      components:
        web: {name: Website, group: Customer, services: [checkout]}
        api: {name: API, description: The public API}
      impact: {SEV1: partial_outage}
    reports:
      recipients: [lead@example.com]
      time_zone: Europe/Berlin
      weekly: ""
      monthly: "cron(0 8 1 * ? *)"
      off_hours: {start: "19:30", end: "07:00", weekends: false}
    operations: {contacts: ["+14255550199", ops@example.com], heartbeat_minutes: 3}
    heartbeats:
      - {name: nightly, service: search, interval_minutes: 1440, grace_minutes: 60, severity: SEV4}
      - {name: often, service: checkout, interval_minutes: 5}
    """)


def deployed(config: SirenConfig) -> dict[str, object]:
    """The config layer's file: to_json written with sorted keys (service order must survive that)."""
    return json.loads(json.dumps(config.to_json(), sort_keys=True))


def assert_reads_back(config: SirenConfig) -> None:
    data = deployed(config)
    again = SirenConfig.from_json(data)
    assert again == config
    assert again == config_from_json(data)
    assert list(again.services) == list(config.services)
    assert list(again.heartbeats) == list(config.heartbeats)
    assert list(again.status_page.components) == list(config.status_page.components)


def test_the_shipped_siren_yaml_reads_back_as_validated():
    assert_reads_back(load_config(SHIPPED))


def test_every_section_reads_back_as_validated():
    config = load_config_text(EVERY_SECTION, "siren.yaml")
    # The example really is away from the defaults where from_json has work of its own to do.
    assert config.reports.weekly is None and config.operations.phones and config.operations.emails
    assert config.status_page.components and config.heartbeats and config.roles is not None

    assert_reads_back(config)


def test_the_empty_configuration_reads_back():
    assert_reads_back(SirenConfig())


@settings(max_examples=100)
@given(configs)
def test_any_valid_config_reads_back(config: SirenConfig):
    assert_reads_back(config)
