"""Canaries for the adapters the ingest path needs: function URLs, Secrets Manager secrets, DynamoDB stream event
source mappings and Lambda layers at /opt. Each fails loudly if a moto upgrade moves what its adapter patches.

They run on the in-process transport unless the behaviour is HTTP's own.
"""

from __future__ import annotations

import io
import json
import string
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.local.test_adapter_canaries import create_function

ACCOUNT, REGION = "123456789012", "us-east-1"


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def create_stack(runtime: Any, name: str, template: dict[str, Any]) -> dict[str, str]:
    cloudformation = runtime.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def captured(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# -- function_urls ----------------------------------------------------------------------------------------
URL_HANDLERS = """
import json
def echo(event, context):
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Siren": "yes"},
        "body": json.dumps(event),
        "cookies": ["session=abc; Path=/", "theme=dark"],
    }
def plain(event, context):
    return {"received": event.get("body"), "base64": event["isBase64Encoded"]}
def boom(event, context):
    raise RuntimeError("webhook handler failed")
"""


def test_function_url_from_template_invokes_with_a_v2_event_and_maps_the_response(bare_inprocess):
    arn = create_function(bare_inprocess, "webhook", handler="canary_handler.echo", source=URL_HANDLERS)
    outputs = create_stack(
        bare_inprocess,
        "hooks",
        {
            "Resources": {
                "Url": {"Type": "AWS::Lambda::Url", "Properties": {"TargetFunctionArn": arn, "AuthType": "NONE"}}
            },
            "Outputs": {"WebhookUrl": {"Value": {"Fn::GetAtt": ["Url", "FunctionUrl"]}}},
        },
    )
    url = outputs["WebhookUrl"]
    assert url.startswith("in-process:///_siren/function-url/") and url.endswith("/")
    assert bare_inprocess.client("lambda").get_function_url_config(FunctionName="webhook")["FunctionUrl"] == url

    response = bare_inprocess.call_function_url(
        url + "alerts/grafana?team=payments&team=checkout&dry",
        "POST",
        headers=[
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer t0ken"),
            ("X-Multi", "a"),
            ("X-Multi", "b"),
            ("Cookie", "c1=v1; c2=v2"),
            ("User-Agent", "canary/1"),
        ],
        body=json.dumps({"title": "5xx"}),
    )
    assert response.status == 201
    assert response.header("X-Siren") == "yes" and response.header("Content-Type") == "application/json"
    assert response.header_values("Set-Cookie") == ["session=abc; Path=/", "theme=dark"]

    event = response.json()
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/alerts/grafana"
    assert event["rawQueryString"] == "team=payments&team=checkout&dry"
    assert event["queryStringParameters"] == {"team": "payments,checkout", "dry": ""}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert all(name == name.lower() for name in event["headers"])
    assert event["headers"]["authorization"] == "Bearer t0ken" and event["headers"]["x-multi"] == "a,b"
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"title": "5xx"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    assert context["apiId"] == context["domainPrefix"] == url_id
    assert context["domainName"] == f"{url_id}.lambda-url.{REGION}.on.aws"
    assert context["http"] == {
        "method": "POST",
        "path": "/alerts/grafana",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "canary/1",
    }
    assert context["routeKey"] == context["stage"] == "$default"
    assert context["accountId"] == "anonymous" and isinstance(context["timeEpoch"], int) and context["requestId"]


def test_function_url_over_http_infers_responses_maps_errors_and_limits_payloads(bare_http):
    client = bare_http.client("lambda")
    for name, handler in (("hook-plain", "canary_handler.plain"), ("hook-boom", "canary_handler.boom")):
        create_function(bare_http, name, handler=handler, source=URL_HANDLERS)
        client.create_function_url_config(FunctionName=name, AuthType="NONE")
    plain_url = client.get_function_url_config(FunctionName="hook-plain")["FunctionUrl"]
    assert plain_url.startswith(f"{bare_http.endpoint_url}/_siren/function-url/")

    def request(url: str, body: bytes | None = None, content_type: str = "application/octet-stream") -> Any:
        req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
        req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    # A result without statusCode: 200, JSON, the result itself. Binary bodies arrive base64-encoded.
    status, headers, body = request(plain_url + "deep/path", b"\x00\x01binary")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"received": "AAFiaW5hcnk=", "base64": True}

    status, _, body = request(client.get_function_url_config(FunctionName="hook-boom")["FunctionUrl"], b"{}")
    assert (status, json.loads(body)) == (502, {"Message": "Internal Server Error"})

    calls = len(bare_http.lambda_runtime.invocations)
    status, _, _ = request(plain_url, b"x" * (6 * 1024 * 1024 + 1))
    assert status == 413
    assert len(bare_http.lambda_runtime.invocations) == calls  # never invoked

    client.delete_function_url_config(FunctionName="hook-plain")
    assert request(plain_url)[0] == 403


