"""The incident's message in Slack, through the Web API with the bot token: posted once per incident, then kept as the
incident is (``chat.update``), each change replied in its thread; for SEV1/SEV2, optionally, a channel of its own.

The lifecycle event is a hint that something changed, never what changed: the incident and its timeline are read
from the store each time, so a redelivered, late or forged event can only make the message show what the store says.

One message per incident, under at-least-once delivery and races: the message's record (siren.ports.SlackThreads,
pk=SLACKMSG#<id>) is *claimed* with a conditional put before ``chat.postMessage``; a second delivery meanwhile finds
the claim and raises :class:`SlackMessageBusy`, so that it is retried once the message exists (and then updates
it). When the post succeeds but writing its ts fails (the store errs, or the function dies between the two), the
claim stays without a ts: after :data:`CLAIM_LEASE` a later delivery takes the claim over and posts again. That is
the one way to a second message, chosen over the alternative, a message that is never posted.

Thread replies: the record counts the timeline's thread-worthy entries already replied; the count is advanced (a
conditional write) *before* the replies are posted, so two deliveries never both post them; when a post fails the
count is put back and the error raised, so the retry posts them.

A Slack failure (``ok: false``, 429, the network) raises (siren.ports.SlackWebError): EventBridge's retries, then the
function's dead-letter queue, keep the event. It never touches paging: this is a function on a rule of its own.
One exception: an incident channel Slack refuses to make is logged as an error and the message posted without it
(the channel is tried again on the next change), so that a missing scope never costs the message itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from siren.domain.incidents import EVENT_SOURCE, Incident, IncidentStatus, LifecycleEventType
from siren.domain.oncall import first_responders
from siren.domain.policy import SirenConfig
from siren.domain.records import IncidentView
from siren.domain.slack_blocks import (
    CHANNEL_SEVERITIES,
    SlackThread,
    escape,
    fallback_text,
    incident_channel_name,
    message_blocks,
    paged_users,
    reply_text,
    thread_entries,
)
from siren.observability import logger
from siren.ports import IncidentRepository, SlackThreads, SlackWeb, SlackWebError

# The events that can change what the message shows ("Status Page Changed" is about no incident).
MESSAGE_EVENTS: Final = frozenset(
    {
        LifecycleEventType.OPENED,
        LifecycleEventType.ACKNOWLEDGED,
        LifecycleEventType.RESOLVED,
        LifecycleEventType.SEVERITY_CHANGED,
        LifecycleEventType.UPDATED,
    }
)
CLAIM_LEASE: Final = timedelta(minutes=5)  # longer than the function's timeout: a live claim is never taken over


class SlackMessageBusy(RuntimeError):
    """Another delivery is posting the incident's message, or changed its record meanwhile: raised so that this
    delivery is retried, and then works from what the other one recorded."""


@dataclass(frozen=True, slots=True)
class SlackResult:
    incident_id: str
    action: str  # posted | updated | skipped
    replies: int = 0
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id, "action": self.action, "replies": self.replies, "reason": self.reason}


@dataclass(frozen=True, slots=True, eq=False)
class SlackMessages:
    incidents: IncidentRepository
    threads: SlackThreads
    web: SlackWeb
    config: SirenConfig
    clock: Callable[[], datetime]  # now, in UTC

    def on_event(self, event: Mapping[str, Any]) -> SlackResult | None:
        """None when the event is not about an incident's message; else what was done."""
        detail = event.get("detail")
        if event.get("source") != EVENT_SOURCE or event.get("detail-type") not in MESSAGE_EVENTS:
            return None
        incident_id = detail.get("incident_id") if isinstance(detail, Mapping) else None
        if not isinstance(incident_id, str) or not incident_id:
            return None
        return self.show(incident_id)

    def show(self, incident_id: str) -> SlackResult:
        """Make Slack show the incident as the store has it: post or update, reply, open or archive its channel."""
        settings = self.config.slack
        if settings.channel is None:
            return SlackResult(incident_id, "skipped", reason="no slack.channel in siren.yaml")
        view = self.incidents.view(incident_id)
        if view is None:
            return SlackResult(incident_id, "skipped", reason="no such incident")
        incident = view.incident
        if incident.canary or incident.drill:
            return SlackResult(incident_id, "skipped", reason="a canary or drill incident")
        if not self.web.ready():
            logger.warning("slack bot token is the stack's placeholder: the incident message is not posted")
            return SlackResult(incident_id, "skipped", reason="the bot token is not set")
        thread = self.threads.slack_thread(incident_id)
        if thread is None or not thread.posted:
            if incident.severity not in settings.severities:
                return SlackResult(incident_id, "skipped", reason=f"{incident.severity} is not in slack.severities")
            thread, action = self._post(incident, settings.channel)
        else:
            action = "updated"
        thread = self._incident_channel(view, thread)
        if action == "updated":
            assert thread.channel is not None and thread.ts is not None
            self.web.update_message(thread.channel, thread.ts, fallback_text(incident), self._blocks(incident, thread))
        replied = self._reply(view, thread)
        logger.info("slack message shown", extra={"incident_id": incident_id, "action": action, "replies": replied})
        return SlackResult(incident_id, action, replied)

    # -- the message ------------------------------------------------------------------------------------------
    def _post(self, incident: Incident, channel: str) -> tuple[SlackThread, str]:
        """The posted message's record, and ``posted`` (or ``updated`` when another delivery posted it meanwhile)."""
        now = self.clock()
        claim = self.threads.claim_slack_thread(incident.id, now, CLAIM_LEASE)
        if claim is None:
            found = self.threads.slack_thread(incident.id)
            if found is not None and found.posted:
                return found, "updated"  # posted meanwhile: updated below
            raise SlackMessageBusy(f"another delivery is posting {incident.id}'s Slack message")
        # A channel per SEV1/SEV2 first, so that the message names it from the start.
        claim = self._incident_channel_for(incident, claim)
        posted = self.web.post_message(channel, fallback_text(incident), self._blocks(incident, claim))
        saved = self.threads.save_slack_thread(replace(claim, channel=posted.channel, ts=posted.ts))
        if saved is None:  # our claim was taken over: impossible within the lease; say so rather than guess
            raise SlackMessageBusy(f"{incident.id}'s Slack message claim changed while it was posted")
        return saved, "posted"

    def _blocks(self, incident: Incident, thread: SlackThread) -> list[dict[str, Any]]:
        names = {user_id: user.name for user_id, user in self.config.users.items()}
        return message_blocks(incident, names, incident_channel=thread.incident_channel)

    # -- the thread ---------------------------------------------------------------------------------------------
    def _reply(self, view: IncidentView, thread: SlackThread) -> int:
        entries = thread_entries(view.timeline)
        fresh = entries[thread.replies :]
        if not fresh or thread.channel is None or thread.ts is None:
            return 0
        advanced = self.threads.save_slack_thread(replace(thread, replies=len(entries)))
        if advanced is None:
            return 0  # another delivery took these replies (and posts them)
        names = {user_id: user.name for user_id, user in self.config.users.items()}
        try:
            for entry in fresh:
                self.web.post_message(thread.channel, reply_text(entry, names), thread_ts=thread.ts)
        except Exception:
            # Put the count back so that the retry posts them (a reply posted before the failure is posted again:
            # a repeated line in a thread, rather than a change nobody sees).
            self.threads.save_slack_thread(replace(advanced, replies=thread.replies))
            raise
        return len(fresh)

    # -- the incident channel -------------------------------------------------------------------------------------
    def _wants_channel(self, incident: Incident) -> bool:
        return self.config.slack.incident_channels and incident.severity in CHANNEL_SEVERITIES

    def _incident_channel_for(self, incident: Incident, thread: SlackThread) -> SlackThread:
        """``thread`` with its incident channel, created now if the incident should have one and has none."""
        if thread.incident_channel is not None or not self._wants_channel(incident):
            return thread
        if incident.status is IncidentStatus.RESOLVED:
            return thread
        try:
            channel = self.web.create_channel(incident_channel_name(incident.id))
        except SlackWebError as error:
            # The channel is a convenience; the incident message is not. A refusal here (the app lacks
            # channels:manage, a workspace that restricts channel creation) must not keep the message from being
            # posted: logged as an error, and tried again on the incident's next change.
            logger.exception(
                "slack incident channel not created", extra={"incident_id": incident.id, "slack_error": error.error}
            )
            return thread
        self.web.post_message(
            channel,
            f"{fallback_text(incident)}",
            [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"*{escape(incident.severity)} · {escape(incident.title)}*\n"
                        f"`{escape(incident.id)}`: the incident message and its timeline are in "
                        f"<#{self.config.slack.channel}>.",
                    },
                }
            ],
        )
        saved = self.threads.save_slack_thread(replace(thread, incident_channel=channel))
        if saved is None:
            raise SlackMessageBusy(f"{incident.id}'s Slack record changed while its channel was made")
        return saved

    def _incident_channel(self, view: IncidentView, thread: SlackThread) -> SlackThread:
        """Invite whoever was paged since (their ``users[].slack``); archive the channel once resolved."""
        incident = view.incident
        thread = self._incident_channel_for(incident, thread)
        channel = thread.incident_channel
        if channel is None or thread.archived:
            return thread
        people = [*paged_users(view.timeline), incident.acknowledged_by or ""]
        if incident.status is IncidentStatus.OPEN:
            # The escalation pages its first level (and the incident roles) straight after the opening, but the
            # pages reach the timeline after the event that opened the channel: whoever is due first is invited
            # now, so that the channel has its responders from the start rather than from the next change.
            people.extend(first_responders(incident.severity, self.config, incident.opened_at))
        members = [
            member
            for member in dict.fromkeys(self._slack_id(person) for person in people)
            if member and member not in thread.invited
        ]
        if members:
            self.web.invite(channel, members)
            thread = self._saved(replace(thread, invited=(*thread.invited, *members)))
        if incident.status is IncidentStatus.RESOLVED:
            self.web.post_message(channel, f"{fallback_text(incident)}. This channel is archived.")
            self.web.archive(channel)
            thread = self._saved(replace(thread, archived=True))
        return thread

    def _slack_id(self, user_id: str) -> str | None:
        user = self.config.users.get(user_id)
        return user.slack if user is not None else None

    def _saved(self, thread: SlackThread) -> SlackThread:
        saved = self.threads.save_slack_thread(thread)
        if saved is None:
            raise SlackMessageBusy(f"{thread.incident_id}'s Slack record changed meanwhile: retry on the new one")
        return saved
