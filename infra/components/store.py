"""The incident store: one DynamoDB table, typed item kinds, the indexes the reads need (never a Scan)."""

from __future__ import annotations

from enum import StrEnum

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

# Item attributes that the indexes key on; the store adapter (siren.adapters.dynamodb) writes them.
TTL_ATTRIBUTE = "expires_at"
INDEXES = {
    # name: (partition key, sort key)
    "by-status": ("status_pk", "opened_at"),
    "by-service": ("service_pk", "opened_at"),
    "by-time": ("month_pk", "opened_at"),
    # Sparse: only timeline entries of pages sent and escalations carry activity_pk (reports: on-call load).
    "by-activity": ("activity_pk", "at"),
}


class ItemFamily(StrEnum):
    """The partition keys of each family of items (siren.adapters.dynamodb), as ``dynamodb:LeadingKeys`` patterns.

    A function is granted the families it touches (infra.components.functions.grant_table_items), so a new family
    in the store adapter is a new member here: tests/infra/test_scoped_iam.py fails until it is.
    """

    INCIDENT = "INC#*"  # the incident (META), its timeline (TL#...), its escalation's token, code and sends
    DEDUP_KEY = "KEY#*"  # a dedup key's state
    RAW_ALERT = "ALERT#*"  # a delivery's raw payload (its idempotency guard)
    EVENT = "EVENT#*"  # the lifecycle event outbox (the stream relays it)
    ACK_CODE = "ACKCODE#*"  # an acknowledgement code's incident and paged numbers
    LINK_NONCE = "LINKNONCE#*"  # a used acknowledgement link
    SMS_REPLY = "SMSREPLY#*"  # a number's SMS answer window
    REQUEST_RATE = "RATE#*"  # a webhook sender's request count in a window (siren.adapters.rate_limits)
    STATUS_PAGE = "STATUSPAGE"  # component overrides, maintenance windows, the publish lease
    ACTION_ITEMS = "ACTIONS"  # postmortem action items
    HEARTBEATS = "HEARTBEATS"  # users' heartbeats
    CANARY = "CANARY"  # Siren's own canary heartbeat
    CHANGE = "CHANGE#*"  # a service's recent changes (PagerDuty change events), by time; TTL
    SUBSCRIBERS = "SUBSCRIBERS"  # status page subscribers (pending ones with a TTL); never on the public bucket
    NOTICE = "NOTICE#*"  # how far the mailing of one piece of news to the subscribers got; TTL
    SLACK_MESSAGE = "SLACKMSG#*"  # where an incident's Slack message is, its thread's replies, its channel


class IncidentStoreTable(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=TTL_ATTRIBUTE,
            # The stream carries lifecycle events (transactional outbox) to the publisher.
            stream=dynamodb.StreamViewType.NEW_IMAGE,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index_name, (partition, sort) in INDEXES.items():
            self.table.add_global_secondary_index(
                index_name=index_name,
                partition_key=dynamodb.Attribute(name=partition, type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=sort, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
