"""The modelled monthly AWS bill of an organisation that runs Siren, against a per-seat price (issue 14, item 4).

Built on what the bench measures, not on guesses: the suite deploys the stack on the embedded local AWS, pauses
its schedules, and measures what each kind of work uses (Step Functions transitions, Lambda invocations and their
GB-seconds, DynamoDB requests, AWS API calls the functions make, pages by channel, log bytes, bytes stored):
  - an incident acknowledged at level 1 (an SMS reply with its code) and then resolved by its alarm;
  - an incident nobody acknowledges, escalated to its end and then resolved;
  - one run of each scheduled function (the reconciler, the heartbeat checker, the status republish, the canary,
    the weekly report), multiplied by the runs a month the template's schedules make;
  - what exists whether or not anything breaks, counted by type in the synthesized templates (alarms, secrets,
    KMS keys; the custom metrics the code names).
Both incidents are SEV1 (the commander and comms roles are paged too): the most a paged incident uses, so an
organisation whose incidents are mostly SEV3 pays less than the model says. ``monthly_bill`` is the arithmetic,
pure, so that tests/unit/test_bench_bill.py can check it by hand.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.harness import Report, free_port, synthesized_assembly, wait_for
from bench.ingest import RequestCounter
from bench.prices import (
    API_CALL_PRICES,
    LAMBDA_PLATFORM_LOG_BYTES,
    LOGS_INGESTED_GB,
    MONTHLY_PRICES,
    PRICES,
    VOICE_MINUTES_PER_CALL,
)

GB = 1024**3
MINUTES_A_MONTH = 30 * 24 * 60  # a 30-day month
WEEKS_A_MONTH = 30 / 7
LOG_RETENTION_MONTHS = 3  # every function's log group keeps 90 days (the template's RetentionInDays)
WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}

# The organisation the issue names, and the assumptions about its incidents (stated in the figures' notes).
RESPONDERS = 50
INCIDENTS_A_MONTH = 100
ACKNOWLEDGED_AT_LEVEL_1 = 0.9  # the rest run unacknowledged to the end of their escalation (the worst case)
RETAINED_MONTHS = 12  # incidents (and canary runs) are kept: the storage line is that of a year's worth
DEFAULT_SEATS = 50
DEFAULT_SEAT_PRICE = 21.0


@dataclass(frozen=True)
class Usage:
    """What one measured piece of work (an incident, a scheduled run) used."""

    transitions: float = 0
    invocations: float = 0
    gb_seconds: float = 0
    dynamodb_writes: float = 0
    dynamodb_reads: float = 0
    sms: float = 0
    sms_inbound: float = 0
    voice_calls: float = 0
    emails: float = 0
    api_calls: Mapping[str, float] = field(default_factory=dict)  # "service:Operation" -> calls
    log_bytes: float = 0  # what the functions logged, their platform lines not included
    stored_bytes: float = 0  # what it left in the table

    def times(self, factor: float) -> Usage:
        return Usage(
            transitions=self.transitions * factor,
            invocations=self.invocations * factor,
            gb_seconds=self.gb_seconds * factor,
            dynamodb_writes=self.dynamodb_writes * factor,
            dynamodb_reads=self.dynamodb_reads * factor,
            sms=self.sms * factor,
            sms_inbound=self.sms_inbound * factor,
            voice_calls=self.voice_calls * factor,
            emails=self.emails * factor,
            api_calls={call: n * factor for call, n in self.api_calls.items()},
            log_bytes=self.log_bytes * factor,
            stored_bytes=self.stored_bytes * factor,
        )

    def __add__(self, other: Usage) -> Usage:
        calls = Counter(self.api_calls)
        calls.update(other.api_calls)
        return Usage(
            transitions=self.transitions + other.transitions,
            invocations=self.invocations + other.invocations,
            gb_seconds=self.gb_seconds + other.gb_seconds,
            dynamodb_writes=self.dynamodb_writes + other.dynamodb_writes,
            dynamodb_reads=self.dynamodb_reads + other.dynamodb_reads,
            sms=self.sms + other.sms,
            sms_inbound=self.sms_inbound + other.sms_inbound,
            voice_calls=self.voice_calls + other.voice_calls,
            emails=self.emails + other.emails,
            api_calls=dict(calls),
            log_bytes=self.log_bytes + other.log_bytes,
            stored_bytes=self.stored_bytes + other.stored_bytes,
        )


@dataclass(frozen=True)
class Standing:
    """What the stack keeps whether or not anything breaks (counted in the synthesized templates)."""

    alarms: int
    secrets: int
    kms_keys: int
    custom_metrics: int
    origination_numbers: int = 1


@dataclass(frozen=True)
class Workload:
    responders: int
    incidents_a_month: float
    acknowledged_share: float  # of incidents, acknowledged at level 1; the rest escalate unacknowledged to the end
    acknowledged: Usage  # one such incident
    unacknowledged: Usage  # one such incident
    scheduled: Mapping[str, tuple[float, Usage]]  # name -> (runs a month, one run)
    retained_months: float = RETAINED_MONTHS


@dataclass(frozen=True)
class Bill:
    lines: dict[str, float]  # USD a month, by line
    unpriced_calls: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return sum(self.lines.values())


def incident_usage(workload: Workload) -> Usage:
    """The incidents of a month, their mix applied. Pages go to whoever is on call, so the number of responders
    changes nothing here: an organisation's AWS bill grows with its incidents, not with its people."""
    acknowledged = workload.incidents_a_month * workload.acknowledged_share
    unacknowledged = workload.incidents_a_month - acknowledged
    return workload.acknowledged.times(acknowledged) + workload.unacknowledged.times(unacknowledged)


