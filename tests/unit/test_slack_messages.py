"""The incident's Slack message (siren.app.slack_messages) on the fakes: one message per incident, kept as the store
has the incident, its changes replied in the thread, a channel per SEV1/SEV2 when asked, every outside string
escaped.

GIVEN an incident in the store and the lifecycle event that names it, WHEN the notifier gets the event, THEN the fake
workspace (tests.fakes.FakeSlackWeb) holds what Slack would show.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siren.app.slack_messages import CLAIM_LEASE, SlackMessageBusy, SlackMessages
from siren.config.loading import load_config_text
from siren.domain.incidents import EVENT_SOURCE, Incident, IncidentStatus, TimelineEntry, TimelineKind
from siren.domain.slack_blocks import ACTION_IDS, escape, incident_channel_name
from siren.ports import SlackWebError
from tests.fakes import FakeIncidentRepository, FakeSlackThreads, FakeSlackWeb

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
CHANNEL = "C0INCIDENTS"
CONFIG = """
users:
  alice: {name: Alice Martin, slack: U07ALICE01, email: alice@example.com}
  bob: {name: Bob Stone, slack: U07BOB0002, email: bob@example.com}
  carol: {name: Carol Nash, email: carol@example.com}
slack:
  channel: C0INCIDENTS
  incident_channels: INCIDENT_CHANNELS
"""


def config(incident_channels: bool = False) -> Any:
    return load_config_text(CONFIG.replace("INCIDENT_CHANNELS", str(incident_channels).lower()), "siren.yaml")


def incident(**changes: Any) -> Incident:
    opened = Incident(
        id="INC-20261130-0300-ab12",
        status=IncidentStatus.OPEN,
        severity="SEV1",
        title="checkout 5xx > 5%",
        service="checkout",
        dedup_key="checkout:5xx",
        source="cloudwatch",
        opened_at=NOW,
        last_seen_at=NOW,
    )
    return replace(opened, **changes)


def event(detail_type: str, incident_id: str = "INC-20261130-0300-ab12") -> dict[str, Any]:
    return {"source": EVENT_SOURCE, "detail-type": detail_type, "detail": {"incident_id": incident_id}}


class World:
    def __init__(self, incident_channels: bool = False) -> None:
        self.incidents = FakeIncidentRepository()
        self.threads = FakeSlackThreads()
        self.web = FakeSlackWeb()
        self.now = NOW
        self.messages = SlackMessages(self.incidents, self.threads, self.web, config(incident_channels), self.clock)

    def clock(self) -> datetime:
        return self.now

    def message(self) -> dict[str, Any]:
        (only,) = self.web.top_level_in(CHANNEL)
        return only

    def shown(self) -> str:
        """The message's blocks as text: what a person reads in Slack."""
        return json.dumps(self.message()["blocks"])


def entry(kind: TimelineKind, actor: str, detail: str, minutes: int, **data: Any) -> TimelineEntry:
    return TimelineEntry(NOW + timedelta(minutes=minutes), kind, actor, detail, data)


def test_an_opened_incident_is_posted_once_with_its_three_buttons():
    world = World()
    world.incidents.put(incident(), [entry(TimelineKind.OPENED, "siren", "opened", 0)])

    result = world.messages.on_event(event("Incident Opened"))

    assert result is not None and result.action == "posted"
    (post,) = world.web.called("chat.postMessage")
    assert post["channel"] == CHANNEL and post["text"] == "SEV1 INC-20261130-0300-ab12 open: checkout 5xx > 5%"
    (actions,) = [block for block in post["blocks"] if block["type"] == "actions"]
    assert [(b["action_id"], b["value"]) for b in actions["elements"]] == [
        (action, "INC-20261130-0300-ab12") for action in ACTION_IDS
    ]
    thread = world.threads.slack_thread("INC-20261130-0300-ab12")
    assert thread is not None and (thread.channel, thread.ts) == (CHANNEL, "1700000000.000001")


