"""siren.yaml's ``slack:`` section: a channel id (never a name), the severities that get a message, and incident
channels only with a channel to announce them in; each mistake named with its line."""

from __future__ import annotations

import pytest

from siren.config import ConfigError
from siren.config.loading import load_config_text
from siren.domain.policy import SirenConfig
from siren.domain.signals import SEVERITIES


def test_the_section_is_read_and_survives_the_deployed_json():
    config = load_config_text(
        "slack:\n  channel: C024BE91L\n  severities: [SEV2, SEV1]\n  incident_channels: true\n", "siren.yaml"
    )
    assert (config.slack.channel, config.slack.severities, config.slack.incident_channels) == (
        "C024BE91L",
        ("SEV1", "SEV2"),
        True,
    )
    assert SirenConfig.from_json(config.to_json()).slack == config.slack


def test_without_the_section_nothing_is_posted_and_every_severity_would_be():
    slack = load_config_text("paging: {sms_links: false}\n", "siren.yaml").slack
    assert slack.channel is None and slack.severities == SEVERITIES and not slack.incident_channels


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("slack:\n  channel: '#incidents'\n", "siren.yaml:2: slack.channel: must be a Slack channel id such as"),
        ("slack:\n  incident_channels: true\n", "siren.yaml:2: slack.incident_channels: needs slack.channel"),
        ("slack:\n  channel: C024BE91L\n  severities: []\n", "siren.yaml:3: slack.severities: give at least one"),
        ("slack:\n  channel: C024BE91L\n  severities: [SEV9]\n", "siren.yaml:3: slack.severities[0]"),
        ("slack:\n  channels: C024BE91L\n", 'siren.yaml:2: slack.channels: unknown key (did you mean "channel"?)'),
    ],
)
def test_mistakes_are_named_with_their_line(section: str, problem: str):
    with pytest.raises(ConfigError) as raised:
        load_config_text(section, "siren.yaml")
    assert str(raised.value).startswith(problem), str(raised.value)
