"""SNS -> Lambda deliveries with AWS's event shape, asynchronously.

moto 5.2.5 invokes the function synchronously inside Publish with a fixed, fake record (MessageId
"95df01b4-...", TopicArn "arn:aws:sns:EXAMPLE", made-up MessageAttributes). Siren deduplicates on the SNS
MessageId and reads the TopicArn, so :func:`_publish` builds the record AWS sends: the real message id,
topic and subscription ARNs, timestamp, subject and message attributes, and hands it to the in-process
Lambda runtime as an asynchronous invocation (retries, then the function's dead-letter queue).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from moto.sns import models as sns_models

from siren_local.lambda_runtime import active_runtime
from siren_local.outbox import active_outbox

_original_publish = sns_models.Subscription.publish


def lambda_record(
    subscription: Any,
    message: str,
    message_id: str,
    subject: str | None,
    message_attributes: dict[str, Any] | None,
) -> dict[str, Any]:
    attributes = {
        name: {
            "Type": value.get("DataType", "String"),
            "Value": value.get("StringValue", value.get("BinaryValue", value.get("Value"))),
        }
        for name, value in (message_attributes or {}).items()
    }
    region = subscription.topic.arn.split(":")[3]
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": subscription.topic.arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z",
                    "SignatureVersion": "1",
                    "Signature": "LOCAL",
                    "SigningCertUrl": f"https://sns.{region}.amazonaws.com/local.pem",
                    "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                    f"&SubscriptionArn={subscription.arn}",
                    "MessageAttributes": attributes,
                },
            }
        ]
    }


def _publish(
    self: Any,
    message: str,
    message_id: str,
    subject: str | None = None,
    message_attributes: dict[str, Any] | None = None,
    *args: Any,
    **kwargs: Any,
) -> None:
    if self.protocol in ("sms", "email", "email-json"):
        return _deliver_to_person(self, message, message_id, subject, message_attributes, **kwargs)
    if self.protocol != "lambda":
        return _original_publish(self, message, message_id, subject, message_attributes, *args, **kwargs)
    if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(message_attributes, message):
        return None
    if kwargs.get("message_structure") == "json":
        message = self._parse_message_structure(message, self.protocol)
    from moto.awslambda.utils import get_backend

    _, _, _, region, account, _ = self.endpoint.split(":", 5)
    function = get_backend(account, region).get_function(self.endpoint)
    active_runtime().invoke_async(function, lambda_record(self, message, message_id, subject, message_attributes))
    return None


def _deliver_to_person(
    subscription: Any,
    message: str,
    message_id: str,
    subject: str | None,
    message_attributes: dict[str, Any] | None,
    **kwargs: Any,
) -> None:
    """A topic's SMS or email subscriber gets the message: recorded in the outbox (moto does nothing with these
    protocols). Subscriptions count as confirmed: there is no one to click the confirmation link locally."""
    if subscription._filter_policy_matcher is not None and not subscription._filter_policy_matcher.matches(
        message_attributes, message
    ):
        return None
    if kwargs.get("message_structure") == "json":
        message = subscription._parse_message_structure(message, subscription.protocol)
    outbox = active_outbox()
    if outbox is None:
        return None
    channel = "sms" if subscription.protocol == "sms" else "email"
    outbox.record(
        channel=channel,
        to=subscription.endpoint,
        body=message,
        via="sns-topic",
        subject=subject if channel == "email" else None,
        topic=subscription.topic.arn,
        message_id=message_id,
    )
    return None


def install() -> None:
    setattr(sns_models.Subscription, "publish", _publish)  # noqa: B010
