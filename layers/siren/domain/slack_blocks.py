"""The incident's Slack message, as Block Kit: what it says, its buttons, the thread's replies and the incident
channel's name. Pure: it builds JSON (with slack-sdk's Block Kit models, which do no I/O) and knows nothing of how
it is sent (siren.app.slack_messages) or answered (siren.app.slack_app, which reads the buttons' action ids).

Everything that comes from outside (an alert's title and service, a public update, a person's name) is escaped for
Slack's mrkdwn (``&``, ``<``, ``>``): a title such as ``<!channel>`` or ``<https://evil|click>`` is shown as
written, never as a mention or a link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from siren.domain.incidents import Incident, IncidentStatus, TimelineEntry, TimelineKind

# The buttons of the incident message: Slack sends the action id back with the incident id as the value.
ACKNOWLEDGE: Final = "acknowledge"
RESOLVE: Final = "resolve"
ESCALATE: Final = "escalate"
ACTION_IDS: Final = (ACKNOWLEDGE, RESOLVE, ESCALATE)

# Severities that get an incident channel of their own when ``slack.incident_channels`` is on.
CHANNEL_SEVERITIES: Final = frozenset({"SEV1", "SEV2"})

# The changes that become a reply in the message's thread (paging sends and alert repeats are too many to be read).
THREAD_KINDS: Final = frozenset(
    {
        TimelineKind.SEVERITY_CHANGED,
        TimelineKind.ACKNOWLEDGED,
        TimelineKind.RECOVERED,
        TimelineKind.RETRIGGERED,
        TimelineKind.RESOLVED,
        TimelineKind.FLAPPING,
        TimelineKind.ROLE_ASSIGNED,
        TimelineKind.UPDATE_POSTED,
        TimelineKind.ESCALATED,
        TimelineKind.NOTE,
    }
)

TITLE_MAX: Final = 200  # a section's text may be 3,000 characters; a title is one line
UPDATE_MAX: Final = 1000
CHANNEL_NAME_MAX: Final = 80  # Slack's limit on a channel name


def escape(text: str) -> str:
    """``text`` shown as written in mrkdwn: Slack's three control characters escaped, as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class SlackThread:
    """Where an incident's Slack message is, and how far it has gone. One per incident (siren.ports.SlackThreads).

    ``channel``/``ts`` are None while the message is claimed but not posted yet; ``replies``: how many of the
    timeline's thread-worthy entries are already replied; ``incident_channel``: the SEV1/SEV2 channel's id;
    ``invited``: the Slack members invited to it; ``version``: the store's optimistic lock."""

    incident_id: str
    claimed_at: datetime
    channel: str | None = None
    ts: str | None = None
    replies: int = 0
    incident_channel: str | None = None
    invited: tuple[str, ...] = ()
    archived: bool = False
    version: int = 1

    @property
    def posted(self) -> bool:
        return self.channel is not None and self.ts is not None


def incident_channel_name(incident_id: str) -> str:
    """A valid Slack channel name from the incident id: lowercase letters, digits, ``-`` and ``_``; 80 at most."""
    name = re.sub(r"[^a-z0-9_-]+", "-", incident_id.lower()).strip("-")
    return _shorten(f"inc-{name}", CHANNEL_NAME_MAX).rstrip("…")


_STATUS_LABEL: Final = {
    IncidentStatus.OPEN: ":rotating_light: Open",
    IncidentStatus.ACKNOWLEDGED: ":eyes: Acknowledged",
    IncidentStatus.RECOVERED: ":large_yellow_circle: Recovered",
    IncidentStatus.RESOLVED: ":white_check_mark: Resolved",
}


def fallback_text(incident: Incident) -> str:
    """The message's plain ``text``: notifications and screen readers show it (Block Kit's advice)."""
    return f"{incident.severity} {incident.id} {incident.status.value}: {_shorten(incident.title, TITLE_MAX)}"


