"""The real status page in a real browser: published by the deployed publisher on the embedded local AWS, served
by the runtime's status URL with the security headers CloudFront sends on AWS (one definition: see
siren.domain.status_headers), opened in headless Chromium at phone and desktop widths, light and dark, with its
Content-Security-Policy enforced.

THEN the page carries every security header, the browser reports no CSP violation and the stylesheet applies
(each uptime bar as wide as the days it stands for),
axe-core reports no serious or critical violation, nothing overflows a 375 px phone, the page has no script,
hostile text from a public update renders inert, and the screenshots are kept in build/screenshots/.

The index's subscribe form (issue 16) is part of what axe checks; then, with JavaScript disabled, a reader types an
address into it and clicks Subscribe: the browser posts it (the CSP's form-action allows the subscriptions URL's
origin) to the deployed subscriptions function, which answers "Check your inbox" and mails the confirmation.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import pytest

from siren_local.alarms import fire_alarm
from siren_local.status_headers import status_page_headers
from tests.browser.harness import inspect_page
from tests.e2e.test_cli_incidents import siren
from tests.e2e.test_escalation import wait_for

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
READER = "reader@example.com"


def summary(base: str) -> dict:  # type: ignore[type-arg]
    try:
        with urllib.request.urlopen(base + "api/v2/summary.json", timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except OSError:
        return {}


def test_status_page_is_accessible_fits_a_phone_and_runs_no_script(local_http, tmp_path):
    base = local_http.info()["status_page_url"].removesuffix("index.html")
    fire_alarm(local_http.client, "checkout-5xx-rate", "ALARM", "5xx 12% > 5%", None)
    wait_for(lambda: summary(base).get("incidents"))
    incident_id = summary(base)["incidents"][0]["id"]
    siren(
        local_http,
        "update",
        incident_id,
        "--public",
        f"Some checkouts fail. {HOSTILE}",
        "--status",
        "identified",
        "--title",
        "Checkout errors",
    )
    siren(
        local_http,
        "maintenance",
        "add",
        "--components",
        "search",
        "--start",
        "2030-01-01T02:00Z",
        "--end",
        "2030-01-01T03:00Z",
        "--title",
        "Search index rebuild",
    )
    wait_for(
        lambda: summary(base).get("scheduled_maintenances") and summary(base)["incidents"][0]["status"] == "identified"
    )

    report = inspect_page(base + "index.html", tmp_path, name="status", submit_email=READER)
    incident_report = inspect_page(f"{base}incidents/{incident_id}.html", tmp_path, name="incident")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for shot in report["screenshots"] + incident_report["screenshots"]:
        shutil.copy(shot, SCREENSHOTS / Path(shot).name)
    form_url = local_http.info()["outputs"]["SubscriptionsUrl"]
    expected_headers = {name.lower(): value for name, value in status_page_headers(form_url).items()}
    assert f"form-action {form_url.split('/_siren/')[0]};" in expected_headers["content-security-policy"]
    for found in (report, incident_report):
        assert found["headers"] == expected_headers
        assert found["csp_violations"] == []
        assert found["styled"] is True
        # Each uptime bar takes its days' share of the row (a run of 89 good days is 89/90 of it, not 1/2).
        assert found["bar_share_error"] < 0.01, found["bar_share_error"]
        serious = [v for v in found["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
        assert found["overflow"]["phone"] == 0
        assert found["scripts"] == 0
        assert found["console_errors"] == []
    assert (SCREENSHOTS / "status-phone-light.png").stat().st_size > 0

    # The index with its form: no axe violation at all, of any impact, in any viewport or colour scheme.
    assert report["violations"] == [], report["violations"]
    # The form, without JavaScript: found, posted by the browser itself, answered by the subscriptions function.
    subscribe = report["subscribe"]
    assert subscribe["forms"] == 1 and subscribe["form_visible"] is True and subscribe["method"] == "post"
    assert subscribe["action"] == form_url + "subscribe"
    assert subscribe["posted_to"] == form_url + "subscribe", subscribe  # None: the browser sent nothing (see console)
    assert subscribe["checkboxes"] == len([c for c in summary(base)["components"] if not c.get("group")])
    assert subscribe["posted_body"] == "email=reader%40example.com"
    assert subscribe["answer_status"] == 200 and "Check your inbox" in subscribe["heading"]
    [confirmation] = wait_for(lambda: [m for m in local_http.outbox_json() if m.get("to") == READER])
    assert "Confirm" in confirmation["subject"]