def scheduled_usage(workload: Workload) -> Usage:
    total = Usage()
    for runs, one_run in workload.scheduled.values():
        total = total + one_run.times(runs)
    return total


def monthly_bill(
    workload: Workload,
    standing: Standing,
    *,
    prices: Mapping[str, float] = PRICES,
    monthly_prices: Mapping[str, float] = MONTHLY_PRICES,
    api_call_prices: Mapping[str, float] = API_CALL_PRICES,
    logs_ingested_gb: float = LOGS_INGESTED_GB,
    platform_log_bytes: float = LAMBDA_PLATFORM_LOG_BYTES,
    voice_minutes_per_call: float = VOICE_MINUTES_PER_CALL,
) -> Bill:
    """The itemised bill of a month: the incidents, the scheduled runs, and what the stack keeps."""
    incidents = incident_usage(workload)
    used = incidents + scheduled_usage(workload)
    ingested_bytes = used.log_bytes + used.invocations * platform_log_bytes
    # Stored: a year of incidents and canary runs (nothing expires them), the logs of the retention period.
    stored_gb = used.stored_bytes * workload.retained_months / GB
    unpriced = tuple(sorted(call for call in used.api_calls if call not in api_call_prices))
    lines = {
        "sms": incidents.sms * prices["sms_us_toll_free"]
        + incidents.sms_inbound * prices["sms_inbound_us_toll_free"]
        + standing.origination_numbers * monthly_prices["us_toll_free_number"],
        "voice": incidents.voice_calls * voice_minutes_per_call * prices["voice_us_minute"],
        "email": used.emails * prices["email"],
        "step functions": used.transitions * prices["step_functions_transition"],
        "lambda": used.invocations * prices["lambda_request"] + used.gb_seconds * prices["lambda_gb_second_arm"],
        "dynamodb": used.dynamodb_writes * prices["dynamodb_write_request"]
        + used.dynamodb_reads * prices["dynamodb_read_request"]
        + stored_gb * monthly_prices["dynamodb_gb"],
        "cloudwatch": standing.alarms * monthly_prices["cloudwatch_alarm"]
        + standing.custom_metrics * monthly_prices["cloudwatch_custom_metric"]
        + ingested_bytes / GB * logs_ingested_gb
        + ingested_bytes * LOG_RETENTION_MONTHS / GB * monthly_prices["logs_stored_gb"],
        "secrets manager": standing.secrets * monthly_prices["secret"],
        "kms": standing.kms_keys * monthly_prices["kms_key"],
        "api calls": sum(n * api_call_prices.get(call, 0.0) for call, n in used.api_calls.items()),
    }
    return Bill(lines=lines, unpriced_calls=unpriced)


