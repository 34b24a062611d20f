"""``make demo``: the story of one bad night, on the embedded local AWS, narrated live.

At 2 a.m. the checkout error-rate alarm fires; a SEV1 opens and its message is posted in Slack; End User Messaging is
failing for the on-call engineer's number tonight (an injected fault), so the page reaches them through the SNS
fallback; they are paged by voice and the incident commander and communications lead are paged too; nobody answers
and the escalation moves to level 2; the secondary clicks Acknowledge on the Slack message (a request signed as
Slack signs it) and the message says so; the comms lead posts public updates; a rollback is noted; the alarm clears
and the responder resolves it by SMS; the status page shows it all; a customer who subscribed to the status page was
mailed each public update; a postmortem draft is written and the leadership report is mailed. Everything runs
through the deployed stack: the same template, state machine and handler code that ship to AWS.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from siren_cli.slack_signing import SignedSlack
from siren_local.alarms import fire_alarm
from siren_local.function_urls import served_locally
from siren_local.inbound_sms import publish_sms_reply

ALARM = "checkout-api-5xx"
CUSTOMER = "ada@customer.example"
OUT_DIR = Path("build") / "demo"
WAIT_SECONDS = 90.0


@dataclass
class Narrator:
    """Prints what happened since it last looked: new timeline entries and every message sent, as they come."""

    console: Console
    runtime: Any
    incidents: Any
    incident_id: str | None = None
    _entries_seen: int = 0
    _messages_seen: int = 0
    _started: float = field(default_factory=time.monotonic)

    def catch_up(self) -> None:
        if self.incident_id is not None:
            timeline = self.incidents.get(self.incident_id).timeline
            for entry in timeline[self._entries_seen :]:
                self.console.print(
                    f"[dim]{self._clock()}[/] [bold]{entry.kind:<18}[/] {escape(entry.actor):<10} "
                    f"{escape(entry.detail)[:110]}"
                )
            self._entries_seen = len(timeline)
        messages = self.runtime.outbox_json()
        for message in messages[self._messages_seen :]:
            what = message.get("subject") or message["body"]
            self.console.print(
                f"[dim]{self._clock()}[/] [cyan]{message['channel']:>5} -> {escape(message['to'])}[/] "
                f"[dim]({message['via']})[/] {escape(re.sub(r'<[^>]+>', ' ', what))[:90]}"
            )
        self._messages_seen = len(messages)

    def _clock(self) -> str:
        return f"+{time.monotonic() - self._started:5.1f}s"

    def wait_until(self, what: str, predicate: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.catch_up()
            value = predicate()
            if value:
                self.catch_up()
                return value
            time.sleep(0.25)
        raise RuntimeError(f"the demo waited {timeout:.0f}s for {what}, in vain")


class _FormFields(HTMLParser):
    """The named inputs of a page's form, as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.fields[str(named["name"])] = named.get("value") or ""


