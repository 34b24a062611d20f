"""Escalation figures: alarm-to-first-page latency, transitions and invocations per level, modelled AWS cost.

Runs the deployed stack on the embedded local AWS over HTTP (the real path: EventBridge rule -> ingest ->
DynamoDB stream -> publisher -> Siren bus -> lifecycle function -> Step Functions -> page functions -> End User
Messaging / SES fakes). Counts come from the execution history, the in-process Lambda runtime and PynamoDB.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import PROJECT_ROOT, Report, free_port, synthesized_assembly, wait_for
from bench.ingest import RequestCounter
from bench.prices import PRICES
from siren.domain.pages import PageCount, count_pages

LAMBDA_GB = 0.5  # every Siren function has 512 MB
WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def _pages_of_the_incident(runtime: Any, table: str) -> PageCount:
    """The bench's one incident's pages, read from its timeline in the deployed table."""
    import os

    from siren.adapters.dynamodb import DynamoIncidents

    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = runtime.endpoint_url
    try:
        incidents = DynamoIncidents(table)
        now = datetime.now(UTC)
        (incident,) = incidents.iter_opened_between(now - timedelta(days=1), now + timedelta(days=1))
        view = incidents.view(incident.id)
    finally:
        if previous is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = previous
    if view is None:
        raise SystemExit(f"escalation bench: incident {incident.id} has no timeline")
    return count_pages(view.timeline)


@dataclass(frozen=True)
class FirstPage:
    milliseconds: int
    hops: int  # between the incident's commit and its escalation's start
    path: str  # how the run was started, as observed


def _first_page(runtime: Any, alarm: str, machine: str) -> FirstPage:
    """Fire ``alarm``, time its first SMS, and tell from the timestamps who started its escalation: the ingest
    function straight after its commit (one hop: StartExecution), or the outbox relay (DynamoDB stream -> relay
    function -> bus -> lifecycle function -> StartExecution: four more) when no shortcut came first."""
    from siren_local.alarms import fire_alarm

    sfn = runtime.client("stepfunctions")
    before = {e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
    put_at = time.time()
    started = time.perf_counter()
    fire_alarm(runtime.client, alarm, "ALARM", "bench", None)
    wait_for(lambda: [m for m in runtime.outbox_json() if m["channel"] == "sms" and alarm in m["body"]])
    elapsed = round((time.perf_counter() - started) * 1000)
    (run,) = [e for e in sfn.list_executions(stateMachineArn=machine)["executions"] if e["name"] not in before]
    run_started = run["startDate"].timestamp()
    # The shortcut starts the run inside the ingest invocation that committed the incident, after its commit; the
    # relay starts it from the lifecycle function, four hops later. Which invocation the run's start falls in says
    # who started it (an earlier version asked whether any lifecycle invocation had begun before the run started:
    # with a fast local relay, the lifecycle function is invoked while the shortcut's start is still in flight, and
    # loses the start to it, so that read a shortcut start as the relay's).
    ingest_windows = [
        (i.started_at, i.started_at + i.duration_ms / 1000)
        for i in runtime.lambda_runtime.invocations
        if "IngestAlarmEvents" in i.function_name and i.started_at >= put_at
    ]
    if any(begin <= run_started <= end for begin, end in ingest_windows):
        return FirstPage(elapsed, 1, "the run started inside the ingest invocation, after its commit: the shortcut")
    return FirstPage(elapsed, 5, "the run started outside the ingest invocation: by the relay (stream, bus, lifecycle)")


def _resolve(runtime: Any, alarm: str, machine: str) -> None:
    """The alarm back to OK: its incident resolves and its run ends (none is left for the runtime's stop)."""
    from siren_local.alarms import fire_alarm

    sfn = runtime.client("stepfunctions")
    fire_alarm(runtime.client, alarm, "OK", "bench", None)
    wait_for(lambda: not sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"], 60)


def run(report: Report) -> None:
    from siren.config import load_config
    from siren_local.clock import set_time_scale
    from siren_local.runtime import LocalAws

    assembly = synthesized_assembly("escalation")
    config = load_config(PROJECT_ROOT / "siren.yaml")
    with LocalAws.over_http(port=free_port(), time_scale=1) as runtime:
        outputs = runtime.deploy_siren(assembly, canary=False).outputs
        counter = RequestCounter()

        # 1. Latency: alarm event put -> first page recorded, at time scale 1 (no waits on the path). Cold: the
        # first alarm after the deploy, so every function on the path loads its handler (in this process: the
        # libraries the bench itself imported are not loaded again, unlike a real Lambda cold start).
        cold = _first_page(runtime, "payments-latency-bench", outputs["EscalationStateMachineArn"])
        report.add(
            "alarm_to_first_page_cold_ms",
            cold.milliseconds,
            "ms",
            "local, over HTTP, time scale 1; the first alarm after deploy: the path's functions load their handlers",
        )
        report.add(
            "hops_commit_to_escalation_start",
            cold.hops,
            "hops",
            cold.path,
        )
        # 2. An escalation nobody acknowledges, to its end, at a high time scale; counted, not timed.
        set_time_scale(6000)
        sfn = runtime.client("stepfunctions")
        machine = outputs["EscalationStateMachineArn"]
        wait_for(lambda: sfn.list_executions(stateMachineArn=machine)["executions"])
        (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
        invocations_before = len(runtime.lambda_runtime.invocations)
        with counter.installed():
            wait_for(
                lambda: sfn.describe_execution(executionArn=execution["executionArn"])["status"] != "RUNNING",
                timeout=300,
            )
            runtime.drain()
        history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        transitions = sum(1 for event in history if event["type"].endswith("StateEntered"))
        invocations = len(runtime.lambda_runtime.invocations) - invocations_before
        policy = config.policy_for_severity("SEV1")
        level_passes = len(policy.levels) * policy.repeat
        report.add(
            "sfn_transitions_per_level",
            round(transitions / level_passes, 1),
            "transitions",
            f"{transitions} in an unacknowledged SEV1 escalation of {level_passes} level passes",
        )
        report.add(
            "lambda_invocations_per_level",
            round(invocations / level_passes, 1),
            "invocations",
            f"{invocations} in all (steps, waits, roles; ingest and publisher counted before)",
        )

        # Pages of that incident as the report, the postmortem and the scorecard count them (siren.domain.pages).
        counted = _pages_of_the_incident(runtime, outputs["IncidentsTableName"])
        report.add(
            "pages_per_unacked_sev1_incident",
            counted.total,
            "pages",
            f"to {len(counted.responders)} people ({', '.join(counted.responders)}); "
            f"{counted.chat_posts} chat post(s) apart, {len(counted.failed_attempts)} failed attempt(s), "
            f"{len(counted.unreached)} unreached",
        )

        # 3. Modelled cost of one such incident, from the counts above and the outbox.
        requests = counter.take()
        writes = sum(n for op, n in requests.items() if op in WRITE_OPS)
        reads = sum(requests.values()) - writes
        # The incident's own pages, not the whole outbox (which also holds ops alarms and scheduled reports).
        by_channel = Counter(page.channel for page in counted.pages)
        sms, voice, emails = by_channel["sms"], by_channel["voice"], by_channel["email"]
        all_invocations = runtime.lambda_runtime.invocations
        gb_seconds = sum(max(i.duration_ms, 1.0) for i in all_invocations) / 1000 * LAMBDA_GB
        costs = {
            "step functions": transitions * PRICES["step_functions_transition"],
            "lambda": len(all_invocations) * PRICES["lambda_request"] + gb_seconds * PRICES["lambda_gb_second_arm"],
            "dynamodb": writes * PRICES["dynamodb_write_request"] + reads * PRICES["dynamodb_read_request"],
            "sms": sms * PRICES["sms_us_toll_free"],
            "voice": voice * PRICES["voice_us_minute"],
            "email": emails * PRICES["email"],
        }
        report.add(
            "modelled_cost_per_unacked_sev1_incident_usd",
            round(sum(costs.values()), 4),
            "USD",
            ", ".join(f"{k} ${v:.4f}" for k, v in costs.items())
            + f"; {sms} SMS, {voice} calls, {emails} emails, {transitions} transitions",
        )
        # 4. Latency again with every function warm: a second alarm once the first escalation has ended.
        set_time_scale(1)
        warm = _first_page(runtime, "payments-errors-bench", outputs["EscalationStateMachineArn"])
        _resolve(runtime, "payments-errors-bench", outputs["EscalationStateMachineArn"])
        report.add(
            "alarm_to_first_page_warm_ms",
            warm.milliseconds,
            "ms",
            f"local, over HTTP, time scale 1; every function on the path warm; {warm.path}",
        )
        report.add(
            "modelled_cost_per_page_set_usd",
            round(PRICES["sms_us_toll_free"] + PRICES["voice_us_minute"] + PRICES["email"], 4),
            "USD",
            "one person paged by SMS + a 1-minute call + email; prices: SMS $0.0083, voice $0.013/min, "
            "email $0.0001, transitions $0.025/1k, Lambda $0.20/M + $0.0000133/GB-s, "
            "DynamoDB $0.625/M writes",
        )
