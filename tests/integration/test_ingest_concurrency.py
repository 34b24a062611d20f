"""Concurrent and redelivered signals through the real store (in-process local AWS, the deployed table).

Counts, not timings: however the deliveries interleave, each alarm has exactly one incident per episode and
exactly one "Incident Opened" event (one escalation start) per incident.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.ingest import alarm_event
from siren.adapters.dynamodb import DynamoIncidents
from siren.app.ingest import Ingestor
from siren.config import load_config
from siren.domain.incidents import IncidentStatus
from siren.domain.parsers import parse_cloudwatch_event

ROOT = Path(__file__).resolve().parents[2]


def items_of_kind(runtime: Any, kind: str) -> list[dict[str, Any]]:
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    found = []
    for page in runtime.client("dynamodb").get_paginator("scan").paginate(TableName=table):
        found.extend(item for item in page["Items"] if item["kind"]["S"] == kind)
    return found


def test_concurrent_duplicates_and_redeliveries_open_one_incident_per_episode(local_inprocess):
    incidents = DynamoIncidents(local_inprocess.stacks["Siren"].outputs["IncidentsTableName"])
    ingestor = Ingestor(incidents, load_config(ROOT / "siren.yaml"))
    alarms = [f"search-shard-{n}" for n in range(10)]  # service "search": on_recovery resolve (the default)

    def ingest(event: dict[str, Any]) -> str:
        return ingestor.ingest(parse_cloudwatch_event(event), event).action

    rng = random.Random(7)
    for state in ("ALARM", "OK", "ALARM"):
        events = [alarm_event(rng.choice(alarms), state) for _ in range(300)]
        events += [dict(event) for event in rng.sample(events, 60)]  # redelivered: same event id
        rng.shuffle(events)
        DynamoIncidents.forget_hints()
        with ThreadPoolExecutor(8) as pool:
            actions = list(pool.map(ingest, events))
        assert actions.count("duplicate_delivery") >= 60

    incidents = items_of_kind(local_inprocess, "incident")
    opened = [e for e in items_of_kind(local_inprocess, "event") if e["detail_type"]["S"] == "Incident Opened"]
    assert len(incidents) == 20  # two episodes per alarm: ALARM...OK, then ALARM again
    assert len(opened) == 20
    statuses = sorted(i["status"]["S"] for i in incidents)
    assert statuses == [str(IncidentStatus.OPEN)] * 10 + [str(IncidentStatus.RESOLVED)] * 10
    # Every applied delivery is counted exactly once on its incident.
    alerts = items_of_kind(local_inprocess, "alert")
    assert sum(int(i["alert_count"]["N"]) for i in incidents) == len(
        [a for a in alerts if a.get("incident_id") and "ALARM" in a["payload"]["S"]]
    )