def test_a_redelivered_open_updates_the_one_message_and_posts_no_second():
    world = World()
    world.incidents.put(incident())
    world.messages.on_event(event("Incident Opened"))

    again = world.messages.on_event(event("Incident Opened"))

    assert again is not None and again.action == "updated"
    assert len(world.web.called("chat.postMessage")) == 1
    assert len(world.web.top_level_in(CHANNEL)) == 1


def test_an_acknowledgement_updates_the_message_in_place_and_replies_in_its_thread():
    world = World()
    world.incidents.put(incident())
    world.messages.on_event(event("Incident Opened"))
    acknowledged = incident(status=IncidentStatus.ACKNOWLEDGED, acknowledged_by="alice", acknowledged_at=NOW)
    world.incidents.put(acknowledged, [entry(TimelineKind.ACKNOWLEDGED, "alice", "acknowledged via slack", 2)])

    result = world.messages.on_event(event("Incident Acknowledged"))

    assert result is not None and (result.action, result.replies) == ("updated", 1)
    (update,) = world.web.called("chat.update")
    assert update["ts"] == "1700000000.000001"
    assert "Acknowledged by *Alice Martin*" in world.shown()
    assert '"action_id": "acknowledge"' not in world.shown()  # nothing left to acknowledge
    (reply,) = world.web.replies("1700000000.000001")
    assert "acknowledged* by Alice Martin: acknowledged via slack" in reply

    world.messages.on_event(event("Incident Acknowledged"))  # redelivered: the reply is not posted twice
    assert len(world.web.replies("1700000000.000001")) == 1


def test_the_store_not_the_event_decides_what_is_shown():
    world = World()
    world.incidents.put(incident())
    world.messages.on_event(event("Incident Opened"))

    forged = event("Incident Resolved")  # the store says the incident is open
    forged["detail"]["status"] = "resolved"
    world.messages.on_event(forged)

    assert "Resolved" not in world.shown() and '"action_id": "resolve"' in world.shown()


def test_concurrent_deliveries_post_one_message_the_second_is_retried_and_updates_it():
    world = World()
    world.incidents.put(incident())
    second: list[Any] = []
    post = world.web.post_message

    def post_while_another_delivery_runs(*args: Any, **kwargs: Any) -> Any:
        if not second:  # the other delivery arrives while this one is posting
            with pytest.raises(SlackMessageBusy):
                world.messages.on_event(event("Incident Opened"))
            second.append("refused")
        return post(*args, **kwargs)

    world.web.post_message = post_while_another_delivery_runs  # type: ignore[method-assign]
    world.messages.on_event(event("Incident Opened"))

    assert second == ["refused"] and len(world.web.called("chat.postMessage")) == 1
    retried = world.messages.on_event(event("Incident Opened"))  # EventBridge's retry of the refused one
    assert retried is not None and retried.action == "updated"
    assert len(world.web.top_level_in(CHANNEL)) == 1


def test_a_claim_whose_post_never_recorded_its_ts_is_taken_over_after_the_lease():
    world = World()
    world.incidents.put(incident())
    world.threads.claim_slack_thread("INC-20261130-0300-ab12", NOW, CLAIM_LEASE)  # a delivery that died mid-way

    with pytest.raises(SlackMessageBusy):
        world.messages.on_event(event("Incident Opened"))
    assert world.web.called("chat.postMessage") == []

    world.now = NOW + CLAIM_LEASE + timedelta(seconds=1)
    result = world.messages.on_event(event("Incident Opened"))
    assert result is not None and result.action == "posted"