# -- what the stack keeps, from the synthesized templates --------------------------------------------------------


def standing_of(assembly: Path) -> Standing:
    """Counted by type across every stack of the assembly (Siren and its watchdog)."""
    types: Counter[str] = Counter()
    for template in assembly.glob("*.template.json"):
        resources = json.loads(template.read_text()).get("Resources", {})
        types.update(resource["Type"] for resource in resources.values())
    return Standing(
        alarms=types["AWS::CloudWatch::Alarm"],
        secrets=types["AWS::SecretsManager::Secret"],
        kms_keys=types["AWS::KMS::Key"],
        custom_metrics=len(custom_metric_names()),
    )


def custom_metric_names() -> set[str]:
    """The metric names Siren's code publishes (Powertools EMF, the service dimension only), one metric each."""
    from bench.harness import PROJECT_ROOT

    names = set()
    for source in (PROJECT_ROOT / "layers" / "siren").rglob("*.py"):
        names.update(re.findall(r"add_metric\(\s*name=([^,)]+)", source.read_text()))
    return names


def runs_a_month(expression: str) -> float:
    """Runs a month of an EventBridge Scheduler expression: rate(N unit) exactly; a cron on a weekday weekly, on a
    day of the month monthly, else daily."""
    rate = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression)
    if rate:
        minutes = int(rate.group(1)) * {"minute": 1, "hour": 60, "day": 1440}[rate.group(2)]
        return MINUTES_A_MONTH / minutes
    cron = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)", expression)
    if not cron:
        raise ValueError(f"bill bench: unknown schedule expression {expression!r}")
    day_of_month, day_of_week = cron.group(3), cron.group(5)
    if day_of_week not in ("?", "*"):
        return WEEKS_A_MONTH
    if day_of_month not in ("?", "*"):
        return 1.0
    return 30.0


def schedules_of(assembly: Path) -> dict[str, tuple[str, float, str]]:
    """The primary stack's schedules: name -> (target function's logical id, runs a month, input)."""
    template = json.loads((assembly / "Siren.template.json").read_text())
    found = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Scheduler::Schedule":
            continue
        properties = resource["Properties"]
        function = properties["Target"]["Arn"]["Fn::GetAtt"][0]
        found[name] = (
            function,
            runs_a_month(properties["ScheduleExpression"]),
            properties["Target"].get("Input", "{}"),
        )
    return found


# -- measuring on the embedded local AWS --------------------------------------------------------------------------


class ApiCallCounter:
    """Counts the AWS API calls made outside the bench's own thread (the functions run in the runtime's threads)
    by wrapping botocore's single dispatch point. DynamoDB is left to RequestCounter (PynamoDB's)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[ApiCallCounter]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        bench_thread = threading.main_thread()

        def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            if threading.current_thread() is not bench_thread and service != "dynamodb":
                with self._lock:
                    self.counts[f"{service}:{operation_name}"] += 1
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = make_api_call
        try:
            yield self
        finally:
            BaseClient._make_api_call = original

    def take(self) -> Counter[str]:
        with self._lock:
            taken, self.counts = self.counts, Counter()
        return taken


class LogBytes(logging.Handler):
    """Counts the bytes the functions log through Siren's logger, formatted as Powertools writes them."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.bytes = 0
        if formatter is not None:
            self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.bytes += len(self.format(record).encode()) + 1

    def take(self) -> int:
        taken, self.bytes = self.bytes, 0
        return taken


