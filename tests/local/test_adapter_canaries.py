"""Canaries: one per adapter around moto internals. Each fails loudly if a moto upgrade moves what it patches.

They run on the in-process transport (fast) unless the behaviour is HTTP's own.
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile

import moto
import pytest

from tests.support import wait_for

PINNED_MOTO = "5.2.5"


def handler_zip(source: str, module: str = "canary_handler") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", source)
    return buffer.getvalue()


ECHO = """
import os
def handler(event, context):
    return {"event": event, "flavour": os.environ.get("FLAVOUR"), "function": context.function_name}
def boom(event, context):
    raise ValueError("kaboom")
"""


def create_function(
    runtime, name: str, handler: str = "canary_handler.handler", env: dict | None = None, source: str = ECHO
) -> str:
    iam = runtime.client("iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = runtime.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler=handler,
        Code={"ZipFile": handler_zip(source)},
        Environment={"Variables": env or {}},
    )
    return str(function["FunctionArn"])


def test_moto_is_the_pinned_version():
    assert moto.__version__ == PINNED_MOTO, "adapters are written against this moto; re-run every canary"


# -- lambda_runtime ---------------------------------------------------------------------------------------
def test_lambda_invoke_runs_deployed_code_in_process_with_its_own_environment(bare_inprocess):
    create_function(bare_inprocess, "echo-a", env={"FLAVOUR": "a"})
    create_function(bare_inprocess, "echo-b", env={"FLAVOUR": "b"})
    client = bare_inprocess.client("lambda")
    for name, flavour in (("echo-a", "a"), ("echo-b", "b")):
        response = client.invoke(FunctionName=name, Payload=json.dumps({"n": 1}))
        body = json.loads(response["Payload"].read())
        assert body == {"event": {"n": 1}, "flavour": flavour, "function": name}
        assert "FunctionError" not in response


def test_lambda_errors_carry_error_type_for_retry_and_catch(bare_inprocess):
    create_function(bare_inprocess, "boom", handler="canary_handler.boom")
    response = bare_inprocess.client("lambda").invoke(FunctionName="boom", Payload=b"{}")
    assert response["FunctionError"]
    body = json.loads(response["Payload"].read())
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "kaboom"


def test_async_failures_go_to_the_dead_letter_queue_after_retries(bare_inprocess):
    sqs = bare_inprocess.client("sqs")
    queue_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    iam = bare_inprocess.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    bare_inprocess.client("lambda").create_function(
        FunctionName="boom-async",
        Runtime="python3.13",
        Role=role,
        Handler="canary_handler.boom",
        Code={"ZipFile": handler_zip(ECHO)},
        DeadLetterConfig={"TargetArn": queue_arn},
    )
    # An Event invoke is queued as on AWS (moto would run it once before answering), like the runtime's own:
    answer = bare_inprocess.client("lambda").invoke(
        FunctionName="boom-async", InvocationType="Event", Payload=b'{"k": 1}'
    )
    assert answer["StatusCode"] == 202 and "FunctionError" not in answer
    from moto.awslambda.utils import get_backend

    function = get_backend("123456789012", "us-east-1").get_function("boom-async")
    bare_inprocess.lambda_runtime.invoke_async(function, {"k": 2})
    assert bare_inprocess.drain(30)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(json.loads(m["Body"])["k"] for m in messages) == [1, 2]
    attempts = [i for i in bare_inprocess.lambda_runtime.invocations if i.asynchronous]
    assert len(attempts) == 6 and all(i.errored for i in attempts)  # each event: first try + two retries


def test_model_dump_works_without_docker(bare_http):
    create_function(bare_http, "dump-me")
    with urllib.request.urlopen(f"{bare_http.endpoint_url}/moto-api/data.json", timeout=10) as response:
        assert response.status == 200
        dump = json.loads(response.read())
        assert any(item.get("function_name") == "dump-me" for item in dump["awslambda"]["LambdaFunction"])


# -- eventbridge ------------------------------------------------------------------------------------------
def test_rules_deliver_to_lambda_and_state_machines_and_honour_disabled(bare_inprocess):
    arn = create_function(bare_inprocess, "listener")
    events = bare_inprocess.client("events")
    events.put_rule(Name="on", EventPattern=json.dumps({"source": ["canary"]}))
    events.put_targets(Rule="on", Targets=[{"Id": "fn", "Arn": arn}])
    events.put_rule(Name="off", EventPattern=json.dumps({"source": ["canary"]}), State="DISABLED")
    events.put_targets(Rule="off", Targets=[{"Id": "fn", "Arn": arn}])
    events.put_rule(Name="shaped", EventPattern=json.dumps({"source": ["canary"]}))
    events.put_targets(Rule="shaped", Targets=[{"Id": "fn", "Arn": arn, "InputPath": "$.detail"}])
    events.put_events(Entries=[{"Source": "canary", "DetailType": "Ping", "Detail": json.dumps({"n": 7})}])
    assert bare_inprocess.drain(10)

    calls = [i for i in bare_inprocess.lambda_runtime.invocations if i.function_name == "listener"]
    assert len(calls) == 2  # "on" and "shaped"; never "off"
    from siren_local import eventbridge

    rules = {rule_arn.rsplit("/", 1)[-1] for rule_arn, _, _ in eventbridge.deliveries[-2:]}
    assert rules == {"on", "shaped"}


def test_target_input_keeps_aws_event_shape():
    from siren_local.eventbridge import target_input

    event = {"id": "1", "time": "2026-01-01T00:00:00Z", "detail": {"a": 1}, "ingestion-time": 5}
    assert target_input({}, event) == {"id": "1", "time": "2026-01-01T00:00:00Z", "detail": {"a": 1}}
    assert target_input({"InputPath": "$.detail"}, event) == {"a": 1}
    assert target_input({"Input": '{"fixed": true}'}, event) == {"fixed": True}


# -- sns ---------------------------------------------------------------------------------------------------
def test_sns_to_lambda_delivers_aws_shaped_records(bare_inprocess):
    capture = """
