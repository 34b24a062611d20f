"""The fault matrix, paging channels: a provider down, and the person is still reached (or operations hear of it).

GIVEN Siren deployed on one embedded local AWS for the module (time scale 600: a 5-minute level is half a second;
the shipped siren.yaml team), WHEN a paging provider fails as AWS's fails (siren_local/faults.py), THEN the people
due are reached by another way, and the incident's timeline says what failed and what reached them, in the order
it happened. Each scenario clears its faults and resolves its incident before the next.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from siren_local.clock import set_time_scale
from tests.e2e.test_ops_alarms import OPS_EMAIL
from tests.faults.support import (
    CONFIG,
    SCALE,
    end_escalation,
    first_index,
    level_one,
    on_call,
    open_incident,
    phone,
    sent,
    timeline,
)
from tests.support import wait_for

pytestmark = pytest.mark.e2e
EUM, SNS, SES = "end-user-messaging", "sns", "ses"


def methods(user: str) -> set[str]:
    return {str(rule.method) for rule in CONFIG.users[user].notify}


def test_end_user_messaging_down_the_sns_fallback_reaches_the_person(runtime):
    # GIVEN End User Messaging failing (500 InternalServerException) for the on-call person's number
    primary = on_call(0, "SEV3")[0]
    fault = runtime.add_fault("sms-voice", numbers=[phone(primary)])
    # WHEN an alarm of a service without a policy of its own fires (SEV3: level 1 pages the primary)
    alarm = "faults-eum-down"
    incident = open_incident(runtime, alarm)

    # THEN the text reaches them through SNS, and none went through End User Messaging
    wait_for(lambda: sent(runtime, incident, phone(primary), "sms", SNS))

    def level_1() -> list[Any]:
        return level_one(timeline(runtime, incident["id"]))

    entries = wait_for(lambda: (found := level_1()) and any(e.is_page(primary, "sms", SNS) for e in found) and found)
    assert sent(runtime, incident, phone(primary), "sms", EUM) == []
    # ...and the timeline tells it in order: End User Messaging failed, then SNS delivered, all at level 1
    failed = first_index(entries, lambda e: e.is_page(primary, "sms", EUM, ok=False))
    assert "InternalServerException" in entries[failed].detail
    assert failed < first_index(entries, lambda e: e.is_page(primary, "sms", SNS))
    # ...nobody else was paged at level 1, and every failure on it is the injected one's
    assert {e.user for e in entries if e.kind == "paged"} == {primary}
    failures = [e for e in entries if e.kind == "page_failed"]
    assert failures and all(e.user == primary and e.data["via"] == EUM for e in failures)
    assert fault.hits >= len(failures)
    end_escalation(runtime, alarm, incident["id"])


def test_all_sms_down_voice_and_email_reach_the_person_and_operations_hear(runtime):
    from tests.e2e.test_ops_alarms import state_of

    # GIVEN texts failing both ways (End User Messaging's SendTextMessage and SNS Publish), calls and email working
    wait_for(lambda: state_of(runtime, "PageDeliveryFailures") == "OK", timeout=60)
    alarmed = len(ops_mails(runtime, "PageDeliveryFailures"))
    by_eum = runtime.add_fault("sms-voice", operations=["SendTextMessage"])
    by_sns = runtime.add_fault("sns")
    primary = on_call(0, "SEV3")[0]
    alarm = "faults-all-sms-down"

    # WHEN an incident pages the primary
    incident = open_incident(runtime, alarm)

    # THEN their other channels reach them (voice is due 2 minutes in when sms is in their rules)...
    expected = {"voice", "email"} & methods(primary)
    for channel in expected:
        wait_for(
            lambda channel=channel: sent(
                runtime, incident, phone(primary) if channel == "voice" else CONFIG.users[primary].email, channel
            )
        )
    assert sent(runtime, incident, channel="sms") == []  # no text went anywhere

    def reached(entries: list[Any]) -> set[str]:
        return {e.data.get("channel") for e in entries if e.kind == "paged"}

    entries = wait_for(
        lambda: (found := level_one(timeline(runtime, incident["id"]))) and reached(found) >= expected and found
    )
    # ...the timeline has each text failing on both providers before anything else reached them by text
    assert any(e.is_page(primary, "sms", EUM, ok=False) for e in entries)
    assert any(e.is_page(primary, "sms", SNS, ok=False) for e in entries)
    assert not any(e.kind == "paged" and e.data.get("channel") == "sms" for e in entries)
    assert by_eum.hits >= 1 and by_sns.hits >= 1
    # ...and operations hear of it out of band: Siren-PageDeliveryFailures goes to ALARM
    wait_for(lambda: len(ops_mails(runtime, "PageDeliveryFailures")) > alarmed, timeout=90)
    end_escalation(runtime, alarm, incident["id"])


def ops_mails(runtime: Any, alarm: str) -> list[Any]:
    subject = f'ALARM: "Siren-{alarm}" in US East (N. Virginia)'
    return [m for m in runtime.outbox.messages() if m.channel == "email" and m.to == OPS_EMAIL and m.subject == subject]


def test_ses_down_the_page_still_reaches_the_person_by_phone(runtime):
    # GIVEN SES failing (500 InternalFailure)
    fault = runtime.add_fault("ses")
    alarm = "faults-ses-down"
    incident = open_incident(runtime, alarm)
    # The first of level 1 and level 2 whose rules include email (everyone's do but bob's)
    levels = [on_call(0, "SEV3")[0], on_call(1, "SEV3")[0]]
    mailed = next(user for user in levels if "email" in methods(user))

    # THEN the email's failure is on the timeline, no email went out, and the same person got the text
    wait_for(lambda: any(e.is_page(mailed, "email", SES, ok=False) for e in timeline(runtime, incident["id"])))
    wait_for(lambda: sent(runtime, incident, phone(mailed), "sms", EUM))
    assert sent(runtime, incident, channel="email") == []
    entries = timeline(runtime, incident["id"])
    assert any(e.is_page(mailed, "sms", EUM) for e in entries)
    failures = [e for e in entries if e.kind == "page_failed"]
    assert all(e.data["channel"] == "email" and "InternalFailure" in e.detail for e in failures)
    assert fault.hits >= len(failures) >= 1
    end_escalation(runtime, alarm, incident["id"])


def test_chat_down_the_pages_still_go_and_the_failed_post_is_on_the_timeline(runtime):
    # GIVEN the team's chat webhook answering 500 (Slack's rollup_error)
    fault = runtime.add_fault("chat")
    primary = on_call(0, "SEV1")[0]
    # WHEN a SEV1 (payments' policy), which Siren posts to chat when its escalation starts
    alarm = "payments-faults-chat-down"
    incident = open_incident(runtime, alarm)

    # THEN the post's failure is on the timeline once, nothing reached the channel, and the primary is paged
    wait_for(
        lambda: any(
            e.kind == "page_failed" and e.data.get("channel") == "chat" for e in timeline(runtime, incident["id"])
        )
    )
    wait_for(lambda: sent(runtime, incident, phone(primary), "sms", EUM))
    assert sent(runtime, incident, channel="chat") == []
    entries = timeline(runtime, incident["id"])
    chat = [e for e in entries if e.data.get("channel") == "chat"]
    assert [(e.kind, "500" in e.detail) for e in chat] == [("page_failed", True)]
    assert fault.hits == 1  # one post per escalation, not retried: the timeline says it failed
    assert any(e.is_page(primary, "sms", EUM) for e in level_one(entries))
    end_escalation(runtime, alarm, incident["id"])


def role_holders() -> tuple[str, str]:
    from datetime import UTC, datetime

    from siren.domain.oncall import resolve_targets

    roles = CONFIG.roles
    assert roles is not None and roles.commander is not None and roles.comms is not None
    now = datetime.now(UTC)
    return resolve_targets([roles.commander], CONFIG, now)[0], resolve_targets([roles.comms], CONFIG, now)[0]


# End User Messaging's client gives up after a 5-second read timeout (siren.clients): a provider that holds each call
# longer is "hanging past the SDK timeout". The runtime ends each held call after HANG_SECONDS of AWS time with the
# connection closed unanswered, as the SDK's own timeout ends it on AWS; the SDK tries three times.
HANG_SECONDS = 40.0
# While the provider hangs, at this time scale: 3 tries of 40 AWS seconds are 2 wall seconds, a window wide enough to
# tell "paged meanwhile" from "paged after" on a busy machine (at the module's 600 it is a fifth of a second).
HANG_SCALE = 60.0


def test_a_provider_hanging_for_one_recipient_holds_up_nobody_else(runtime):
    # GIVEN End User Messaging hanging past the SDK's timeout for the incident commander's number only
    commander, comms = role_holders()
    primary = on_call(0, "SEV1")[0]
    others = [user for user in dict.fromkeys((comms, primary)) if user != commander]
    if not others:
        pytest.skip("right now one person holds every role: nobody else to page")
    fault = runtime.add_fault("sms-voice", hang_seconds=HANG_SECONDS, numbers=[phone(commander)])
    set_time_scale(HANG_SCALE)
    try:
        # WHEN a SEV1 pages level 1, the commander and the comms lead
        alarm = "payments-faults-hung-provider"
        incident = open_incident(runtime, alarm)

        # THEN the hung person is reached in the end, by the SNS fallback, with the timeout on the timeline...
        wait_for(lambda: sent(runtime, incident, phone(commander), "sms", SNS))
        entries = wait_for(
            lambda: (
                (found := timeline(runtime, incident["id"]))
                and any(e.is_page(commander, "sms", SNS) for e in found)
                and found
            )
        )
    finally:
        set_time_scale(SCALE)
    assert fault.hits >= 1
    assert (
        "closed before we received a valid response"
        in entries[first_index(entries, lambda e: e.is_page(commander, "sms", EUM, ok=False))].detail
    )
    # ...everybody else was paged on time: their texts went out while the commander's call still hung (the outbox
    # keeps the providers' order)...
    outbox = sent(runtime, incident)
    fallback = next(index for index, message in enumerate(outbox) if message["to"] == phone(commander))
    for user in others:
        assert any(message["to"] == phone(user) for message in outbox[:fallback]), user
    # ...and the timeline tells when the commander was reached: its entry for the fallback text is stamped when that
    # text went out (the provider's record), not when the hung calls began (two wall seconds earlier at least)
    reached = entries[first_index(entries, lambda e: e.is_page(commander, "sms", SNS))]
    went_out = datetime.fromisoformat(outbox[fallback]["sent_at"])
    slack = timedelta(seconds=HANG_SECONDS / HANG_SCALE / 2)  # half of one hung try: far below the three tries
    assert reached.at >= went_out - slack, (
        f"the timeline says {commander} was reached at {reached.at:%H:%M:%S.%f}, the text went out at "
        f"{went_out:%H:%M:%S.%f}: the entry is stamped before the send happened"
    )
    end_escalation(runtime, alarm, incident["id"])
