"""The PagerDuty and Opsgenie integrations: their config section and their keys, derived from one secret.

GIVEN siren.yaml's integrations and a secret
WHEN keys are derived, presented, rotated, or the section is wrong
THEN each key has its vendor's shape, opens only its own integration, changes with key_version alone, and a
bad section names what is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from siren.config import ConfigError, load_config
from siren.domain.integration_keys import integration_for_key, integration_key
from siren.domain.policy import OPSGENIE, PAGERDUTY, Integration

ROOT = Path(__file__).resolve().parents[2]
CONFIG = load_config(ROOT / "siren.yaml")
SECRET = b"s3cret-of-the-stack"


def test_keys_have_their_vendors_shapes_and_are_stable():
    payments = Integration("prometheus-payments", "payments")
    pagerduty = integration_key(SECRET, PAGERDUTY, payments)
    opsgenie = integration_key(SECRET, OPSGENIE, payments)
    assert re.fullmatch(r"[0-9a-f]{32}", pagerduty)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", opsgenie)
    assert integration_key(SECRET, PAGERDUTY, payments) == pagerduty  # derived, not stored: the same every time
    assert pagerduty not in opsgenie.replace("-", "")


def test_a_key_opens_its_own_integration_only_and_key_version_rotates_one_key():
    first, second = Integration("a", "payments"), Integration("b", "checkout")
    key_of_second = integration_key(SECRET, PAGERDUTY, second)
    assert integration_for_key(SECRET, PAGERDUTY, [first, second], key_of_second) == second
    assert integration_for_key(SECRET, OPSGENIE, [first, second], key_of_second) is None  # another API's key
    assert integration_for_key(SECRET, PAGERDUTY, [first, second], "0" * 32) is None
    assert integration_for_key(b"another secret", PAGERDUTY, [first, second], key_of_second) is None
    rotated = Integration("b", "checkout", key_version=2)
    assert integration_key(SECRET, PAGERDUTY, rotated) != key_of_second
    assert integration_key(SECRET, PAGERDUTY, first) == integration_key(SECRET, PAGERDUTY, Integration("a", "x"))


def test_the_shipped_config_declares_one_integration_of_each_api_with_the_default_levels():
    integrations = CONFIG.integrations
    assert [(i.name, i.service) for i in integrations.pagerduty] == [("prometheus-payments", "payments")]
    assert [(i.name, i.service) for i in integrations.opsgenie] == [("zabbix-checkout", "checkout")]
    assert integrations.pagerduty_severities["critical"] == "SEV1"
    assert integrations.opsgenie_priorities["P5"] == "SEV5"


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("  pagerduty:\n    - {name: a, service: nowhere}\n", "nowhere"),
        ("  pagerduty:\n    - {name: a, service: payments}\n    - {name: a, service: search}\n", "duplicate"),
        ("  opsgenie:\n    - {name: Bad Name, service: payments}\n", "integration names"),
        ("  opsgenie:\n    - {service: payments}\n", "required"),
        ("  pagerduty:\n    - {name: a, service: payments, key_version: 0}\n", "key_version"),
        ("  pagerduty_severities: {fatal: SEV1}\n", "critical, error, warning, info"),
        ("  opsgenie_priorities: {P1: SEV9}\n", "SEV"),
    ],
)
def test_a_wrong_integrations_section_names_what_is_wrong(tmp_path, section, problem):
    shipped = (ROOT / "siren.yaml").read_text()
    config = tmp_path / "siren.yaml"
    config.write_text(shipped[: shipped.index("\nintegrations:")] + "\nintegrations:\n" + section)
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert problem in str(refused.value)
