"""Canaries of fault injection (siren_local/faults.py): one per target, each failing a real SDK call the way AWS
fails it, with the error code and HTTP status botocore parses and its retry logic acts on.

GIVEN one bare embedded local AWS over HTTP for the module (the middleware is the path the deployed functions take;
each test clears its faults), WHEN a fault is set, THEN the matching calls fail as AWS's do, the others go
through, and every injected failure is counted.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, ReadTimeoutError

from siren_local.faults import FaultError
from tests.conftest import running_runtime
from tests.local.test_adapter_canaries import create_function
from tests.support import wait_for

ORIGIN = "+12065550100"
PAGED = "+14255550101"
OTHER = "+14255550102"
SENDER = "siren@example.com"


@pytest.fixture(scope="module")
def bare() -> Iterator[Any]:
    yield from running_runtime("http", 600)


@pytest.fixture
def runtime(bare: Any) -> Iterator[Any]:
    yield bare
    bare.faults.clear()


def client(runtime: Any, service: str, attempts: int = 1, **config: Any) -> Any:
    """A client that tries ``attempts`` times in all (botocore's standard mode), so hits can be counted."""
    import boto3

    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=runtime.region
    ).client(
        service,
        endpoint_url=runtime.endpoint_url,
        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}, **config),
    )


