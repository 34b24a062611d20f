"""Encrypted SNS topics through which alerts and SMS replies arrive."""

from __future__ import annotations

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
        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", display_name="Siren alarms", master_key=self.key, enforce_ssl=True
        )
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                # Any alarm of this account (the user's own alarms point here), none of another's.
                conditions={**from_this_account, "ArnLike": {"aws:SourceArn": this_accounts_alarms}},
            )
        )
        self.inbound_sms_topic = sns.Topic(
            self, "InboundSmsTopic", display_name="Siren SMS replies", master_key=self.key, enforce_ssl=True
        )
        self.inbound_sms_topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("sms-voice.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.inbound_sms_topic.topic_arn],
                conditions=from_this_account,
            )
        )