RECORDS = []
def handler(event, context):
    RECORDS.append(event)
    return {}
"""
    arn = create_function(bare_inprocess, "sns-listener", source=capture)
    sns = bare_inprocess.client("sns")
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    ids = [sns.publish(TopicArn=topic, Message=f"m{n}", Subject="s")["MessageId"] for n in range(2)]
    assert bare_inprocess.drain(10)

    import sys

    module = next(m for name, m in sys.modules.items() if name.endswith("canary_handler") and hasattr(m, "RECORDS"))
    records = [event["Records"][0]["Sns"] for event in module.RECORDS]
    assert sorted(r["MessageId"] for r in records) == sorted(ids)
    assert {r["TopicArn"] for r in records} == {topic}
    assert all(r["Type"] == "Notification" and r["Subject"] == "s" for r in records)


# -- stepfunctions ---------------------------------------------------------------------------------------
def test_definition_substitutions_are_applied():
    from siren_local.stepfunctions import render_definition

    rendered = render_definition(
        {"DefinitionString": '{"a": "${Fn}"}', "DefinitionSubstitutions": {"Fn": "arn:aws:lambda:x"}}
    )
    assert json.loads(rendered) == {"a": "arn:aws:lambda:x"}
    with pytest.raises(ValueError, match="Missing"):
        render_definition({"DefinitionString": '"${Missing}"', "DefinitionSubstitutions": {"Other": "1"}})


def test_waits_timeouts_and_retries_are_time_scaled(bare_inprocess):
    from siren_local.clock import set_time_scale

    set_time_scale(3600)  # an hour of AWS time per wall-clock second
    arn = create_function(bare_inprocess, "flaky", handler="canary_handler.boom")
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": 7200, "Next": "Call"},
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arn, "Payload": {}},
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1800, "MaxAttempts": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Hold"}],
                "End": True,
            },
            "Hold": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}},
                "TimeoutSeconds": 3600,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}],
                "End": True,
            },
            "TimedOut": {"Type": "Succeed"},
        },
    }
    sqs = bare_inprocess.client("sqs")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    definition["States"]["Hold"]["Parameters"]["QueueUrl"] = queue
    sfn = bare_inprocess.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="scaled", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="e1")["executionArn"]
    # Unscaled: 2 h wait + 2 retries of 30 and 60 min + a 1 h timeout = 5.5 hours. Scaled: a few seconds.
    wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING", timeout=60)
    assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
    attempts = [i for i in bare_inprocess.lambda_runtime.invocations if i.function_name == "flaky"]
    assert len(attempts) == 3  # first try + MaxAttempts retries


def test_cloudformation_state_machines_execute(bare_inprocess):
    template = {
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/r",
                    "DefinitionString": json.dumps(
                        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"said": "${Word}"}, "End": True}}}
                    ),
                    "DefinitionSubstitutions": {"Word": "hello"},
                },
            }
        },
        "Outputs": {"Arn": {"Value": {"Ref": "Machine"}}},
    }
    cloudformation = bare_inprocess.client("cloudformation")
    cloudformation.create_stack(StackName="sm", TemplateBody=json.dumps(template))
    arn = cloudformation.describe_stacks(StackName="sm")["Stacks"][0]["Outputs"][0]["OutputValue"]
    sfn = bare_inprocess.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, name="x")["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED")
    assert json.loads(sfn.describe_execution(executionArn=execution)["output"]) == {"said": "hello"}


# -- cloudformation ---------------------------------------------------------------------------------------
def test_local_resource_types_resolve_references(bare_inprocess):
    template = {
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "siren-bus"}},
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Policy": {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {"Topics": [{"Ref": "Topic"}], "PolicyDocument": {}},
            },
            "Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {}}},
        },
        "Outputs": {
            "BusName": {"Value": {"Ref": "Bus"}},
            "CdnDomain": {"Value": {"Fn::GetAtt": ["Cdn", "DomainName"]}},
        },
    }
    cloudformation = bare_inprocess.client("cloudformation")
    cloudformation.create_stack(StackName="refs", TemplateBody=json.dumps(template))
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cloudformation.describe_stacks(StackName="refs")["Stacks"][0]["Outputs"]
    }
    assert outputs["BusName"] == "siren-bus"
    assert outputs["CdnDomain"].endswith(".cloudfront.local")


def test_cloudwatch_alarms_from_a_template_are_stored_with_their_actions(bare_inprocess):
    template = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": {"Fn::Join": ["", [{"Ref": "AWS::StackName"}, "-Errors"]]},
                    "AlarmDescription": "what to do",
                    "Namespace": "AWS/Lambda",
                    "MetricName": "Errors",
                    "Dimensions": [{"Name": "FunctionName", "Value": "ingest"}],
                    "Statistic": "Sum",
                    "Period": 60,
                    "EvaluationPeriods": 1,
                    "DatapointsToAlarm": 1,
                    "Threshold": 1,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "TreatMissingData": "notBreaching",
                    "AlarmActions": [{"Ref": "Topic"}],
                    "OKActions": [{"Ref": "Topic"}],
                },
            },
        },
        "Outputs": {"AlarmArn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}}},
    }
    cloudformation = bare_inprocess.client("cloudformation")
    cloudformation.create_stack(StackName="watched", TemplateBody=json.dumps(template))
    topic = bare_inprocess.client("sns").list_topics()["Topics"][0]["TopicArn"]

    (alarm,) = bare_inprocess.client("cloudwatch").describe_alarms(AlarmNames=["watched-Errors"])["MetricAlarms"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Threshold"]) == ("AWS/Lambda", "Errors", 1.0)
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "ingest"}]
    assert alarm["AlarmActions"] == alarm["OKActions"] == [topic]
    assert (alarm["DatapointsToAlarm"], alarm["TreatMissingData"]) == (1, "notBreaching")
    outputs = cloudformation.describe_stacks(StackName="watched")["Stacks"][0]["Outputs"]
    assert outputs[0]["OutputValue"] == alarm["AlarmArn"]


def test_unknown_resource_types_are_reported_not_skipped():
    from siren_local.cloudformation import unsupported_types

    template = {"Resources": {"X": {"Type": "AWS::Made::Up"}, "T": {"Type": "AWS::SNS::Topic"}}}
    assert unsupported_types(template) == {"AWS::Made::Up"}


# -- scheduler --------------------------------------------------------------------------------------------
def test_scheduler_fires_rate_schedules_on_the_scaled_clock(bare_inprocess):
    from siren_local.clock import set_time_scale

    set_time_scale(600)  # ten minutes per second: rate(5 minutes) fires about twice a second
    arn = create_function(bare_inprocess, "ticked")
    scheduler = bare_inprocess.client("scheduler")
    scheduler.create_schedule(
        Name="every5",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/r", "Input": '{"tick": true}'},
    )
    scheduler.create_schedule(
        Name="paused",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="DISABLED",
        Target={"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/r"},
    )
    wait_for(lambda: len([i for i in bare_inprocess.lambda_runtime.invocations if i.function_name == "ticked"]) >= 2)
    assert all("paused" not in schedule_arn for schedule_arn, _ in bare_inprocess.scheduler.fired)


# -- sms_voice and outbox ----------------------------------------------------------------------------------
def test_end_user_messaging_fake_records_and_validates(bare_http):
    client = bare_http.client("pinpoint-sms-voice-v2")
    sent = client.send_text_message(
        DestinationPhoneNumber="+14255550182", OriginationIdentity="+12065550100", MessageBody="ACK 482193"
    )
    client.send_voice_message(
        DestinationPhoneNumber="+14255550182",
        OriginationIdentity="+12065550100",
        MessageBody="<speak>Incident</speak>",
        MessageBodyTextType="SSML",
    )
    messages = bare_http.outbox_json()
    assert [(m["channel"], m["to"], m["body"]) for m in messages] == [
        ("sms", "+14255550182", "ACK 482193"),
        ("voice", "+14255550182", "<speak>Incident</speak>"),
    ]
    assert messages[0]["message_id"] == sent["MessageId"]
    # Server-side validation against the real service model (botocore would catch it client-side first):
    status, _, body = bare_http.sms_voice.handle({"X-Amz-Target": "PinpointSMSVoiceV2.SendTextMessage"}, b"{}")
    assert status == 400 and "DestinationPhoneNumber" in body


def test_end_user_messaging_failure_injection(bare_inprocess):
    bare_inprocess.sms_voice.fail_destinations = {"+14255550199"}
    client = bare_inprocess.client("pinpoint-sms-voice-v2")
    with pytest.raises(client.exceptions.InternalServerException):
        client.send_text_message(DestinationPhoneNumber="+14255550199", MessageBody="x")
    assert bare_inprocess.outbox_json() == []


def test_outbox_records_sns_sms_and_ses_email(bare_inprocess):
    bare_inprocess.client("sns").publish(PhoneNumber="+14255550182", Message="page via SNS")
    ses = bare_inprocess.client("sesv2")
    ses.create_email_identity(EmailIdentity="siren@example.com")
    ses.send_email(
        FromEmailAddress="siren@example.com",
        Destination={"ToAddresses": ["oncall@example.com"]},
        Content={"Simple": {"Subject": {"Data": "SEV2"}, "Body": {"Text": {"Data": "details"}}}},
    )
    messages = bare_inprocess.outbox_json()
    assert [(m["channel"], m["to"], m.get("subject"), m["via"]) for m in messages] == [
        ("sms", "+14255550182", None, "sns"),
        ("email", "oncall@example.com", "SEV2", "ses"),
    ]