class Meter:
    """Measures the usage of one piece of work on a deployed runtime: the difference of every count before and
    after it."""

    def __init__(self, runtime: Any, outputs: Mapping[str, str], memory_mb: Mapping[str, int]) -> None:
        self.runtime = runtime
        self.outputs = outputs
        self.memory_mb = memory_mb
        self.requests = RequestCounter()
        self.calls = ApiCallCounter()
        siren_logger = logging.getLogger("siren")
        formatter = next((h.formatter for h in siren_logger.handlers if h.formatter is not None), None)
        self.logs = LogBytes(formatter)
        siren_logger.addHandler(self.logs)

    def close(self) -> None:
        logging.getLogger("siren").removeHandler(self.logs)

    def _transitions(self) -> int:
        sfn = self.runtime.client("stepfunctions")
        machine = self.outputs["EscalationStateMachineArn"]
        total = 0
        for execution in sfn.list_executions(stateMachineArn=machine)["executions"]:
            history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
            total += sum(1 for event in history if event["type"].endswith("StateEntered"))
        return total

    def _stored_bytes(self) -> int:
        """An item's size as DynamoDB counts it, near enough: its attribute names and values as JSON."""
        table = self.outputs["IncidentsTableName"]
        dynamodb = self.runtime.client("dynamodb")
        total, start = 0, None
        while True:
            page = dynamodb.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
            total += sum(len(json.dumps(item)) for item in page["Items"])
            start = page.get("LastEvaluatedKey")
            if not start:
                return total

    def _pages(self) -> Counter[str]:
        # Pages are what reached a person through End User Messaging, SES or chat; the operators' SNS topic apart.
        return Counter(m["channel"] for m in self.runtime.outbox_json() if m["via"] != "sns-topic")

    def measure(self, work: Callable[[], None], sms_inbound: int = 0) -> Usage:
        invocations = self.runtime.lambda_runtime.invocations
        before = (len(invocations), self._transitions(), self._stored_bytes(), self._pages())
        self.requests.take(), self.calls.take(), self.logs.take()
        with self.requests.installed(), self.calls.installed():
            work()
            if not self.runtime.drain(timeout=120):
                raise SystemExit("bill bench: the runtime did not settle")
        ran = invocations[before[0] :]
        requests = self.requests.take()
        pages = self._pages() - before[3]
        writes = sum(n for op, n in requests.items() if op in WRITE_OPS)
        return Usage(
            transitions=self._transitions() - before[1],
            invocations=len(ran),
            gb_seconds=sum(
                max(i.duration_ms, 1.0) / 1000 * self.memory_mb.get(i.function_name, 512) / 1024 for i in ran
            ),
            dynamodb_writes=writes,
            dynamodb_reads=sum(requests.values()) - writes,
            sms=pages["sms"],
            sms_inbound=sms_inbound,
            voice_calls=pages["voice"],
            emails=pages["email"],
            api_calls=dict(self.calls.take()),
            log_bytes=self.logs.take(),
            stored_bytes=max(0, self._stored_bytes() - before[2]),
        )


def _function_name(runtime: Any, logical_id: str) -> str:
    stack = runtime.stacks["Siren"]
    resource = runtime.client("cloudformation").describe_stack_resource(
        StackName=stack.name, LogicalResourceId=logical_id
    )["StackResourceDetail"]
    return str(resource["PhysicalResourceId"]).rsplit(":", 1)[-1]


def _incidents(runtime: Any, table: str) -> list[dict[str, Any]]:
    items = runtime.client("dynamodb").scan(TableName=table)["Items"]
    return [
        {k: next(iter(v.values())) for k, v in i.items()} for i in items if i.get("kind", {}).get("S") == "incident"
    ]


def _escalations_ended(runtime: Any, machine: str) -> bool:
    executions = runtime.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    return all(e["status"] != "RUNNING" for e in executions)


