"""The relay never gives up early, and what reaches the dead-letter queue can be replayed (issue 11, item 6).

GIVEN Siren on the embedded local AWS (time scale 600: 15 minutes of AWS time is 1.5 seconds here),
WHEN the stream relay cannot publish for 15 minutes, THEN the incident still pages once it can, and nothing is
left in a dead-letter queue; WHEN a lost batch's pointer and a function's failed event are in the dead-letter
queue, THEN ``siren dlq list`` shows what they hold and ``siren dlq redrive --all`` makes the incident's escalation
run and the event reach its function, and empties the queue.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config

from siren_local.alarms import alarm_state_change_event
from tests.e2e.test_cli_incidents import siren
from tests.e2e.test_escalation import messages_to, on_call
from tests.support import wait_for

pytestmark = pytest.mark.e2e
SCALE = 600  # local_http_fast
OLD_RETRY_ATTEMPTS = 20  # what the relay allowed before: the outage below outlasts it


def dead_letters(runtime: Any) -> list[dict[str, Any]]:
    return json.loads(siren(runtime, "dlq", "list", "--json").stdout)


def executions_of(runtime: Any, incident_id: str) -> list[dict[str, Any]]:
    sfn = runtime.client("stepfunctions")
    machine = runtime.stacks["Siren"].outputs["EscalationStateMachineArn"]
    return [e for e in sfn.list_executions(stateMachineArn=machine)["executions"] if incident_id in e["name"]]


def test_a_relay_outage_of_fifteen_minutes_still_pages_and_leaves_no_dead_letter(local_http_fast, monkeypatch):
    from siren.app import publisher

    # GIVEN a relay whose every publish fails (EventBridge unreachable, say)
    real_publish = publisher.publish
    outage = {"on": True, "failures": 0}

    def publish(stream_event: Any, bus: Any) -> dict[str, int]:
        if outage["on"]:
            outage["failures"] += 1
            raise RuntimeError("EventBridge PutEvents: service unavailable")
        return real_publish(stream_event, bus)

    monkeypatch.setattr(publisher, "publish", publish)
    primary = on_call(0)[0]

    # WHEN a SEV1 alarm fires during an outage of 15 minutes of AWS time, in which the relay fails more often than
    # the 20 retries it used to be allowed
    from siren_local.alarms import fire_alarm

    fire_alarm(local_http_fast.client, "payments-card-declines", "ALARM", "declines 30% > 5%", None)
    wait_for(lambda: outage["failures"] >= 1)
    began = time.monotonic()
    # THEN the primary is paged all the same: the ingest function started the escalation itself (issue 14)
    wait_for(lambda: messages_to(local_http_fast, primary, "sms"))
    wait_for(lambda: outage["failures"] > OLD_RETRY_ATTEMPTS + 1 and (time.monotonic() - began) * SCALE >= 15 * 60)
    outage["on"] = False

    # ...and once the relay can publish again, its late events start nothing twice, and no dead-letter queue
    # holds anything
    assert local_http_fast.drain()
    machine = local_http_fast.stacks["Siren"].outputs["EscalationStateMachineArn"]
    runs = local_http_fast.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    assert [run["name"].rsplit("-", 1)[1] for run in runs] == ["a1"]  # one run, its first attempt: no restart
    queues = dead_letters(local_http_fast)
    assert queues and [(q["waiting"], q["messages"]) for q in queues] == [(0, [])] * len(queues)
    # ...and operations heard that the relay fell behind (its IteratorAge passed a minute while it retried)
    from tests.e2e.test_ops_alarms import notified

    wait_for(lambda: notified(local_http_fast, "StreamAge-IngestPublisher"), timeout=60)


def stream_records(runtime: Any) -> list[dict[str, Any]]:
    """Every record of the incident table's stream (DynamoDB Streams API)."""
    table = runtime.stacks["Siren"].outputs["IncidentsTableName"]
    stream_arn = runtime.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = boto3.client(
        "dynamodbstreams",
        region_name=runtime.region,
        endpoint_url=runtime.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(account_id_endpoint_mode="disabled"),
    )
    (shard,) = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [{**record, "shardId": shard["ShardId"], "streamArn": stream_arn} for record in records]


