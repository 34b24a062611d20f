"""What a deploy no longer pays for changes nothing a stack or a key shows (siren_local/deploy_costs.py).

GIVEN the shortcuts installed, WHEN stacks are created from JSON and from YAML templates and KMS keys are made and
used, THEN JSON is read without PyYAML, YAML (tags included) still is read by it, a symmetric key's RSA key is
made only when something asks for it, and an asymmetric key still signs and verifies.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
import yaml

from siren_local import deploy_costs

TEMPLATE = {
    "Parameters": {"Suffix": {"Type": "String", "Default": "a"}},
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "t-${Suffix}"}}}},
    "Outputs": {"Arn": {"Value": {"Ref": "Topic"}}},
}
YAML_TEMPLATE = """
Parameters:
  Suffix: {Type: String, Default: b}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "t-${Suffix}"
Outputs:
  Arn:
    Value: !Ref Topic
"""


@pytest.fixture
def runtime(bare_inprocess: Any) -> Any:
    deploy_costs.install()
    return bare_inprocess


def outputs(runtime: Any, name: str, body: str) -> dict[str, str]:
    cloudformation = runtime.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=body)
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_a_json_template_is_read_as_json_and_a_yaml_one_still_by_pyyaml(runtime: Any) -> None:
    with mock.patch.object(yaml, "load", wraps=yaml.load) as pyyaml:
        from_json = outputs(runtime, "from-json", json.dumps(TEMPLATE))
        assert pyyaml.call_count == 0

        from_yaml = outputs(runtime, "from-yaml", YAML_TEMPLATE)
        assert pyyaml.call_count >= 1

    assert from_json["Arn"].endswith(":t-a")
    assert from_yaml["Arn"].endswith(":t-b")


def test_a_symmetric_keys_private_key_is_made_on_first_use_and_asymmetric_keys_still_sign(runtime: Any) -> None:
    from moto.kms.models import kms_backends

    kms = runtime.client("kms")
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]

    backend = kms_backends["123456789012"][runtime.region]
    assert isinstance(backend.keys[symmetric].private_key, deploy_costs.PrivateKeyOnFirstUse)
    assert backend.keys[symmetric].private_key._key is None  # no RSA key generated for it yet
    assert not isinstance(backend.keys[signing].private_key, deploy_costs.PrivateKeyOnFirstUse)

    # encryption with the symmetric key does not need it; moto's public key of it is made when asked for
    ciphertext = kms.encrypt(KeyId=symmetric, Plaintext=b"page")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"page"
    assert backend.keys[symmetric].private_key._key is None
    first = kms.get_public_key(KeyId=symmetric)["PublicKey"]
    assert first == kms.get_public_key(KeyId=symmetric)["PublicKey"]  # one key, made once

    signature = kms.sign(KeyId=signing, Message=b"page", MessageType="RAW", SigningAlgorithm="RSASSA_PSS_SHA_256")[
        "Signature"
    ]
    verified = kms.verify(
        KeyId=signing,
        Message=b"page",
        MessageType="RAW",
        Signature=signature,
        SigningAlgorithm="RSASSA_PSS_SHA_256",
    )
    assert verified["SignatureValid"]