def _http(url: str, form: dict[str, str] | None = None) -> str:
    """GET ``url``, or POST ``form`` to it as a browser posts a plain form."""
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=body, method="GET" if body is None else "POST")  # noqa: S310 (local)
    if body is not None:
        request.add_header("content-type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (local)
        return str(response.read().decode("utf-8"))


def _subscribe(narrator: Narrator, runtime: Any, subscriptions_url: str, email: str) -> None:
    """A customer subscribes as the status page's form does, and confirms from the mail as a person would: the
    link opens a page with one button, and the button confirms."""
    _http(subscriptions_url.rstrip("/") + "/subscribe", {"email": email})
    [confirmation] = narrator.wait_until("the confirmation mail", lambda: _mails_to(runtime, email))
    link = next(line for line in confirmation["text"].splitlines() if "a=confirm" in line)
    link = served_locally(link)  # the link names the function URL as AWS would; the local runtime serves it here
    form = _FormFields()
    form.feed(_http(link))
    answer = _http(link, form.fields)
    if "Subscribed" not in answer:
        raise RuntimeError(f"the confirmation did not subscribe {email}: {answer[:200]}")


def _mails_to(runtime: Any, email: str) -> list[dict[str, Any]]:
    return [m for m in runtime.outbox_json() if m["channel"] == "email" and m["to"] == email]


def _secret(runtime: Any, arn: str) -> str:
    return str(runtime.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def _slack_message(runtime: Any, incident_id: str) -> dict[str, Any]:
    """The incident's message in the local Slack (posted by the notifier when the incident opened)."""
    for message in runtime.slack_api.messages():
        if incident_id in json.dumps(message.get("blocks") or []) + str(message.get("text")):
            return dict(message)
    raise RuntimeError(f"no Slack message names {incident_id}: is `slack.channel` set in siren.yaml?")


def _acknowledged_in(message: dict[str, Any]) -> str | None:
    """The line of the message that says who acknowledged, once it does."""
    shown = [str(message.get("text") or "")]
    for block in message.get("blocks") or []:
        for part in [block.get("text") or {}, *(block.get("elements") or []), *(block.get("fields") or [])]:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                shown.append(part["text"])
    return next((line for text in shown for line in text.splitlines() if "Acknowledged by" in line), None)


def _post_sms_reply(runtime: Any, topic: str, phone: str, text: str) -> None:
    publish_sms_reply(runtime.client, topic, phone, text)


def _show_status_page(console: Console, info: dict[str, Any]) -> dict[str, Any]:
    base = info["status_page_url"].removesuffix("index.html")
    with urllib.request.urlopen(base + "api/v2/summary.json", timeout=30) as response:  # noqa: S310 (local)
        summary: dict[str, Any] = json.loads(response.read())
    console.print(f"[bold]{escape(summary['status']['description'])}[/]")
    for component in summary["components"]:
        if not component.get("group"):
            console.print(f"  {escape(component['name'])}: {component['status']}")
    return summary


def _summary(info: dict[str, Any]) -> dict[str, Any]:
    base = info["status_page_url"].removesuffix("index.html")
    try:
        with urllib.request.urlopen(base + "api/v2/summary.json", timeout=30) as response:  # noqa: S310 (local)
            return json.loads(response.read())  # type: ignore[no-any-return]
    except OSError:
        return {}


def run_demo(runtime: Any, console: Console) -> dict[str, str]:  # noqa: PLR0915 (the story, in order)
    """Play the story; returns where to look afterwards."""
    from siren.adapters.artifacts import Artifacts
    from siren.adapters.dynamodb import dynamo_store
    from siren.app.incidents import Incidents
    from siren.app.reports import Reports
    from siren.config import load_config
    from siren.domain.incidents import IncidentStatus, TimelineKind
    from siren.domain.oncall import resolve_targets

    os.environ["AWS_ENDPOINT_URL"] = runtime.endpoint_url  # this process's own SDK calls go to the runtime too
    info = runtime.info()
    outputs = info["outputs"]
    config = load_config(Path("siren.yaml"))
    stores = dynamo_store(outputs["IncidentsTableName"])
    incidents = Incidents(stores.incidents, config)
    reports = Reports(stores.incidents, stores.action_items, config)
    narrator = Narrator(console, runtime, incidents)
    now = datetime.now(UTC)
    policy = config.policy_for_severity("SEV1")
    primary = resolve_targets(policy.levels[0].targets, config, now)[0]
    secondary = resolve_targets(policy.levels[1].targets, config, now)[0]
    roles = config.roles
    comms = resolve_targets([roles.comms], config, now)[0] if roles and roles.comms else secondary

    # One fault survived, as `siren local fault add --target sms-voice --numbers <phone>` sets it: the primary's
    # texts fail at End User Messaging (500 InternalServerException) and go out through the SNS fallback instead.
    primary_phone = config.users[primary].phone
    assert primary_phone is not None
    fault = runtime.add_fault("sms-voice", numbers=[primary_phone])
    console.rule(f"Injected fault: End User Messaging fails for {primary}'s phone tonight")

    console.rule(f"A customer, {CUSTOMER}, subscribes to the status page by email, and confirms")
    _subscribe(narrator, runtime, outputs["SubscriptionsUrl"], CUSTOMER)

    console.rule("02:00  The checkout error-rate alarm fires")
    fire_alarm(runtime.client, ALARM, "ALARM", "5xx rate 12% > 5% for 3 minutes", "[SEV1] Checkout API returns errors")

    def opened() -> Any:
        return next((i for i in incidents.list() if i.service == "checkout" and i.status is IncidentStatus.OPEN), None)

    incident = narrator.wait_until("the incident", opened)
    narrator.incident_id = incident.id
    console.print(
        f"[bold]{incident.id}[/] {incident.severity} {escape(incident.title)} (rule: {incident.severity_rule})"
    )

    console.rule(f"The on-call engineer ({primary}) is paged; the commander and comms lead too")

    def sms_to(user: str) -> list[dict[str, Any]]:
        phone = config.users[user].phone
        return [
            m for m in runtime.outbox_json() if m["channel"] == "sms" and m["to"] == phone and incident.id in m["body"]
        ]

    narrator.wait_until(
        f"a page to {primary} through the SNS fallback", lambda: [m for m in sms_to(primary) if m["via"] == "sns"]
    )

    def fell_back() -> bool:
        return any(
            e.kind is TimelineKind.PAGED and e.data.get("via") == "sns" and e.data.get("user") == primary
            for e in incidents.get(incident.id).timeline
        )

    narrator.wait_until("the failure and the fallback on the timeline", fell_back)
    runtime.faults.clear()
    survived = (
        f"End User Messaging refused {fault.hits} calls for {primary}'s phone (the SDK's retries included); "
        "the SNS fallback reached them; the timeline says both. Fault cleared."
    )
    console.print(f"[green]Survived:[/] {survived}")

    console.rule(f"{primary} does not answer: after the level's delay the escalation moves to level 2")
    narrator.wait_until(
        "the escalation to level 2",
        lambda: any(e.kind is TimelineKind.ESCALATED for e in incidents.get(incident.id).timeline),
    )
    page = narrator.wait_until(f"a page to {secondary}", lambda: sms_to(secondary))[-1]

    code = re.search(r"ACK (\d{6})", page["body"])
    assert code is not None, page["body"]
    member = config.users[secondary].slack
    assert member is not None, f"siren.yaml gives {secondary} no Slack member id"
    console.rule(f"{secondary} clicks Acknowledge on the incident's Slack message")
    slack = _slack_message(runtime, incident.id)
    signed = SignedSlack(outputs["SlackUrl"], _secret(runtime, outputs["SlackSigningSecretArn"]))
    http_status, answer = signed.click("acknowledge", incident.id, member)
    console.print(f"Slack's click, signed as Slack signs it, answered {http_status}: {escape(answer.get('text', ''))}")
    narrator.wait_until(
        "the acknowledgement", lambda: incidents.get(incident.id).incident.status is IncidentStatus.ACKNOWLEDGED
    )
    updated = narrator.wait_until(
        "the Slack message to say so",
        lambda: _acknowledged_in(runtime.slack_api.message(slack["channel"], slack["ts"]) or {}),
    )
    console.print(f"The message, updated in place: [bold]{escape(updated)}[/]")

    console.rule(f"The comms lead ({comms}) keeps customers informed")
    for status, text in (
        ("investigating", "Some customers cannot complete checkout. We are investigating."),
        ("identified", "A faulty release of the checkout service is the cause. We are rolling it back."),
        ("monitoring", "The rollback is complete and checkouts succeed again. We are monitoring."),
    ):
        incidents.post_update(incident.id, text, status, comms, title="Checkout errors")

        def says(status: str = status) -> bool:
            return any(i.get("status") == status for i in _summary(info).get("incidents", []))

        narrator.wait_until(f"the status page to say {status}", says)

    console.rule("A rollback is noted; the alarm clears; the responder resolves it by SMS")
    incidents.add_note(incident.id, "Rolled back checkout 4.2.1 to 4.2.0", secondary)
    fire_alarm(runtime.client, ALARM, "OK", "5xx rate 0.1% < 5%", None)

    def settled() -> bool:
        status = incidents.get(incident.id).incident.status
        return status in (IncidentStatus.RECOVERED, IncidentStatus.RESOLVED)

    narrator.wait_until("the alarm to clear", settled)
    if incidents.get(incident.id).incident.status is IncidentStatus.RECOVERED:
        # checkout's policy (siren.yaml): a recovered alarm waits for a person to resolve the incident.
        _post_sms_reply(runtime, outputs["InboundSmsTopicArn"], page["to"], f"RES {code.group(1)}")
    narrator.wait_until(
        "the incident to resolve", lambda: incidents.get(incident.id).incident.status is IncidentStatus.RESOLVED
    )
    narrator.wait_until("the status page to clear", lambda: _summary(info).get("status", {}).get("indicator") == "none")

    console.rule("The status page")
    summary = _show_status_page(console, info)
    resolved = [i for i in summary.get("incidents", []) if i["id"] == incident.id]
    for found in resolved:
        console.print(f"  {escape(found['name'])}: {found['status']}, {len(found['incident_updates'])} updates")

    console.rule(f"What the customer, {CUSTOMER}, was told")
    narrator.wait_until(
        "the resolution mail", lambda: any("Resolved" in (m.get("subject") or "") for m in _mails_to(runtime, CUSTOMER))
    )
    for mail in _mails_to(runtime, CUSTOMER):
        console.print(f"  {escape(mail.get('subject') or '')}")

    console.rule("Learning: an action item, a postmortem draft, the report to leadership")
    due = (datetime.now(UTC) + timedelta(days=14)).date()
    item = reports.add_action(incident.id, "Canary checkout releases before full rollout", secondary, due, "demo")
    console.print(f"{item.id}: {escape(item.title)} (owner {item.owner}, due {item.due})")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    markdown, location = reports.postmortem(incident.id, Artifacts(outputs["ArtifactsBucketName"]), "demo")
    postmortem_file = OUT_DIR / f"{incident.id}.md"
    postmortem_file.write_text(markdown, encoding="utf-8")
    console.print(f"Postmortem draft: {postmortem_file} ({len(markdown.splitlines())} lines; stored at {location})")
    weekly = next(s["Name"] for s in runtime.client("scheduler").list_schedules()["Schedules"] if "Weekly" in s["Name"])
    runtime.scheduler.fire(weekly)  # the deployed schedule, fired now
    mails = narrator.wait_until(
        "the weekly report",
        lambda: [m for m in runtime.outbox_json() if m["channel"] == "email" and "report" in (m.get("subject") or "")],
    )
    report_file = OUT_DIR / "report.html"
    report_file.write_text(reports.build(_last_week()).html, encoding="utf-8")
    console.print(f"Report mailed to {len(mails)} recipients: {escape(mails[0]['subject'])}")

    errors = [i for i in runtime.lambda_runtime.invocations if i.errored]
    console.print(f"Lambda invocations: {len(runtime.lambda_runtime.invocations)}, failed: {len(errors)}")
    return {
        "status page": info["status_page_url"],
        "outbox": "siren local outbox (while this runs)",
        "postmortem": str(postmortem_file),
        "report": str(report_file),
    }


def _last_week() -> Any:
    from siren.domain.reports import Period

    now = datetime.now(UTC)
    return Period(now - timedelta(days=7), now)
