"""``make demo``: the main job on the embedded local AWS, step by step, with what each step left behind."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from siren_local.alarms import fire_alarm


def run_demo(runtime: Any, console: Console) -> None:
    outputs = runtime.info()["outputs"]
    console.rule("1. A CloudWatch alarm goes off")
    event = fire_alarm(
        runtime.client,
        "checkout-api-5xx",
        "ALARM",
        "5xx rate 12% > 5% for 3 minutes",
        "[SEV2] Checkout API returns errors",
    )
    console.print(
        f"Event {event['id']} put on the default bus: {event['detail-type']} "
        f"({event['detail']['previousState']['value']} -> {event['detail']['state']['value']})"
    )
    runtime.drain()
    console.rule("2. The ingest function (deployed code, run in-process) stored it")
    table = Table()
    for column in ("pk", "source", "received_at"):
        table.add_column(column)
    items = runtime.client("dynamodb").query(
        TableName=outputs["IncidentsTableName"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ALERT#cloudwatch#{event['id']}"}},
    )["Items"]
    for item in items:
        table.add_row(item["pk"]["S"], item["source"]["S"], item["received_at"]["S"])
    console.print(table)
    invocations = runtime.lambda_runtime.invocations
    console.print(f"Lambda invocations: {len(invocations)}, errors: {sum(i.errored for i in invocations)}")
    console.print(json.dumps(runtime.outbox_json(), indent=2) if runtime.outbox_json() else "Outbox: empty")