def error_of(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_end_user_messaging_fails_and_throttles_for_the_given_numbers_only(runtime):
    sms = client(runtime, "pinpoint-sms-voice-v2", attempts=3)

    def send(to: str) -> Any:
        return lambda: sms.send_text_message(DestinationPhoneNumber=to, OriginationIdentity=ORIGIN, MessageBody="x")

    fault = runtime.add_fault("sms-voice", numbers=[PAGED])
    assert error_of(send(PAGED)) == ("InternalServerException", 500)
    send(OTHER)()
    assert fault.hits == 3  # the SDK retried a 500 twice: three injected failures

    runtime.faults.clear()
    throttled = runtime.add_fault("sms-voice", mode="throttle")
    assert error_of(send(OTHER)) == ("ThrottlingException", 400)
    assert throttled.hits == 3
    assert [m["to"] for m in runtime.outbox_json()][-1:] == [OTHER]  # only the call let through was sent


def test_the_older_fail_route_is_an_alias_of_an_sms_voice_fault(runtime):
    def post(destinations: list[str]) -> dict[str, Any]:
        body = json.dumps({"destinations": destinations}).encode()
        request = urllib.request.Request(f"{runtime.endpoint_url}/_siren/sms-voice/fail", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    assert post([PAGED]) == {"failing": [PAGED]}
    runtime.sms_voice.fail_destinations.add(OTHER)  # the attribute the older tests set is the same fault
    sms = client(runtime, "pinpoint-sms-voice-v2")
    for to in (PAGED, OTHER):
        assert error_of(lambda to=to: sms.send_text_message(DestinationPhoneNumber=to, MessageBody="x")) == (
            "InternalServerException",
            500,
        )
    (alias,) = runtime.faults.to_json()["faults"]
    assert (alias["target"], alias["numbers"], alias["hits"]) == ("sms-voice", [PAGED, OTHER], 2)
    assert post([]) == {"failing": []}
    sms.send_text_message(DestinationPhoneNumber=PAGED, MessageBody="x")


def test_sns_publish_fails_with_the_query_protocols_errors(runtime):
    sns = client(runtime, "sns", attempts=2)
    fault = runtime.add_fault("sns", numbers=[PAGED])
    assert error_of(lambda: sns.publish(PhoneNumber=PAGED, Message="x")) == ("InternalError", 500)
    sns.publish(PhoneNumber=OTHER, Message="x")
    topic = sns.create_topic(Name="t")["TopicArn"]  # the control plane is never failed
    sns.publish(TopicArn=topic, Message="a topic publish has no number: not covered by --numbers")
    assert (fault.hits, fault.calls) == (2, 2)  # calls: those the fault covers

    runtime.faults.clear()
    runtime.add_fault("sns", mode="throttle")
    assert error_of(lambda: sns.publish(TopicArn=topic, Message="x")) == ("Throttling", 400)


def test_ses_v2_send_email_fails_and_throttles(runtime):
    ses = client(runtime, "sesv2")
    ses.create_email_identity(EmailIdentity=SENDER)

    def send() -> Any:
        content = {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}
        return ses.send_email(FromEmailAddress=SENDER, Destination={"ToAddresses": ["a@example.com"]}, Content=content)

    runtime.add_fault("ses")
    assert error_of(send) == ("InternalFailure", 500)
    runtime.faults.clear()
    runtime.add_fault("ses", mode="throttle")
    assert error_of(send) == ("TooManyRequestsException", 429)
    assert runtime.faults.hits("ses") == 1
    runtime.faults.clear()
    send()


def test_eventbridge_put_events_fails_whole_or_per_entry(runtime):
    events = client(runtime, "events")
    entries = [{"Source": "s", "DetailType": "d", "Detail": "{}"}] * 4
    runtime.add_fault("events")
    assert error_of(lambda: events.put_events(Entries=entries)) == ("InternalException", 500)
    runtime.faults.clear()
    runtime.add_fault("events", mode="throttle")
    assert error_of(lambda: events.put_events(Entries=entries)) == ("ThrottlingException", 400)
    runtime.faults.clear()

    fault = runtime.add_fault("events", mode="partial", rate=0.5, seed=11)
    answer = events.put_events(Entries=entries)
    draws = random.Random(11)
    expected = [draws.random() < 0.5 for _ in entries]
    assert [("ErrorCode" in entry) for entry in answer["Entries"]] == expected
    assert answer["FailedEntryCount"] == sum(expected) == fault.hits
    assert all(e["ErrorCode"] == "InternalFailure" for e in answer["Entries"] if "ErrorCode" in e)


def test_dynamodb_throttles_writes_as_dynamodb_does(runtime):
    ddb = client(runtime, "dynamodb", attempts=2)
    ddb.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    fault = runtime.add_fault("dynamodb", mode="throttle", operations=["writes"])
    item = {"pk": {"S": "a"}}
    assert error_of(lambda: ddb.put_item(TableName="t", Item=item)) == ("ProvisionedThroughputExceededException", 400)
    assert fault.hits == 2  # botocore retried it as throttling
    assert "Item" not in ddb.get_item(TableName="t", Key=item)  # reads go through; the write was not applied
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as cancelled:
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "t", "Item": item}}] * 1
            + [{"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}}}}]
        )
    reasons = cancelled.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["ThrottlingError", "ThrottlingError"]

    runtime.faults.clear()
    runtime.add_fault("dynamodb")
    assert error_of(lambda: ddb.get_item(TableName="t", Key=item)) == ("InternalServerError", 500)


def test_the_chat_webhook_answers_500_or_429(runtime):
    url = f"{runtime.endpoint_url}/_siren/chat/incidents"

    def post() -> int:
        request = urllib.request.Request(url, data=b'{"text": "hi"}', method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    runtime.add_fault("chat")
    assert post() == 500
    runtime.faults.clear()
    runtime.add_fault("chat", mode="throttle")
    assert post() == 429
    runtime.faults.clear()
    assert post() == 200
    assert [m["channel"] for m in runtime.outbox_json()][-1:] == ["chat"]


def test_a_function_fault_is_a_function_error_and_honours_its_rate(runtime):
    create_function(runtime, "flaky-fn")
    fault = runtime.faults.add("lambda:Flaky", function_name="flaky-fn", rate=0.5, seed=3)
    lam = client(runtime, "lambda")
    errors = []
    for _ in range(8):
        reply = lam.invoke(FunctionName="flaky-fn", Payload=b"{}")
        body = json.loads(reply["Payload"].read())
        errors.append(body.get("errorType") if reply.get("FunctionError") else None)
    draws = random.Random(3)
    assert errors == ["InjectedFault" if draws.random() < 0.5 else None for _ in range(8)]
    assert fault.hits == errors.count("InjectedFault") and fault.calls == 8


def test_a_lambda_target_names_a_deployed_logical_id(runtime):
    with pytest.raises(FaultError, match="names no deployed function"):
        runtime.add_fault("lambda:EscalationStep")


def test_a_fault_ends_after_its_time_in_aws_seconds(runtime):
    sns = client(runtime, "sns")
    runtime.add_fault("sns", for_seconds=60)  # a scaled minute: a tenth of a second at time scale 600
    assert error_of(lambda: sns.publish(PhoneNumber=PAGED, Message="x")) == ("InternalError", 500)
    wait_for(lambda: not runtime.faults.to_json()["faults"][0]["active"], timeout=10)
    sns.publish(PhoneNumber=PAGED, Message="x")
    assert runtime.faults.to_json()["hits"] == {"sns": 1}


def test_a_hanging_provider_is_never_answered_and_clear_releases_it(runtime):
    sms = client(runtime, "pinpoint-sms-voice-v2")

    def send(to: str) -> Any:
        return sms.send_text_message(DestinationPhoneNumber=to, OriginationIdentity=ORIGIN, MessageBody="x")

    before = len(runtime.outbox_json())
    # A hang of a scaled minute (a tenth of a wall second): the connection is then closed unanswered, which the SDK
    # reports as a failed call (not a service error), as it would its own timeout.
    fault = runtime.add_fault("sms-voice", hang_seconds=60, numbers=[PAGED])
    with pytest.raises(HTTPClientError):
        send(PAGED)
    send(OTHER)
    assert fault.hits == 1
    runtime.faults.clear()
    # A hang longer than the SDK's own (wall-clock) read timeout: the SDK's timeout ends the call.
    sms = client(runtime, "pinpoint-sms-voice-v2", read_timeout=0.5)
    runtime.add_fault("sms-voice", hang_seconds=36000, numbers=[PAGED])  # a wall minute
    with pytest.raises(ReadTimeoutError):
        send(PAGED)
    assert runtime.faults.clear() == 1  # the held request ends now, not in a minute (the leak guard checks)
    assert [m["to"] for m in runtime.outbox_json()[before:]] == [OTHER]  # nothing held was applied


def test_bad_faults_are_refused_with_the_reason(runtime):
    def refused(target: str, **options: Any) -> str:
        with pytest.raises(FaultError) as raised:
            runtime.add_fault(target, **options)
        return str(raised.value)

    assert "unknown target" in refused("kinesis")
    assert "--rate" in refused("sns", rate=1.5)
    assert "--numbers applies to phone targets" in refused("ses", numbers=[PAGED])
    assert "E.164" in refused("sns", numbers=["0123"])
    assert "no operation 'Scan2'" in refused("dynamodb", operations=["Scan2"])
    assert "partial" in refused("sns", mode="partial")
    assert "--for" in refused("sns", for_seconds=-1)
    # ...and over HTTP, as `siren local fault add` meets them: 400 with the reason
    request = urllib.request.Request(
        f"{runtime.endpoint_url}/_siren/faults", method="POST", data=json.dumps({"target": "sns", "rate": 0}).encode()
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 400 and "--rate" in json.loads(raised.value.read())["error"]
    assert runtime.faults.faults() == []


def test_a_fault_with_times_is_spent_after_that_many_failures(runtime):
    create_function(runtime, "thrice-fn")
    fault = runtime.faults.add("lambda:Thrice", function_name="thrice-fn", times=3)
    lam = client(runtime, "lambda")
    failed = [bool(lam.invoke(FunctionName="thrice-fn", Payload=b"{}").get("FunctionError")) for _ in range(5)]
    assert failed == [True, True, True, False, False]
    assert (fault.hits, runtime.faults.to_json()["faults"][0]["active"]) == (3, False)
