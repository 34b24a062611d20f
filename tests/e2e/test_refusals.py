"""Requests that Siren refuses, and lookups: tests that only read, so they share one deployed runtime per run of
this module (``local_http_shared``); each leaves the store as it found it, as it asserts.

GIVEN the synthesized stack deployed locally, WHEN a webhook request, a CLI command or an acknowledgement link is
wrong, THEN it is refused with a reason and no incident is written (a refused alert is kept in the dead-letter queue).
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_ack_links import http
from tests.e2e.test_cli_incidents import siren
from tests.e2e.test_cli_local import run
from tests.e2e.test_ingest_paths import incidents, post

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("path", "body", "token", "raw", "method", "status", "reason"),
    [
        ("generic", {"dedup_key": "x", "title": "t"}, None, None, "POST", 401, "missing bearer token"),
        ("generic", {"dedup_key": "x", "title": "t"}, "wrong", None, "POST", 401, "invalid token"),
        ("generic", None, "default", b"{not json", "POST", 400, "malformed JSON"),
        ("generic", {"title": "no key"}, "default", None, "POST", 400, "dedup_key"),
        ("nagios", {"x": 1}, "default", None, "POST", 404, "unknown source"),
        # Over the old 256 KB limit, the request is read; its one alert is wrong.
        (
            "generic",
            None,
            "default",
            b'{"dedup_key": "' + b"x" * (300 * 1024) + b'"}',
            "POST",
            400,
            "dedup_key must be 1 to 255 characters",
        ),
        ("alertmanager", {"version": "4", "alerts": []}, "default", None, "POST", 400, "alerts must not be empty"),
        ("generic", None, "default", b"", "GET", 405, "POST"),
    ],
)
def test_bad_webhook_requests_are_refused_with_a_reason_and_write_nothing(
    local_http_shared, path, body, token, raw, method, status, reason
):
    got, reply = post(local_http_shared, path, body, token=token, raw=raw, method=method)
    assert got == status
    assert reason in reply["error"]
    assert incidents(local_http_shared) == []


def test_a_request_over_the_function_urls_6_mb_is_refused_before_siren_runs(local_http_shared):
    status, reply = post(local_http_shared, "generic", None, raw=b'{"dedup_key": "' + b"x" * (6 * 1024 * 1024) + b'"}')
    assert status == 413 and "smaller than" in json.dumps(reply)
    assert incidents(local_http_shared) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("severity", "INC-nope", "SEV1"), "no incident INC-nope"),
        (("incidents", "show", "INC-nope"), "no incident INC-nope"),
        (("incidents", "list", "--status", "closed"), "--status must be one of"),
        (("declare", "--title", "x", "--severity", "P1", "--service", "s"), "severity must be one of"),
    ],
)
def test_bad_cli_input_is_one_line_and_exit_code_2(local_http_shared, args, message):
    result = siren(local_http_shared, *args, check=False)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_a_link_that_is_not_signed_is_refused_without_reading_anything(local_http_shared):
    base = local_http_shared.stacks["Siren"].outputs["AckLinkUrl"]
    status, _, page = http(base + "?i=INC-1&a=ack&u=alice&e=9999999999&n=abc&s=AAAA")
    assert status == 403 and "not valid" in page
    status, _, page = http(base + "?i=INC-1")
    assert status == 400 and "incomplete" in page
    status, _, page = http(base, {"junk": "x"})
    assert status == 400


def test_info_json_lists_endpoint_outputs_and_urls(local_http_shared):
    result = run("local", "info", "--json", "--port", str(local_http_shared.port))
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert {"endpoint", "outputs", "status_page_url", "webhook_url", "webhook_token"} <= set(info)
    assert info["endpoint"] == f"http://127.0.0.1:{local_http_shared.port}"
    assert {
        "EventBusName",
        "IncidentsTableName",
        "StatusBucketName",
        "StatusPageUrl",
        "AlarmTopicArn",
        "InboundSmsTopicArn",
    } <= set(info["outputs"])