def measure_workload(assembly: Path) -> tuple[Usage, Usage, dict[str, tuple[float, Usage]]]:
    """(an acknowledged incident, an unacknowledged one, each schedule's runs a month and one run), measured."""
    from siren_local.alarms import fire_alarm
    from siren_local.clock import set_time_scale
    from siren_local.inbound_sms import publish_sms_reply
    from siren_local.runtime import LocalAws

    with LocalAws.over_http(port=free_port(), time_scale=60) as runtime:
        outputs = runtime.deploy_siren(assembly, canary=False).outputs
        runtime.pause_schedules("")  # each scheduled function is measured on its own, below
        memory_mb = {
            f["FunctionName"]: int(f["MemorySize"]) for f in runtime.client("lambda").list_functions()["Functions"]
        }
        table, machine = outputs["IncidentsTableName"], outputs["EscalationStateMachineArn"]
        meter = Meter(runtime, outputs, memory_mb)
        try:

            def acknowledged_incident() -> None:
                fire_alarm(runtime.client, "payments-bill-acknowledged", "ALARM", "bench", None)
                page = wait_for(
                    lambda: [m for m in runtime.outbox_json() if m["channel"] == "sms" and "ACK" in m["body"]]
                )[0]
                code = re.search(r"ACK (\d{6})", page["body"])
                if code is None:
                    raise SystemExit(f"bill bench: no acknowledgement code in {page['body']!r}")
                publish_sms_reply(runtime.client, outputs["InboundSmsTopicArn"], page["to"], f"ACK {code.group(1)}")
                wait_for(lambda: all(i["status"] == "acknowledged" for i in _incidents(runtime, table)))
                fire_alarm(runtime.client, "payments-bill-acknowledged", "OK", "bench", None)
                wait_for(lambda: all(i["status"] == "resolved" for i in _incidents(runtime, table)))
                wait_for(lambda: _escalations_ended(runtime, machine), timeout=300)

            def unacknowledged_incident() -> None:
                set_time_scale(6000)  # the 45 minutes of the SEV1 policy in under a second
                try:
                    fire_alarm(runtime.client, "payments-bill-unacknowledged", "ALARM", "bench", None)
                    wait_for(lambda: any(i["status"] == "open" for i in _incidents(runtime, table)))
                    wait_for(lambda: _escalations_ended(runtime, machine), timeout=300)
                    fire_alarm(runtime.client, "payments-bill-unacknowledged", "OK", "bench", None)
                    wait_for(lambda: all(i["status"] == "resolved" for i in _incidents(runtime, table)))
                finally:
                    set_time_scale(60)

            acknowledged = meter.measure(acknowledged_incident, sms_inbound=1)
            unacknowledged = meter.measure(unacknowledged_incident)

            scheduled: dict[str, tuple[float, Usage]] = {}
            lambda_client = runtime.client("lambda")
            for schedule, (function, runs, payload) in schedules_of(assembly).items():
                name = _function_name(runtime, function)

                def one_run(name: str = name, payload: str = payload) -> None:
                    lambda_client.invoke(FunctionName=name, Payload=payload.encode())
                    wait_for(lambda: _escalations_ended(runtime, machine), timeout=300)
                    # A canary's incident resolves itself at its first step.
                    wait_for(lambda: all(i["status"] == "resolved" for i in _incidents(runtime, table)))

                scheduled[schedule] = (runs, meter.measure(one_run))
        finally:
            meter.close()
    return acknowledged, unacknowledged, scheduled


def run(report: Report, seats: int = DEFAULT_SEATS, seat_price: float = DEFAULT_SEAT_PRICE) -> None:
    assembly = synthesized_assembly("bill")
    acknowledged, unacknowledged, scheduled = measure_workload(assembly)
    standing = standing_of(assembly)
    workload = Workload(
        responders=RESPONDERS,
        incidents_a_month=INCIDENTS_A_MONTH,
        acknowledged_share=ACKNOWLEDGED_AT_LEVEL_1,
        acknowledged=acknowledged,
        unacknowledged=unacknowledged,
        scheduled=scheduled,
    )
    add_figures(report, monthly_bill(workload, standing), workload, standing, seats=seats, price=seat_price)


