"""Fault injection on the in-process transport (moto's interception): the same faults as over HTTP.

Its own module: the HTTP canaries share one runtime for their module, and one runtime runs at a time per process.
"""

from __future__ import annotations

import pytest

from tests.local.test_faults_local import PAGED, client, error_of


def test_in_process_clients_meet_the_same_faults(bare_inprocess):
    bare_inprocess.add_fault("dynamodb", mode="throttle")
    ddb = client(bare_inprocess, "dynamodb")
    assert error_of(lambda: ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})) == (
        "ProvisionedThroughputExceededException",
        400,
    )
    sms = client(bare_inprocess, "pinpoint-sms-voice-v2")
    bare_inprocess.add_fault("sms-voice", mode="throttle")
    assert error_of(lambda: sms.send_text_message(DestinationPhoneNumber=PAGED, MessageBody="x")) == (
        "ThrottlingException",
        400,
    )


def test_in_process_a_hang_ends_in_the_sdks_read_timeout(bare_inprocess):
    from botocore.exceptions import ReadTimeoutError

    bare_inprocess.add_fault("sns", hang_seconds=6)  # scaled: 10 ms
    with pytest.raises(ReadTimeoutError):
        client(bare_inprocess, "sns").publish(PhoneNumber=PAGED, Message="x")