def test_a_slack_failure_is_raised_and_the_retry_posts_the_replies_it_missed():
    world = World()
    world.incidents.put(incident())
    world.messages.on_event(event("Incident Opened"))
    resolved = incident(status=IncidentStatus.RESOLVED, resolved_by="bob", resolved_at=NOW)
    world.incidents.put(resolved, [entry(TimelineKind.RESOLVED, "bob", "resolved", 5)])
    world.web.failing = {"chat.update"}

    with pytest.raises(SlackWebError, match="ratelimited"):
        world.messages.on_event(event("Incident Resolved"))

    world.web.failing = set()
    world.messages.on_event(event("Incident Resolved"))
    assert "Resolved by *Bob Stone*" in world.shown() and '"type": "actions"' not in world.shown()
    assert len(world.web.replies("1700000000.000001")) == 1


def test_a_failed_reply_is_put_back_for_the_retry():
    world = World()
    world.incidents.put(incident())
    world.messages.on_event(event("Incident Opened"))
    world.incidents.put(incident(), [entry(TimelineKind.NOTE, "alice", "rolled back 4.2.1", 1)])
    world.web.failing = {"chat.postMessage"}

    with pytest.raises(SlackWebError):
        world.messages.on_event(event("Incident Updated"))

    world.web.failing = set()
    result = world.messages.on_event(event("Incident Updated"))
    assert result is not None and result.replies == 1
    assert world.web.replies("1700000000.000001") == [
        "2026-11-30 03:01 UTC · *note* by Alice Martin: rolled back 4.2.1"
    ]


def test_hostile_titles_and_updates_are_shown_as_written_never_as_mentions_or_links():
    world = World()
    hostile = "<!channel> pay now <https://evil.example|click> & co"
    world.incidents.put(incident(title=hostile, service="<@U0ADMIN>"))

    world.messages.on_event(event("Incident Opened"))

    shown = world.shown()
    assert "<!channel>" not in shown and "<https://evil" not in shown and "<@U0ADMIN>" not in shown
    assert escape(hostile) in shown  # &lt;!channel&gt; ... &amp; co
    assert escape(hostile) == "&lt;!channel&gt; pay now &lt;https://evil.example|click&gt; &amp; co"


def test_an_incident_channel_is_made_for_a_sev1_its_paged_responders_invited_and_archived_on_resolve():
    world = World(incident_channels=True)
    paged = [
        entry(TimelineKind.PAGED, "siren", "sms to alice via eum", 0, user="alice", channel="sms"),
        entry(TimelineKind.PAGED, "siren", "email to carol via ses", 0, user="carol", channel="email"),  # no slack id
    ]
    world.incidents.put(incident(), paged)

    world.messages.on_event(event("Incident Opened"))

    (created,) = world.web.called("conversations.create")
    assert created["name"] == "inc-inc-20261130-0300-ab12" == incident_channel_name("INC-20261130-0300-ab12")
    (channel_id,) = world.web.channels
    assert world.web.channels[channel_id]["members"] == ["U07ALICE01"]
    assert f"<#{channel_id}>" in world.shown()  # the message links its channel

    world.incidents.put(incident(), [entry(TimelineKind.PAGED, "siren", "sms to bob", 3, user="bob", channel="sms")])
    world.messages.on_event(event("Incident Updated"))
    assert [call["users"] for call in world.web.called("conversations.invite")] == [["U07ALICE01"], ["U07BOB0002"]]

    world.incidents.put(incident(status=IncidentStatus.RESOLVED, resolved_by="bob", resolved_at=NOW))
    world.messages.on_event(event("Incident Resolved"))
    world.messages.on_event(event("Incident Resolved"))  # redelivered: archived once, made once
    assert world.web.called("conversations.archive") == [{"channel": channel_id}]
    assert world.web.channels[channel_id]["archived"]
    assert len(world.web.called("conversations.create")) == 1


def test_no_incident_channel_below_sev2_nor_when_not_enabled():
    for severity, enabled in (("SEV3", True), ("SEV1", False)):
        world = World(incident_channels=enabled)
        world.incidents.put(incident(severity=severity))
        world.messages.on_event(event("Incident Opened"))
        assert world.web.called("conversations.create") == []


