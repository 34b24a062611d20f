"""The ``siren local`` commands against a running embedded local AWS, and their bad-input behaviour.

Each command runs as its own process, as a user runs it beside ``siren local up``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import dataclass

import pytest

from siren_local.runtime import port_is_free
from tests.conftest import free_port

pytestmark = pytest.mark.e2e


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(*args: str) -> Result:
    completed = subprocess.run(
        [sys.executable, "-m", "siren_cli.main", *args], capture_output=True, text=True, timeout=120, check=False
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def test_fire_alarm_puts_real_format_event_with_previous_state(local_http):
    port = str(local_http.port)
    first = run("local", "fire-alarm", "api-errors", "--state", "ALARM", "--json", "--port", port)
    assert first.exit_code == 0, first.output
    event = json.loads(first.stdout)
    assert event["detail"]["previousState"]["value"] == "INSUFFICIENT_DATA"
    second = json.loads(run("local", "fire-alarm", "api-errors", "--state", "ok", "--json", "--port", port).stdout)
    assert (second["detail"]["previousState"]["value"], second["detail"]["state"]["value"]) == ("ALARM", "OK")
    assert local_http.drain(10)
    assert len([i for i in local_http.lambda_runtime.invocations if "AlarmEvents" in i.function_name]) == 2


def test_sms_reply_publishes_to_the_inbound_topic_and_outbox_lists_messages(local_http):
    sqs = local_http.client("sqs")
    queue_url = sqs.create_queue(QueueName="inbound-copy")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = local_http.stacks["Siren"].outputs["InboundSmsTopicArn"]
    local_http.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    result = run("local", "sms-reply", "--from", "+14255550182", "ACK 482193", "--port", str(local_http.port))
    assert result.exit_code == 0, result.output
    body = json.loads(sqs.receive_message(QueueUrl=queue_url)["Messages"][0]["Body"])
    message = json.loads(body["Message"])
    assert (message["originationNumber"], message["messageBody"]) == ("+14255550182", "ACK 482193")

    assert local_http.drain(60)  # Siren answers the reply: the code is unknown
    local_http.client("sns").publish(PhoneNumber="+14255550182", Message="page")
    outbox = json.loads(run("local", "outbox", "--json", "--port", str(local_http.port)).stdout)
    assert [(m["channel"], m["to"], m["via"]) for m in outbox] == [
        ("sms", "+14255550182", "end-user-messaging"),
        ("sms", "+14255550182", "sns"),
    ]
    assert "code not recognised" in outbox[0]["body"] and outbox[1]["body"] == "page"
    assert all({"channel", "to", "subject", "body", "sent_at"} <= set(m) for m in outbox)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("local", "fire-alarm", "x", "--state", "BROKEN"), "--state must be one of ALARM, OK, INSUFFICIENT_DATA"),
        (("local", "sms-reply", "--from", "4255550182", "ACK 1"), "--from must be an E.164 phone number"),
        (("local", "sms-reply", "--from", "+1 425 555 0182", "ACK 1"), "--from must be an E.164 phone number"),
        (("local", "up", "--time-scale", "0"), "--time-scale must be a positive number"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_up_on_a_busy_port_fails_in_one_line_and_starts_nothing():
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = run("local", "up", "--port", str(port))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"siren: error: port {port} on 127.0.0.1 is already in use (is another `siren local up` running?)"
    ]

    assert "Synthesizing" not in result.output  # it stopped before synthesizing or starting anything


def test_up_with_an_assembly_that_is_not_siren_fails_in_one_line_and_starts_nothing(tmp_path):
    port = free_port()
    result = run("local", "up", "--port", str(port), "--assembly", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"siren: error: --assembly {tmp_path} holds no Siren.template.json (run `make synth`)"
    ]
    assert port_is_free("127.0.0.1", port)


def test_commands_without_a_runtime_say_so_in_one_line():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("local", "info", "--port", str(port))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is `siren local up` running?" in result.stderr