def batch_pointer(records: list[dict[str, Any]], function_arn: str) -> dict[str, Any]:
    """What Lambda sends to the on-failure destination for a stream batch it gave up on."""

    def written(record: dict[str, Any]) -> str:
        moment = record["dynamodb"]["ApproximateCreationDateTime"]
        moment = moment if isinstance(moment, datetime) else datetime.fromtimestamp(float(moment), UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    first, last = records[0], records[-1]
    return {
        "requestContext": {
            "requestId": "lost-batch",
            "functionArn": function_arn,
            "condition": "RecordAgeExceeded",
            "approximateInvokeCount": 1200,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "DDBStreamBatchInfo": {
            "shardId": first["shardId"],
            "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": written(first),
            "approximateArrivalOfLastRecord": written(last),
            "batchSize": len(records),
            "streamArn": first["streamArn"],
        },
    }


def test_dead_letters_are_listed_and_redriven_from_the_table_and_to_their_functions(local_http_fast, monkeypatch):
    runtime = local_http_fast
    outputs = runtime.stacks["Siren"].outputs
    lam, sqs = runtime.client("lambda"), runtime.client("sqs")
    (mapping,) = lam.list_event_source_mappings()["EventSourceMappings"]

    # GIVEN an incident whose escalation nobody started: declared where the escalation shortcut could not start
    # it (a process without the machine, say), and whose "Incident Opened" the relay lost (its mapping was off
    # while it was written; on AWS: a batch that failed until its records left the stream), and the pointer
    # Lambda sent for that batch
    from siren.adapters.dynamodb import DynamoIncidents
    from siren.app.incidents import Incidents
    from tests.e2e.test_escalation import CONFIG

    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", runtime.endpoint_url)  # this process's SDK calls go to the runtime
    without_shortcut = Incidents(DynamoIncidents(outputs["IncidentsTableName"]), CONFIG, after_commit=None)
    incident_id = without_shortcut.declare("Checkout down", "SEV1", "checkout", "", actor="operator").incident_id
    assert incident_id is not None
    lost = [
        r
        for r in stream_records(runtime)
        if r["eventName"] == "INSERT" and r["dynamodb"].get("NewImage", {}).get("kind", {}).get("S") == "event"
    ]
    assert [json.loads(r["dynamodb"]["NewImage"]["detail"]["S"])["incident_id"] for r in lost] == [incident_id]
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    queue_url = outputs["DeadLetterQueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(batch_pointer(lost, mapping["FunctionArn"])))

    # ...and a CloudWatch alarm event its function failed on three times (Lambda's asynchronous DLQ)
    alarm_arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:payments-latency"
    event = alarm_state_change_event(
        alarm={"AlarmArn": alarm_arn, "AlarmName": "payments-latency", "AlarmDescription": "p99 > 2s"},
        account="123456789012",
        region="us-east-1",
        previous={"value": "OK"},
        state="ALARM",
        reason="p99 2.4s > 2s",
        at=datetime.now(UTC),
    )
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps(event),
        MessageAttributes={
            "RequestID": {"DataType": "String", "StringValue": "0a1b2c3d"},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": "Task timed out after 30.00 seconds"},
        },
    )
    assert runtime.drain()
    assert executions_of(runtime, incident_id) == []  # lost: nobody is paged
    assert len(json.loads(siren(runtime, "incidents", "list", "--json").stdout)) == 1

    # WHEN the operator lists the dead letters
    (queue,) = dead_letters(runtime)
    assert queue["waiting"] == 2 and queue["oldest_age_seconds"] is not None
    by_kind = {message["kind"]: message for message in queue["messages"]}
    assert set(by_kind) == {"stream-batch", "event"}
    pointer = by_kind["stream-batch"]
    assert pointer["incidents"] == [incident_id]
    assert (pointer["shard"], pointer["start_sequence_number"]) == (
        lost[0]["shardId"],
        lost[0]["dynamodb"]["SequenceNumber"],
    )
    assert by_kind["event"]["event"] == "CloudWatch Alarm State Change (aws.cloudwatch)"
    assert "timed out" in by_kind["event"]["error"]

    # ...and redrives them all
    redriven = json.loads(siren(runtime, "dlq", "redrive", "--all", "--json").stdout)

    # THEN both were replayed: the lost incident's escalation runs and pages, the alarm event reached its function
    # (a second incident), and the queue is empty
    assert sorted((r["kind"], r["outcome"]) for r in redriven) == [("event", "replayed"), ("stream-batch", "replayed")]
    wait_for(lambda: executions_of(runtime, incident_id))
    wait_for(lambda: messages_to(runtime, on_call(0)[0], "sms"))
    incidents = json.loads(siren(runtime, "incidents", "list", "--json").stdout)
    assert sorted(i["id"] == incident_id for i in incidents) == [False, True]
    assert runtime.drain()
    (queue,) = dead_letters(runtime)
    assert (queue["waiting"], queue["messages"]) == (0, [])


def test_a_refused_alert_is_listed_but_not_redriven(local_http_fast):
    # GIVEN an alert the front door refused (kept with the reason)
    queue_url = local_http_fast.stacks["Siren"].outputs["DeadLetterQueueUrl"]
    refused = {"source": "generic", "reason": "missing dedup_key", "payload": {"title": "x"}}
    local_http_fast.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(refused))

    # WHEN it is listed and all dead letters are redriven
    (queue,) = dead_letters(local_http_fast)
    (message,) = queue["messages"]
    redriven = json.loads(siren(local_http_fast, "dlq", "redrive", "--all", "--json").stdout)

    # THEN it is shown with its reason, skipped by the redrive, and still in the queue
    assert (message["kind"], message["reason"]) == ("refused-alert", "missing dedup_key")
    assert [(r["id"], r["outcome"]) for r in redriven] == [(message["id"], "skipped")]
    (queue,) = dead_letters(local_http_fast)
    assert [m["id"] for m in queue["messages"]] == [message["id"]]