def add_figures(
    report: Report, bill: Bill, workload: Workload, standing: Standing, *, seats: int, price: float
) -> None:
    per_seat = seats * price
    incidents = incident_usage(workload)
    who = (
        f"{workload.responders} responders, {workload.incidents_a_month:g} SEV1 incidents a month, "
        f"{workload.acknowledged_share:.0%} acknowledged at level 1, the rest unacknowledged to the end"
    )
    sms, inbound, voice = PRICES["sms_us_toll_free"], PRICES["sms_inbound_us_toll_free"], PRICES["voice_us_minute"]
    report.add(
        "monthly_bill_sms_usd",
        round(bill.lines["sms"], 2),
        "USD",
        f"{incidents.sms:g} SMS at ${sms:.4f} + {incidents.sms_inbound:g} acknowledgement replies at ${inbound:.4f} "
        f"(assumed) + {standing.origination_numbers} toll-free number at "
        f"${MONTHLY_PRICES['us_toll_free_number']:g} (assumed); {who}",
    )
    report.add(
        "monthly_bill_voice_usd",
        round(bill.lines["voice"], 2),
        "USD",
        f"{incidents.voice_calls:g} calls of {VOICE_MINUTES_PER_CALL} minute (assumed) at ${voice:g}/minute (assumed)",
    )
    canary = next((usage for name, (_, usage) in workload.scheduled.items() if name.startswith("Canary")), None)
    report.add(
        "monthly_bill_usd",
        round(bill.total, 2),
        "USD",
        ", ".join(f"{line} ${usd:.2f}" for line, usd in bill.lines.items())
        + f"; {standing.alarms} alarms, {standing.secrets} secrets, {standing.kms_keys} KMS keys, "
        f"{standing.custom_metrics} custom metrics; schedules: "
        + ", ".join(f"{name} {runs:g}/month" for name, (runs, _) in workload.scheduled.items())
        + (f"; a canary run: {canary.transitions:g} transitions, {canary.invocations:g} invocations" if canary else "")
        + (f"; not priced: {', '.join(bill.unpriced_calls)}" if bill.unpriced_calls else ""),
    )
    nothing_stands = Standing(alarms=0, secrets=0, kms_keys=0, custom_metrics=0, origination_numbers=0)
    by_schedule = {
        name: monthly_bill(replace(workload, incidents_a_month=0, scheduled={name: runs}), nothing_stands).total
        for name, runs in workload.scheduled.items()
    }
    report.add(
        "monthly_bill_schedules_usd",
        round(sum(by_schedule.values()), 2),
        "USD",
        "what the schedules cost with nothing broken (in the total above): "
        + ", ".join(f"{name} ${usd:.2f}" for name, usd in sorted(by_schedule.items(), key=lambda item: -item[1])),
    )
    report.add("per_seat_price_usd", round(per_seat, 2), "USD", f"{seats} seats x ${price:g}")
    report.add(
        "monthly_bill_to_per_seat_price",
        round(bill.total / per_seat, 3) if per_seat else float("inf"),
        "ratio",
        "the modelled AWS bill over the per-seat price",
    )
    for name, usage in (("acknowledged", workload.acknowledged), ("unacknowledged", workload.unacknowledged)):
        report.add(
            f"measured_{name}_sev1_incident",
            usage.transitions,
            "transitions",
            f"{usage.invocations:g} invocations ({usage.gb_seconds:.2f} GB-s), {usage.dynamodb_writes:g} DynamoDB "
            f"writes, {usage.dynamodb_reads:g} reads, {usage.sms:g} SMS, {usage.voice_calls:g} calls, "
            f"{usage.emails:g} emails, {usage.log_bytes:g} log bytes, {usage.stored_bytes:g} bytes stored; "
            + ", ".join(f"{call} {n:g}" for call, n in sorted(usage.api_calls.items())),
        )


if __name__ == "__main__":
    import siren.observability  # noqa: F401 - the ``siren`` logger whose bytes are counted

    bench_report = Report()
    run(bench_report)
    for figure in bench_report.figures:
        print(f"{figure.name} = {figure.value:g} {figure.unit}  ({figure.note})")
