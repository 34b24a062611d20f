"""Two-way SMS replies as AWS End User Messaging publishes them to the inbound SNS topic."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
# The number Siren pages from locally (its origination identity); replies are addressed to it.
LOCAL_ORIGINATION_NUMBER = "+12065550100"


def inbound_sms_message(
    origination_number: str, body: str, destination_number: str = LOCAL_ORIGINATION_NUMBER
) -> dict[str, Any]:
    if not E164.match(origination_number):
        raise ValueError(f"{origination_number!r} is not an E.164 phone number (like +14255550182)")
    keyword = body.strip().split(" ", 1)[0].upper() if body.strip() else ""
    return {
        "originationNumber": origination_number,
        "destinationNumber": destination_number,
        "messageKeyword": keyword,
        "messageBody": body,
        "inboundMessageId": str(uuid.uuid4()),
        "previousPublishedMessageId": str(uuid.uuid4()),
    }


def publish_sms_reply(clients: Any, topic_arn: str, origination_number: str, body: str) -> dict[str, Any]:
    message = inbound_sms_message(origination_number, body)
    clients("sns").publish(TopicArn=topic_arn, Message=json.dumps(message))
    return message