# -- secretsmanager ---------------------------------------------------------------------------------------
def test_secrets_from_template_are_generated_as_asked_and_feed_info(bare_inprocess, tmp_path):
    template = {
        "Resources": {
            "WebhookToken": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Description": "bearer token",
                    "GenerateSecretString": {"PasswordLength": 40, "ExcludePunctuation": True},
                },
            },
            "DbLogin": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "GenerateSecretString": {
                        "SecretStringTemplate": '{"username": "siren"}',
                        "GenerateStringKey": "password",
                        "PasswordLength": 12,
                        "ExcludeCharacters": "abcdefABCDEF0123",
                        "IncludeSpace": True,
                    }
                },
            },
            "Fixed": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {"Name": "siren/fixed", "SecretString": "s3cret", "KmsKeyId": "alias/siren"},
            },
            "Rotation": {
                "Type": "AWS::SecretsManager::RotationSchedule",
                "Properties": {"SecretId": {"Ref": "Fixed"}, "RotationRules": {"AutomaticallyAfterDays": 30}},
            },
        },
        "Outputs": {
            "WebhookTokenSecretArn": {"Value": {"Ref": "WebhookToken"}},
            "DbLoginArn": {"Value": {"Fn::GetAtt": ["DbLogin", "Id"]}},
            "FixedArn": {"Value": {"Ref": "Fixed"}},
            "RotationRef": {"Value": {"Ref": "Rotation"}},
        },
    }
    # Deployed the way `siren local up` deploys the real stack, so info() reads the webhook token from it.
    (tmp_path / "Hooks.template.json").write_text(json.dumps(template))
    (tmp_path / "Hooks.assets.json").write_text(json.dumps({"version": "36.0.0", "files": {}}))
    outputs = bare_inprocess.deploy(tmp_path, "Hooks").outputs

    token = bare_inprocess.info("Hooks")["webhook_token"]
    assert outputs["WebhookTokenSecretArn"].startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:")
    assert len(token) == 40 and not set(token) & set(string.punctuation) and " " not in token
    # RequireEachIncludedType defaults to true: a lower-case letter, an upper-case letter and a digit at least.
    assert all(set(token) & set(kind) for kind in (string.ascii_lowercase, string.ascii_uppercase, string.digits))

    secrets = bare_inprocess.client("secretsmanager")
    login = json.loads(secrets.get_secret_value(SecretId=outputs["DbLoginArn"])["SecretString"])
    assert login["username"] == "siren" and len(login["password"]) == 12
    assert not set(login["password"]) & set("abcdefABCDEF0123")

    fixed = secrets.describe_secret(SecretId=outputs["FixedArn"])
    assert fixed["Name"] == "siren/fixed" and fixed["KmsKeyId"] == "alias/siren"
    assert secrets.get_secret_value(SecretId="siren/fixed")["SecretString"] == "s3cret"
    assert outputs["RotationRef"] == outputs["FixedArn"]


def test_random_password_follows_secrets_manager_rules():
    from siren_local.secretsmanager import generate_secret_string, random_password

    for _ in range(50):
        password = random_password(4, exclude_characters="xyz")
        assert len(password) == 4 and not set(password) & set("xyz")
        kinds = (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation)
        assert all(set(password) & set(kind) for kind in kinds)
    assert set(random_password(30, exclude_numbers=True, exclude_uppercase=True, exclude_punctuation=True)) <= set(
        string.ascii_lowercase
    )
    with pytest.raises(ValueError, match="too short"):
        random_password(3)
    with pytest.raises(ValueError, match="GenerateStringKey"):
        generate_secret_string({"SecretStringTemplate": "{}"})