def test_what_is_not_posted():
    world = World()
    world.incidents.put(incident(id="INC-canary", canary=True))
    world.incidents.put(incident(id="INC-drill", drill=True))
    assert world.messages.on_event(event("Status Page Changed")) is None
    assert world.messages.on_event({"source": "elsewhere", "detail-type": "Incident Opened", "detail": {}}) is None
    assert world.messages.on_event(event("Incident Opened", "INC-unknown")).action == "skipped"  # type: ignore[union-attr]
    assert world.messages.on_event(event("Incident Opened", "INC-canary")).action == "skipped"  # type: ignore[union-attr]
    assert world.messages.on_event(event("Incident Opened", "INC-drill")).action == "skipped"  # type: ignore[union-attr]
    world.web.token_set = False  # the stack's generated placeholder, not yet replaced by Slack's xoxb- token
    world.incidents.put(incident())
    assert world.messages.on_event(event("Incident Opened")).reason == "the bot token is not set"  # type: ignore[union-attr]
    assert world.web.calls == []


def test_the_page_function_hands_lifecycle_events_to_the_notifier_through_its_handler():
    """The deployed entry point (functions/page: slack_notify): the event in, what was done out; a Slack failure
    raised out of the handler (so Lambda retries it and then dead-letters it)."""
    from tests.unit.test_handlers_on_fakes import Context, handlers

    world = World()
    world.incidents.put(incident())
    notify = handlers("page").slack_notify

    answer = notify(event("Incident Opened"), Context(), dependencies=world.messages)
    assert answer == {"incident_id": "INC-20261130-0300-ab12", "action": "posted", "replies": 0, "reason": ""}
    assert notify({"source": "aws.events"}, Context(), dependencies=world.messages) == {"action": "ignored"}
    world.web.failing = {"chat.update"}
    with pytest.raises(SlackWebError):
        notify(event("Incident Updated"), Context(), dependencies=world.messages)


def test_an_incident_channel_invites_who_is_paged_first_before_the_pages_reach_the_timeline():
    text = CONFIG.replace("INCIDENT_CHANNELS", "true") + (
        "escalation_policies:\n"
        "  critical:\n"
        "    levels:\n"
        "      - targets: [{user: alice}]\n"
        "        delay_minutes: 5\n"
        "      - targets: [{user: carol}]\n"
        "        delay_minutes: 5\n"
        "severity_policies:\n"
        "  default: critical\n"
        "roles:\n"
        "  severities: [SEV1]\n"
        "  commander: {user: bob}\n"
    )
    with_policy = load_config_text(text, "siren.yaml")
    world = World(incident_channels=True)
    world.messages = SlackMessages(world.incidents, world.threads, world.web, with_policy, world.clock)
    world.incidents.put(incident())  # opened: nothing paged on the timeline yet

    world.messages.on_event(event("Incident Opened"))
    (channel_id,) = world.web.channels
    # Level 1 (alice) and the SEV1's commander (bob) at once; level 2 (carol) is not due, nor has a Slack id.
    assert world.web.channels[channel_id]["members"] == ["U07ALICE01", "U07BOB0002"]

    world.incidents.put(
        incident(), [entry(TimelineKind.PAGED, "siren", "sms to alice", 0, user="alice", channel="sms")]
    )
    world.messages.on_event(event("Incident Updated"))
    assert len(world.web.called("conversations.invite")) == 1  # the pages confirm whom it invited: no second invite


def test_an_incident_channel_slack_refuses_to_make_does_not_keep_the_message_from_being_posted():
    world = World(incident_channels=True)
    world.web.failing.add("conversations.create")  # e.g. the app lacks channels:manage
    world.incidents.put(incident())

    assert world.messages.on_event(event("Incident Opened")).action == "posted"
    assert len(world.web.called("chat.postMessage")) == 1 and world.web.channels == {}

    world.web.failing.clear()  # the scope granted: the next change makes the channel
    world.messages.on_event(event("Incident Updated"))
    assert len(world.web.channels) == 1
