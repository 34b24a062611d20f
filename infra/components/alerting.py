"""Encrypted SNS topics through which alerts and SMS replies arrive."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class AlertTopics(Construct):
    """``AlarmTopic`` takes CloudWatch alarm actions; ``InboundSmsTopic`` takes two-way SMS replies."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "TopicKey",
            description="Siren: encrypts the alarm and inbound SMS topics",
            enable_key_rotation=True,
            pending_window=Duration.days(30),
        )
        # The services that publish to these topics must be able to use the key, but only on this account's behalf:
        # without the condition, another account's alarm or phone number could make them publish here (confused
        # deputy).
        from_this_account = {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
        for service in ("cloudwatch.amazonaws.com", "sms-voice.amazonaws.com"):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],  # in a key policy, "*" means this key
                    conditions=from_this_account,
                )
            )
        this_accounts_alarms = f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
        # Any alarm of this account (the user's own alarms point here), none of another's.
        self.alarm_topic = self._topic(
            "AlarmTopic",
            "Siren alarms",
            "cloudwatch.amazonaws.com",
            {**from_this_account, "ArnLike": {"aws:SourceArn": this_accounts_alarms}},
        )
        self.inbound_sms_topic = self._topic(
            "InboundSmsTopic", "Siren SMS replies", "sms-voice.amazonaws.com", from_this_account
        )

    def _topic(self, construct_id: str, display_name: str, publisher: str, conditions: dict[str, Any]) -> sns.Topic:
        """A topic encrypted with the key, that only ``publisher`` (a service principal) may publish to, and only
        under ``conditions``."""
        topic = sns.Topic(self, construct_id, display_name=display_name, master_key=self.key, enforce_ssl=True)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(publisher)],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=conditions,
            )
        )
        return topic
