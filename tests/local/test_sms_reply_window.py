"""The store's SMS reply window (DynamoAckCodes.claim_sms_reply) against DynamoDB in the embedded local AWS: one
reply a minute to a number, decided by a conditional put that reads the expiry itself (TTL deletes late)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from siren.adapters.dynamodb import DynamoAckCodes

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TABLE = "SmsReplyWindow"


def test_one_reply_a_minute_to_a_number(bare_inprocess):
    dynamodb = bare_inprocess.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    codes = DynamoAckCodes(TABLE)

    assert codes.claim_sms_reply("+14255559999", NOW) is True
    assert codes.claim_sms_reply("+14255559999", NOW + timedelta(seconds=59)) is False
    assert codes.claim_sms_reply("+14255550182", NOW + timedelta(seconds=1)) is True  # each number its own minute
    # the item is still there (TTL has not run): the condition reads its expiry
    assert codes.claim_sms_reply("+14255559999", NOW + timedelta(seconds=60)) is True
    assert codes.claim_sms_reply("+14255559999", NOW + timedelta(seconds=61)) is False

    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "SMSREPLY#+14255559999"}, "sk": {"S": "WINDOW"}})
    assert item["Item"]["kind"] == {"S": "sms_reply"}
    assert item["Item"]["expires_at"] == {"N": str(int((NOW + timedelta(seconds=120)).timestamp()))}
