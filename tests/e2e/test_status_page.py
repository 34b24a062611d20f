"""The customer status page on the embedded local AWS: the deployed publisher, the status bucket, the local URL.

GIVEN the shipped siren.yaml (checkout -> the Website and Checkout API components, SEV2 -> partial outage),
WHEN a checkout alarm fires, THEN within seconds the page, the Statuspage JSON API and the Atom feed show a
neutral incident and the components in partial outage, with nothing from the alarm; WHEN a person posts a public
update, THEN it is shown (escaped, whatever it contains); WHEN the incident is resolved, THEN all is operational
again and the incident is in the history.
"""

from __future__ import annotations

import json
import urllib.request
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from siren_local.alarms import fire_alarm
from siren_local.status_headers import status_page_headers
from tests.e2e.test_cli_incidents import siren
from tests.e2e.test_escalation import wait_for
from tests.statuspage_client import read_with_arez

pytestmark = pytest.mark.e2e
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
ALARM = "checkout-5xx-rate"
REASON = "Threshold Crossed: 1 out of the last 1 datapoints [7.5] was greater than the threshold (5.0)"


def fetch(runtime: Any, key: str) -> tuple[int, dict[str, str], bytes]:
    base = runtime.info()["status_page_url"].removesuffix("index.html")
    try:
        with urllib.request.urlopen(base + key, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {}, b""


def base_url(runtime: Any) -> str:
    return str(runtime.info()["status_page_url"]).removesuffix("index.html")


def summary(runtime: Any) -> dict[str, Any]:
    status, _, body = fetch(runtime, "api/v2/summary.json")
    return json.loads(body) if status == 200 else {}


def component_statuses(runtime: Any) -> dict[str, str]:
    return {c["name"]: c["status"] for c in summary(runtime).get("components", []) if not c.get("group")}


def every_published_object(runtime: Any) -> dict[str, bytes]:
    s3 = runtime.client("s3")
    bucket = runtime.stacks["Siren"].outputs["StatusBucketName"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_alarm_update_resolve_on_the_page_the_api_and_the_feed(local_http):
    fire_alarm(local_http.client, ALARM, "ALARM", REASON, "[SEV2] internal runbook https://wiki.internal/x")
    wait_for(lambda: component_statuses(local_http).get("Checkout API") == "partial_outage")
    page = summary(local_http)
    assert page["status"]["indicator"] == "major" and page["status"]["description"] == "Partial System Outage"
    (incident,) = page["incidents"]
    incident_id = incident["id"]
    assert incident["name"] == "Service disruption" and incident["status"] == "investigating"
    assert component_statuses(local_http) == {
        "Website": "partial_outage",
        "Checkout API": "partial_outage",
        "Payments API": "operational",
        "Search": "operational",
    }

    # Nothing internal is published: not the alarm's name, reason or description, not the account.
    published = every_published_object(local_http)
    assert {"index.html", "history.atom", f"incidents/{incident_id}.html", "api/v2/status.json"} <= set(published)
    for key, body in published.items():
        for secret in (ALARM, "Threshold Crossed", "wiki.internal", "123456789012", "arn:aws"):
            assert secret.encode() not in body, (key, secret)

    # Content types and caching, as served.
    status, headers, index = fetch(local_http, "index.html")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "max-age" in headers["cache-control"] and b"<script" not in index
    assert fetch(local_http, "history.atom")[1]["content-type"].startswith("application/atom+xml")
    assert fetch(local_http, "api/v2/summary.json")[1]["content-type"].startswith("application/json")
    # Served with the headers CloudFront sends on AWS (the CSP among them, its form-action the subscriptions URL's
    # origin, where the index's form posts), the stylesheet as CSS.
    form_url = local_http.info()["outputs"]["SubscriptionsUrl"]
    assert {name.lower(): value for name, value in status_page_headers(form_url).items()}.items() <= headers.items()
    assert f'<form class="card subscribe" method="post" action="{form_url}subscribe">'.encode() in index
    (stylesheet,) = [key for key in published if key.endswith(".css")]
    assert fetch(local_http, stylesheet)[1]["content-type"].startswith("text/css")

    # A person's public update (whatever it contains) is what customers read, escaped.
    siren(
        local_http,
        "update",
        incident_id,
        "--public",
        f"Checkout errors are elevated. {HOSTILE}",
        "--status",
        "identified",
        "--title",
        "Checkout errors",
    )
    wait_for(lambda: summary(local_http)["incidents"][0]["status"] == "identified")
    (incident,) = summary(local_http)["incidents"]
    assert incident["name"] == "Checkout errors"
    assert incident["incident_updates"][0]["body"] == f"Checkout errors are elevated. {HOSTILE}"
    for key in ("index.html", f"incidents/{incident_id}.html"):
        html = fetch(local_http, key)[2].decode()
        assert "<script>alert" not in html and "<img src=x" not in html, key
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, key
    feed = ET.fromstring(fetch(local_http, "history.atom")[2])
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Checkout errors"

    # A real Statuspage client reads the API, and every component has the created_at of its first publish.
    read = read_with_arez(base_url(local_http))
    assert read.incidents == {incident_id: ("Identified", ["Identified"])}  # the person's update replaced the default
    assert {cid: status for cid, (status, _) in read.components.items()} == {
        "website": "Partial Outage",
        "checkout-api": "Partial Outage",
        "payments-api": "Operational",
        "search": "Operational",
    }
    first_published = {c["id"]: c["created_at"] for c in summary(local_http)["components"]}
    assert all(first_published.values())

    siren(local_http, "resolve", incident_id, "--note", "rolled back")
    wait_for(lambda: summary(local_http)["status"]["indicator"] == "none")
    assert set(component_statuses(local_http).values()) == {"operational"}
    resolved = json.loads(fetch(local_http, "api/v2/incidents.json")[2])["incidents"]
    assert [(i["id"], i["status"]) for i in resolved] == [(incident_id, "resolved")]
    assert json.loads(fetch(local_http, "api/v2/incidents/unresolved.json")[2])["incidents"] == []
    assert b"Checkout errors" in fetch(local_http, "index.html")[2]  # in the history
    # Later publishes keep each component's created_at (it is not the time of the latest publish).
    assert {c["id"]: c["created_at"] for c in summary(local_http)["components"]} == first_published
    assert read_with_arez(base_url(local_http)).all_incidents[incident_id][0] == "Resolved"


def test_component_status_by_hand_and_maintenance(local_http):
    siren(local_http, "status", "component", "search", "degraded_performance")
    wait_for(lambda: component_statuses(local_http).get("Search") == "degraded_performance")
    siren(
        local_http,
        "maintenance",
        "add",
        "--components",
        "payments-api",
        "--start",
        "2030-01-01T02:00Z",
        "--end",
        "2030-01-01T03:00Z",
        "--title",
        "Database upgrade",
    )
    wait_for(lambda: summary(local_http).get("scheduled_maintenances"))
    (window,) = summary(local_http)["scheduled_maintenances"]
    assert (window["name"], window["status"]) == ("Database upgrade", "scheduled")
    siren(local_http, "status", "component", "search", "operational")
    wait_for(lambda: component_statuses(local_http).get("Search") == "operational")

    bad = siren(local_http, "status", "component", "nope", "major_outage", check=False)
    assert bad.returncode == 2 and "unknown component 'nope'" in bad.stderr
    bad = siren(
        local_http,
        "maintenance",
        "add",
        "--components",
        "search",
        "--start",
        "2030-01-01T02:00",
        "--end",
        "2030-01-01T03:00Z",
        "--title",
        "x",
        check=False,
    )
    assert bad.returncode == 2 and "needs a time zone" in bad.stderr
