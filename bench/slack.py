"""Slack's three seconds: how long each ``/siren`` command and button takes to answer, first after a deploy and warm.

Slack shows an error to the person when an answer takes longer than three seconds (and a button click is then
retried by nobody). Siren answers every command synchronously (siren.app.slack_app says why); these figures are
what holds that choice up. Each request is signed as Slack signs it (siren_cli.slack_signing) and POSTed to the
deployed SlackUrl function URL of the embedded local AWS over HTTP, IAM enforced, as ``siren local up`` runs it.

- ``slack_command_answer_cold_ms``: the slowest first answer of a command after the deploy (the first request
  also loads the function's handler; each command's first also loads what only it imports);
- ``slack_command_answer_warm_ms``: the slowest command's median answer once warm.
The local runtime runs every function in this one process, so a cold start here does not include the Lambda
runtime's own init (~100-150 ms for Python): the note says so.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.harness import Report, free_port, synthesized_assembly, wait_for

WARM_REPEATS = 5
ALICE = "U07ALICE01"


def run(report: Report) -> None:
    from siren_cli.slack_signing import SignedSlack
    from siren_local.runtime import LocalAws

    assembly = synthesized_assembly("slack")
    with LocalAws.over_http(port=free_port(), time_scale=60, enforce_iam=True) as runtime:
        outputs = runtime.deploy_siren(assembly, canary=False).outputs
        secret = runtime.client("secretsmanager").get_secret_value(SecretId=outputs["SlackSigningSecretArn"])
        slack = SignedSlack(outputs["SlackUrl"], secret["SecretString"])
        first, warm = measure_commands(slack, runtime, outputs["IncidentsTableName"])
        runtime.drain(30)
    slowest_first = max(first, key=lambda name: first[name])
    slowest_warm = max(warm, key=lambda name: warm[name])
    report.add(
        "slack_command_answer_cold_ms",
        first[slowest_first],
        "ms",
        f"slowest first answer after deploy: {slowest_first}; local over HTTP, IAM enforced, without Lambda's init; "
        + ", ".join(f"{name} {ms}" for name, ms in first.items()),
    )
    report.add(
        "slack_command_answer_warm_ms",
        warm[slowest_warm],
        "ms",
        f"slowest command's median of {WARM_REPEATS}: {slowest_warm}; "
        + ", ".join(f"{name} {ms}" for name, ms in warm.items()),
    )


def measure_commands(slack: Any, runtime: Any, table: str) -> tuple[dict[str, int], dict[str, int]]:
    """Each command's first answer time, and its median over ``WARM_REPEATS`` more (ms)."""

    def declared(text: str) -> str:
        match = re.search(r"(INC-\S+)", text)
        if match is None:
            raise SystemExit(f"slack bench: /siren declare answered {text!r}")
        return match.group(1)

    def held(incident_id: str) -> None:
        """Escalate now needs a held wait: the incident's run must have reached its first AwaitAck (the store's
        record of the wait names its level)."""
        key = {"pk": {"S": f"INC#{incident_id}"}, "sk": {"S": "ESC#TOKEN"}}
        dynamodb = runtime.client("dynamodb")
        wait_for(lambda: "waiting" in (dynamodb.get_item(TableName=table, Key=key).get("Item") or {}), 60)

    first: dict[str, int] = {}
    warm: dict[str, list[int]] = {}

    def timed(name: str, request: Callable[..., tuple[int, dict[str, Any]]], *arguments: str) -> dict[str, Any]:
        started = time.perf_counter()
        status, answer = request(*arguments)
        elapsed = round((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"slack bench: {name} answered {status}: {answer}")
        if name in first:
            warm.setdefault(name, []).append(elapsed)
        else:
            first[name] = elapsed
        return answer

    for _ in range(WARM_REPEATS + 1):
        timed("oncall", slack.command, "/siren oncall", ALICE)
        timed("status", slack.command, "/siren status", ALICE)
        declare = '/siren declare "Bench: search slow" --sev 2 --service search'
        incident_id = declared(timed("declare", slack.command, declare, ALICE)["text"])
        timed("update", slack.command, f"/siren update {incident_id} Looking into it.", ALICE)
        held(incident_id)
        timed("escalate", slack.click, "escalate", incident_id, ALICE)
        timed("acknowledge", slack.click, "acknowledge", incident_id, ALICE)
        timed("resolve", slack.command, f"/siren resolve {incident_id}", ALICE)
    return first, {name: round(statistics.median(times)) for name, times in warm.items()}
