"""``make demo``: the main job on the embedded local AWS, step by step, with what each step left behind."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siren_local.alarms import fire_alarm
from siren_local.inbound_sms import publish_sms_reply

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "events"


def _incidents_table(incidents: Any, title: str) -> Table:
    table = Table(title=title)
    for column in ("id", "status", "sev", "service", "title", "alerts", "severity rule"):
        table.add_column(column, overflow="fold")
    for incident in incidents.list(limit=20):
        table.add_row(incident.id, str(incident.status), incident.severity, incident.service,
                      escape(incident.title), str(incident.alert_count), incident.severity_rule)  # fmt: skip
    return table


def _post_webhook(info: dict[str, Any], path: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - the local runtime's URL
        info["webhook_url"] + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {info['webhook_token']}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def _wait_for_page(runtime: Any, incident_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in runtime.outbox_json():
            if message["channel"] == "sms" and incident_id in message["body"]:
                return dict(message)
        time.sleep(0.2)
    raise RuntimeError(f"no page was sent for {incident_id} within {timeout:.0f}s")


def _page_and_acknowledge(runtime: Any, console: Console, incidents: Any, incident_id: str, topic: str) -> None:
    console.rule(f"6. The on-call phone rings for {incident_id}")
    page = _wait_for_page(runtime, incident_id)
    outbox = Table(title="Outbox (latest)")
    for column in ("sent_at", "channel", "via", "to", "body"):
        outbox.add_column(column, overflow="fold")
    for message in runtime.outbox_json()[-6:]:
        outbox.add_row(message["sent_at"][11:19], message["channel"], message["via"], message["to"],
                       escape(message.get("subject") or message["body"])[:160])  # fmt: skip
    console.print(outbox)
    code = re.search(r"ACK (\d{4})", page["body"])
    if code is not None:
        console.print(f"{page['to']} replies 'ACK {code.group(1)}' by SMS")
        publish_sms_reply(runtime.client, topic, page["to"], f"ACK {code.group(1)}")
        runtime.drain()
        acknowledged = incidents.get(incident_id).incident
        console.print(f"{acknowledged.id} is {acknowledged.status} by {acknowledged.acknowledged_by}; the reply: "
                      f"{runtime.outbox_json()[-1]['body']!r}")  # fmt: skip


def _show_status_page(runtime: Any, console: Console, info: dict[str, Any]) -> None:
    base = info["status_page_url"].removesuffix("index.html")
    with urllib.request.urlopen(base + "api/v2/summary.json", timeout=30) as response:  # noqa: S310 (local)
        summary = json.loads(response.read())
    console.print(f"[bold]{escape(summary['status']['description'])}[/]")
    for component in summary["components"]:
        if not component.get("group"):
            console.print(f"  {escape(component['name'])}: {component['status']}")
    for incident in summary["incidents"]:
        latest = incident["incident_updates"][0]
        console.print(f"  {escape(incident['name'])} ({incident['status']}): {escape(latest['body'])}")
    console.print(f"Open it: {base}index.html  (JSON: {base}api/v2/summary.json, feed: {base}history.atom)")


def _learn(runtime: Any, console: Console, outputs: dict[str, str], incident_id: str) -> None:
    from datetime import UTC, datetime, timedelta

    from siren.adapters.artifacts import Artifacts
    from siren.adapters.store import IncidentStore
    from siren.app.reports import Reports
    from siren.config import load_config

    reports = Reports(IncidentStore(outputs["IncidentsTableName"]), load_config(Path("siren.yaml")))
    due = (datetime.now(UTC) + timedelta(days=14)).date()
    item = reports.add_action(incident_id, "Alert on checkout 5xx before customers notice", "alice", due, "demo")
    console.print(f"{item.id}: {escape(item.title)} (owner {item.owner}, due {item.due})")
    markdown, location = reports.postmortem(incident_id, Artifacts(outputs["ArtifactsBucketName"]), "demo")
    console.print(f"Postmortem draft for {incident_id}: {len(markdown.splitlines())} lines, stored at {location}")
    weekly = next(s["Name"] for s in runtime.client("scheduler").list_schedules()["Schedules"] if "Weekly" in s["Name"])
    runtime.scheduler.fire(weekly)
    runtime.drain()
    mails = [m for m in runtime.outbox_json() if m["channel"] == "email" and "report" in (m.get("subject") or "")]
    for mail in mails[:1]:
        console.print(f"Report mailed to {len(mails)} recipients: {escape(mail['subject'])}")


def run_demo(runtime: Any, console: Console) -> None:
    from siren.adapters.store import IncidentStore
    from siren.app.incidents import Incidents
    from siren.config import load_config

    os.environ["AWS_ENDPOINT_URL"] = runtime.endpoint_url  # this process's own SDK calls go to the runtime too
    info = runtime.info()
    outputs = info["outputs"]
    incidents = Incidents(IncidentStore(outputs["IncidentsTableName"]), load_config(Path("siren.yaml")))

    console.rule("1. A CloudWatch alarm goes off (a real-format event on the default bus)")
    event = fire_alarm(runtime.client, "checkout-api-5xx", "ALARM", "5xx rate 12% > 5% for 3 minutes",
                       "[SEV1] Checkout API returns errors")  # fmt: skip
    console.print(f"{event['detail-type']}: {event['detail']['previousState']['value']} -> ALARM ({event['id']})")
    runtime.drain()

    console.rule("2. It fires again and again: one incident, more alerts, no second page")
    for _ in range(2):
        fire_alarm(runtime.client, "checkout-api-5xx", "OK", "recovered", None)
        fire_alarm(runtime.client, "checkout-api-5xx", "ALARM", "5xx again", None)
    runtime.drain()
    console.print(_incidents_table(incidents, "Incidents"))

    console.rule("3. Prometheus Alertmanager posts a group of alerts to the webhook")
    status, reply = _post_webhook(info, "alertmanager", json.loads((SAMPLES / "alertmanager_webhook_v4_firing.json")
                                                                   .read_text()))  # fmt: skip
    console.print(f"HTTP {status}: {reply['accepted']} alert(s) -> {[r['action'] for r in reply['results']]}")
    runtime.drain()

    console.rule("4. A person declares one, raises a severity, resolves another")
    declared = incidents.declare("Payment provider timeouts", "SEV2", "payments", "EU cards failing", "demo")
    assert declared.incident_id is not None
    incidents.change_severity(declared.incident_id, "SEV1", "demo")
    first = next(i for i in incidents.list() if i.service == "checkout")
    incidents.resolve(first.id, "demo", "rolled back checkout 4.2.1")
    runtime.drain()
    console.print(_incidents_table(incidents, "Unresolved incidents"))

    console.rule(f"5. The timeline of {first.id}")
    table = Table()
    for column in ("at", "kind", "actor", "detail"):
        table.add_column(column, overflow="fold")
    for entry in incidents.get(first.id).timeline:
        table.add_row(f"{entry.at:%H:%M:%S}", str(entry.kind), entry.actor, escape(entry.detail))
    console.print(table)

    _page_and_acknowledge(runtime, console, incidents, declared.incident_id, outputs["InboundSmsTopicArn"])

    console.rule("7. The customers' status page (written by people, republished on every change)")
    public_text = "Some card payments in Europe fail. We are working with our payment provider."
    incidents.post_update(declared.incident_id, public_text, "identified", "demo", title="Card payments failing")
    runtime.drain()
    _show_status_page(runtime, console, info)

    console.rule("8. Learning: an action item, a postmortem draft, the weekly report to leadership")
    _learn(runtime, console, outputs, first.id)

    console.rule("9. Lifecycle events on the Siren bus (from the table's stream)")
    published = [i for i in runtime.lambda_runtime.invocations if "IngestPublisher" in i.function_name]
    console.print(f"publisher invocations: {len(published)}, errors: {sum(i.errored for i in published)}")
    errors = [i for i in runtime.lambda_runtime.invocations if i.errored]
    console.print(f"Lambda invocations in all: {len(runtime.lambda_runtime.invocations)}, errors: {len(errors)}")
    time.sleep(0.1)
