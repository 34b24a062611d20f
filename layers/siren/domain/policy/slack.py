"""The Slack app's incident messages: which channel gets them, for which severities, and whether SEV1/SEV2 get a
channel of their own."""

from __future__ import annotations

from dataclasses import dataclass

from siren.domain.policy.serialization import PolicyPart
from siren.domain.signals import SEVERITIES


@dataclass(frozen=True, slots=True)
class SlackConfig(PolicyPart):
    # The channel's id (C..., or G... for a private one): the incident message is posted there with the bot token.
    # None: no incident messages (the slash command and the buttons work without it).
    channel: str | None = None
    # The severities whose incidents get a message.
    severities: tuple[str, ...] = SEVERITIES
    # A channel per SEV1/SEV2 incident (inc-<id>), its paged responders invited, archived when it is resolved.
    incident_channels: bool = False