def message_blocks(
    incident: Incident,
    names: Mapping[str, str],
    *,
    incident_channel: str | None = None,
) -> list[dict[str, Any]]:
    """The incident message as it should look now. ``names``: Siren user id -> the person's name."""
    title = escape(_shorten(incident.title, TITLE_MAX))
    blocks: list[Block] = [
        SectionBlock(
            block_id="summary",
            text=MarkdownTextObject(text=f"*{escape(incident.severity)} · {title}*\n`{escape(incident.id)}`"),
            fields=[
                MarkdownTextObject(text=f"*Status*\n{_STATUS_LABEL[incident.status]}"),
                MarkdownTextObject(text=f"*Severity*\n{escape(incident.severity)}"),
                MarkdownTextObject(text=f"*Service*\n{escape(incident.service)}"),
                MarkdownTextObject(text=f"*Opened*\n{_when(incident.opened_at)}"),
            ],
        )
    ]
    state = _state_line(incident, names)
    if state:
        blocks.append(SectionBlock(block_id="state", text=MarkdownTextObject(text=state)))
    if incident.public_updates:
        latest = incident.public_updates[-1]
        body = escape(_shorten(latest.body, UPDATE_MAX))
        blocks.append(
            SectionBlock(
                block_id="public",
                text=MarkdownTextObject(text=f"*Public update* ({escape(latest.status)}, {_when(latest.at)})\n{body}"),
            )
        )
    if incident.status is not IncidentStatus.RESOLVED:
        buttons = []
        if incident.status is not IncidentStatus.ACKNOWLEDGED:
            buttons.append(ButtonElement(text="Acknowledge", action_id=ACKNOWLEDGE, value=incident.id, style="primary"))
        buttons.append(ButtonElement(text="Resolve", action_id=RESOLVE, value=incident.id))
        buttons.append(ButtonElement(text="Escalate now", action_id=ESCALATE, value=incident.id, style="danger"))
        blocks.append(ActionsBlock(block_id="actions", elements=buttons))
    context = [f"{incident.alert_count} alert{'s' if incident.alert_count != 1 else ''}", escape(incident.source)]
    if incident_channel:
        context.append(f"channel <#{incident_channel}>")  # a channel id Slack gave: not outside text
    blocks.append(ContextBlock(block_id="context", elements=[MarkdownTextObject(text=" · ".join(context))]))
    return [block.to_dict() for block in blocks]


def _state_line(incident: Incident, names: Mapping[str, str]) -> str:
    lines = []
    if incident.acknowledged_by:
        who = escape(names.get(incident.acknowledged_by, incident.acknowledged_by))
        when = f" at {_when(incident.acknowledged_at)}" if incident.acknowledged_at else ""
        lines.append(f"Acknowledged by *{who}*{when}")
    if incident.status is IncidentStatus.RESOLVED:
        who = escape(names.get(incident.resolved_by or "", incident.resolved_by or "siren"))
        when = f" at {_when(incident.resolved_at)}" if incident.resolved_at else ""
        lines.append(f"Resolved by *{who}*{when}")
    return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def thread_entries(timeline: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    """The timeline's entries that become replies in the message's thread, oldest first."""
    return sorted((entry for entry in timeline if entry.kind in THREAD_KINDS), key=lambda entry: entry.at)


def reply_text(entry: TimelineEntry, names: Mapping[str, str]) -> str:
    """One thread reply: when, who, what (the entry's own words, escaped)."""
    actor = escape(names.get(entry.actor, entry.actor))
    return f"{_when(entry.at)} · *{escape(entry.kind.value.replace('_', ' '))}* by {actor}: {escape(entry.detail)}"


def paged_users(timeline: Sequence[TimelineEntry]) -> list[str]:
    """The Siren users the timeline says were paged (levels and roles), in the order first paged."""
    users = (entry.data.get("user") for entry in timeline if entry.kind is TimelineKind.PAGED)
    return list(dict.fromkeys(user for user in users if isinstance(user, str) and user))