# -- dynamodb_streams -------------------------------------------------------------------------------------
CONSUMER = """
import json, os
def handler(event, context):
    with open(os.environ["CAPTURE"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    for record in event["Records"]:
        if "poison" in record["dynamodb"].get("NewImage", {}):
            raise ValueError("cannot publish " + record["dynamodb"]["SequenceNumber"])
    return {}
"""

TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {
        "TableName": "siren-outbox",
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
    },
}


def put_requests(items: list[dict[str, str]]) -> dict[str, Any]:
    return {"siren-outbox": [{"PutRequest": {"Item": {k: {"S": v} for k, v in item.items()}}} for item in items]}


def test_stream_records_reach_the_consumer_in_order_filtered_and_batched(bare_inprocess, tmp_path):
    capture = tmp_path / "seen.jsonl"
    create_function(bare_inprocess, "publisher", source=CONSUMER, env={"CAPTURE": str(capture)})
    only_events = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["event"]}}}}
    outputs = create_stack(
        bare_inprocess,
        "outbox",
        {
            "Resources": {
                "Table": TABLE,
                "Publisher": {
                    "Type": "AWS::Lambda::EventSourceMapping",
                    "Properties": {
                        "FunctionName": "publisher",
                        "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]},
                        "StartingPosition": "LATEST",
                        "BatchSize": 2,
                        "MaximumBatchingWindowInSeconds": 300,
                        "FilterCriteria": {"Filters": [{"Pattern": json.dumps(only_events)}]},
                    },
                },
            },
            "Outputs": {"StreamArn": {"Value": {"Fn::GetAtt": ["Table", "StreamArn"]}}},
        },
    )
    dynamodb = bare_inprocess.client("dynamodb")
    items = [{"pk": "incident#1", "sk": f"event#{n}", "kind": "event", "n": str(n)} for n in range(5)]
    items[1:1] = [{"pk": "incident#1", "sk": "state", "kind": "state", "n": "x"}]  # filtered out: not an event
    dynamodb.batch_write_item(RequestItems=put_requests(items))
    dynamodb.update_item(  # a MODIFY of an event item: filtered out
        TableName="siren-outbox",
        Key={"pk": {"S": "incident#1"}, "sk": {"S": "event#0"}},
        UpdateExpression="SET published = :t",
        ExpressionAttributeValues={":t": {"S": "yes"}},
    )
    assert bare_inprocess.drain(30)

    batches = [event["Records"] for event in captured(capture)]
    assert [len(batch) for batch in batches] == [2, 2, 1]  # BatchSize 2; the last waits out the window
    records = [record for batch in batches for record in batch]
    assert [r["dynamodb"]["NewImage"]["n"]["S"] for r in records] == ["0", "1", "2", "3", "4"]
    sequence_numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence_numbers == sorted(sequence_numbers)
    first = records[0]
    assert {k: first[k] for k in ("eventName", "eventVersion", "eventSource", "awsRegion", "eventSourceARN")} == {
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "eventSourceARN": outputs["StreamArn"],
    }
    assert first["dynamodb"]["Keys"] == {"pk": {"S": "incident#1"}, "sk": {"S": "event#0"}}
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES" and "OldImage" not in first["dynamodb"]
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], float)
    assert isinstance(first["dynamodb"]["SizeBytes"], int) and first["eventID"]

    # moto emptied the shard once a consumer took the records; GetRecords still sees every write here. (botocore
    # sends stream-ARN calls to account endpoints, <account>.streams-ddb..., which moto does not intercept.)
    streams = boto3.client(
        "dynamodbstreams",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(account_id_endpoint_mode="disabled"),
    )
    shard = streams.describe_stream(StreamArn=outputs["StreamArn"])["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=outputs["StreamArn"], ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert len(streams.get_records(ShardIterator=iterator)["Records"]) == 7


def create_outbox_table(runtime: Any) -> str:
    outputs = create_stack(
        runtime,
        "outbox",
        {"Resources": {"Table": TABLE}, "Outputs": {"StreamArn": {"Value": {"Fn::GetAtt": ["Table", "StreamArn"]}}}},
    )
    return outputs["StreamArn"]


def failure_queue(runtime: Any) -> tuple[str, str]:
    sqs = runtime.client("sqs")
    url = sqs.create_queue(QueueName="publisher-failures")["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def test_failing_stream_consumer_retries_then_sends_the_batch_to_the_on_failure_queue(bare_inprocess, tmp_path):
    capture = tmp_path / "seen.jsonl"
    create_function(bare_inprocess, "publisher", source=CONSUMER, env={"CAPTURE": str(capture)})
    stream_arn = create_outbox_table(bare_inprocess)
    queue_url, queue_arn = failure_queue(bare_inprocess)
    dynamodb = bare_inprocess.client("dynamodb")
    # Written before the mapping exists: TRIM_HORIZON starts with it.
    dynamodb.put_item(TableName="siren-outbox", Item={"pk": {"S": "i"}, "sk": {"S": "1"}, "poison": {"S": "y"}})
    bare_inprocess.client("lambda").create_event_source_mapping(
        FunctionName="publisher",
        EventSourceArn=stream_arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    assert bare_inprocess.drain(30)

    attempts = captured(capture)
    poison_sequence = attempts[0]["Records"][0]["dynamodb"]["SequenceNumber"]
    assert len(attempts) == 3  # the first try and MaximumRetryAttempts retries, always the same batch
    assert all([r["dynamodb"]["SequenceNumber"] for r in a["Records"]] == [poison_sequence] for a in attempts)

    sqs = bare_inprocess.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    failure = json.loads(messages[0]["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["requestContext"]["functionArn"].endswith(":function:publisher")
    info = failure["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        poison_sequence,
        poison_sequence,
        1,
    )
    assert info["streamArn"] == stream_arn

    # The mapping moved on: the next record is delivered.
    dynamodb.put_item(TableName="siren-outbox", Item={"pk": {"S": "i"}, "sk": {"S": "2"}, "ok": {"S": "y"}})
    assert bare_inprocess.drain(30)
    assert captured(capture)[-1]["Records"][0]["dynamodb"]["Keys"]["sk"] == {"S": "2"}


def test_unlimited_retries_stop_when_the_record_is_too_old(bare_inprocess, tmp_path):
    capture = tmp_path / "seen.jsonl"
    create_function(bare_inprocess, "publisher", source=CONSUMER, env={"CAPTURE": str(capture)})
    stream_arn = create_outbox_table(bare_inprocess)
    queue_url, queue_arn = failure_queue(bare_inprocess)
    bare_inprocess.client("lambda").create_event_source_mapping(
        FunctionName="publisher",
        EventSourceArn=stream_arn,
        StartingPosition="LATEST",
        MaximumRetryAttempts=-1,
        MaximumRecordAgeInSeconds=3600,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    bare_inprocess.client("dynamodb").put_item(
        TableName="siren-outbox", Item={"pk": {"S": "i"}, "sk": {"S": "1"}, "poison": {"S": "y"}}
    )
    # An hour of AWS time (six seconds here): retried with backoff, then given up.
    assert bare_inprocess.drain(60)

    # How many retries fit into the hour depends on how fast this machine runs the consumer; several must.
    assert len(captured(capture)) >= 2
    (message,) = bare_inprocess.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(message["Body"])["requestContext"]["condition"] == "RecordAgeExceeded"


def test_bisect_on_function_error_isolates_the_failing_record(bare_inprocess, tmp_path):
    capture = tmp_path / "seen.jsonl"
    create_function(bare_inprocess, "publisher", source=CONSUMER, env={"CAPTURE": str(capture)})
    stream_arn = create_outbox_table(bare_inprocess)
    queue_url, queue_arn = failure_queue(bare_inprocess)
    items = [{"pk": "i", "sk": str(n)} for n in range(4)]
    items[2]["poison"] = "y"
    bare_inprocess.client("dynamodb").batch_write_item(RequestItems=put_requests(items))
    bare_inprocess.client("lambda").create_event_source_mapping(
        FunctionName="publisher",
        EventSourceArn=stream_arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        MaximumRetryAttempts=0,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    assert bare_inprocess.drain(30)

    keys = [[r["dynamodb"]["Keys"]["sk"]["S"] for r in event["Records"]] for event in captured(capture)]
    assert keys == [["0", "1", "2", "3"], ["0", "1"], ["2", "3"], ["2"], ["3"]]
    messages = bare_inprocess.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
    assert [json.loads(m["Body"])["DDBStreamBatchInfo"]["batchSize"] for m in messages] == [1]


# -- layers -----------------------------------------------------------------------------------------------
LAYER_READER = """
import os
def handler(event, context):
    with open(os.environ["SIREN_CONFIG_PATH"]) as config, open(os.environ["SHARED"]) as shared:
        return {"config": config.read(), "shared": shared.read(), "opt": os.environ["OPT"],
                "opt_is_dir": os.path.isdir(os.environ["OPT"]), "other": os.environ["OTHER"]}
"""


def test_layer_files_are_readable_at_paths_named_by_opt_env_vars(bare_inprocess):
    client = bare_inprocess.client("lambda")
    config_layer = client.publish_layer_version(
        LayerName="siren-config",
        Content={"ZipFile": zip_of({"siren-config/config.json": '{"team": "payments"}', "shared.txt": "first"})},
    )["LayerVersionArn"]
    override_layer = client.publish_layer_version(
        LayerName="override", Content={"ZipFile": zip_of({"shared.txt": "second"})}
    )["LayerVersionArn"]
    iam = bare_inprocess.client("iam")
    role = iam.create_role(RoleName="layered-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client.create_function(
        FunctionName="layered",
        Runtime="python3.13",
        Role=role,
        Handler="reader.handler",
        Code={"ZipFile": zip_of({"reader.py": LAYER_READER})},
        Layers=[config_layer, override_layer],
        Environment={
            "Variables": {
                "SIREN_CONFIG_PATH": "/opt/siren-config/config.json",
                "SHARED": "/opt/shared.txt",
                "OPT": "/opt",
                "OTHER": "/optional/not-a-layer-path",
            }
        },
    )
    result = json.loads(client.invoke(FunctionName="layered", Payload=b"{}")["Payload"].read())
    assert result["config"] == '{"team": "payments"}'
    assert result["shared"] == "second"  # layers are extracted in order: the later one wins
    assert result["opt_is_dir"] and not result["opt"].startswith("/opt")
    assert result["other"] == "/optional/not-a-layer-path"


def test_template_layers_reach_functions(bare_inprocess):
    s3 = bare_inprocess.client("s3")
    s3.create_bucket(Bucket="assets")
    s3.put_object(Bucket="assets", Key="config.zip", Body=zip_of({"siren-config/config.json": '{"from": "cfn"}'}))
    role = bare_inprocess.client("iam").create_role(RoleName="cfn-layered", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    reader = "import os\ndef handler(event, context):\n    return open(os.environ['SIREN_CONFIG_PATH']).read()\n"
    template = {
        "Resources": {
            "Config": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {"LayerName": "siren-config", "Content": {"S3Bucket": "assets", "S3Key": "config.zip"}},
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "cfn-layered",
                    "Runtime": "python3.13",
                    "Handler": "index.handler",
                    "Role": role,
                    "Code": {"ZipFile": reader},
                    "Layers": [{"Ref": "Config"}],
                    "DeadLetterConfig": {"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"},
                    "Environment": {"Variables": {"SIREN_CONFIG_PATH": "/opt/siren-config/config.json"}},
                },
            },
        },
        "Outputs": {"LayerArn": {"Value": {"Ref": "Config"}}},
    }
    outputs = create_stack(bare_inprocess, "layered", template)
    assert outputs["LayerArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:siren-config:1"
    client = bare_inprocess.client("lambda")
    assert [layer["Arn"] for layer in client.get_function(FunctionName="cfn-layered")["Configuration"]["Layers"]] == [
        outputs["LayerArn"]
    ]
    assert json.loads(client.invoke(FunctionName="cfn-layered", Payload=b"{}")["Payload"].read()) == '{"from": "cfn"}'

    from moto.awslambda.utils import get_backend

    function = get_backend(ACCOUNT, REGION).get_function("cfn-layered")
    assert function.siren_dead_letter_arn == f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"  # moto's CloudFormation drops it
