"""The front door: CloudWatch alarm events (and, later, SNS alarm actions and webhooks) into the store."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.functions import SirenFunction
from infra.nag import acknowledge_index_queries


class Ingest(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layer: lambda_.ILayerVersion,
        table: dynamodb.Table,
        bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        # Events that could not be delivered after EventBridge's retries are kept here, never dropped.
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.alarm_events = SirenFunction(
            self,
            "AlarmEvents",
            package="ingest",
            handler="ingest_handlers.cloudwatch_alarm_event",
            layer=layer,
            description="Siren ingest: CloudWatch alarm state changes from EventBridge",
            environment={"TABLE_NAME": table.table_name, "EVENT_BUS_NAME": bus.event_bus_name},
        )
        table.grant_read_write_data(self.alarm_events.function)
        acknowledge_index_queries(self.alarm_events.role, table)
        bus.grant_put_events_to(self.alarm_events.function)
        self.alarm_rule = events.Rule(
            self,
            "AlarmStateChangeRule",
            description="CloudWatch alarm state changes into Siren",
            event_pattern=events.EventPattern(source=["aws.cloudwatch"], detail_type=["CloudWatch Alarm State Change"]),
            targets=[
                targets.LambdaFunction(
                    self.alarm_events.function,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            ],
        )
