"""``siren declare``, ``incidents list/show``, ``severity``, ``resolve``: separate processes against the local
runtime, as an operator uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def siren(runtime, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": runtime.endpoint_url, "SIREN_ACTOR": "alice"}
    result = subprocess.run([sys.executable, "-m", "siren_cli.main", *args], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=120, check=False)  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_declare_list_show_change_severity_and_resolve(local_http):
    declared = json.loads(siren(local_http, "declare", "--title", "Checkout <b>down</b>", "--severity", "sev2",
                                "--service", "checkout", "--summary", "all regions", "--json").stdout)  # fmt: skip
    incident_id = declared["id"]

    listed = json.loads(siren(local_http, "incidents", "list", "--json").stdout)
    (row,) = listed
    assert {"id", "status", "severity", "title", "service", "dedup_key", "alert_count", "opened_at"} <= set(row)
    assert (row["id"], row["status"], row["severity"], row["title"]) == (incident_id, "open", "SEV2",
                                                                         "Checkout <b>down</b>")  # fmt: skip

    siren(local_http, "severity", incident_id, "SEV1")
    siren(local_http, "resolve", incident_id, "--note", "rolled back")
    shown = json.loads(siren(local_http, "incidents", "show", incident_id, "--json").stdout)
    assert (shown["status"], shown["severity"], shown["resolved_by"]) == ("resolved", "SEV1", "alice")
    paging = {"paged", "page_failed", "escalated", "escalation_failed", "escalation_ended"}
    kinds = [entry["kind"] for entry in shown["timeline"] if entry["kind"] not in paging]
    assert kinds == ["opened", "severity_changed", "severity_changed", "resolved"]
    assert "paged" in [entry["kind"] for entry in shown["timeline"]]  # the declared incident escalated
    assert all({"at", "kind", "actor", "detail"} <= set(entry) for entry in shown["timeline"])
    (resolved_entry,) = [entry for entry in shown["timeline"] if entry["kind"] == "resolved"]
    assert resolved_entry["actor"] == "alice" and resolved_entry["detail"].endswith("rolled back")

    assert json.loads(siren(local_http, "incidents", "list", "--json").stdout) == []
    resolved = json.loads(siren(local_http, "incidents", "list", "--status", "resolved", "--json").stdout)
    assert [r["id"] for r in resolved] == [incident_id]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("severity", "INC-nope", "SEV1"), "no incident INC-nope"),
        (("incidents", "show", "INC-nope"), "no incident INC-nope"),
        (("incidents", "list", "--status", "closed"), "--status must be one of"),
        (("declare", "--title", "x", "--severity", "P1", "--service", "s"), "severity must be one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(local_http, args, message):
    result = siren(local_http, *args, check=False)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
