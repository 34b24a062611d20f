"""The front door: CloudWatch alarms (EventBridge, SNS and direct Lambda alarm actions), webhooks, and the lifecycle
event publisher."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Aws, CfnElement, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.buckets import private_bucket
from infra.components.functions import SirenFunction, grant_table_items
from infra.components.pipeline import Pipeline, escalation_machine_arn
from infra.components.secrets import generated_secret
from infra.components.store import ItemFamily
from infra.nag import acknowledge, acknowledge_invoke_versions
from siren.adapters.webhook_queue import BODY_RETENTION_DAYS
from siren.app.intake import REQUESTS_PER_MINUTE
from siren.domain.parsers import CLOUDWATCH_DETAIL_TYPES

# What the webhook keeps of a queued request: its body, under this prefix of the bodies bucket.
WEBHOOK_BODY_PREFIX = "webhook/"
# A chunk is at most siren.app.intake.CHUNK_ALERTS alerts, a few seconds of work: this leaves room for a slow store.
CHUNK_TIMEOUT_SECONDS = 120


class Ingest(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        pipeline: Pipeline,
        *,
        alarm_topic: sns.ITopic,
        access_logs: s3.IBucket | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        base, table, bus = pipeline.base, pipeline.table, pipeline.bus
        # Refused alerts and deliveries that failed every retry are kept here, with the reason; never dropped.
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        machine_arn = escalation_machine_arn(self)
        common = {
            "TABLE_NAME": table.table_name,
            # Every ingest function starts the escalation of an incident it opened at once, and ends the wait of
            # one it resolved, ahead of the relayed lifecycle event (which stays the guarantee).
            "ESCALATION_STATE_MACHINE_ARN": machine_arn,
            "EVENT_BUS_NAME": bus.event_bus_name,
            "DEAD_LETTER_QUEUE_URL": self.dead_letters.queue_url,
        }

        def ingest_function(
            name: str, handler: str, description: str, timeout_seconds: int = 30, **env: str
        ) -> SirenFunction:
            function = SirenFunction(
                self,
                name,
                package="ingest",
                handler=f"ingest_handlers.{handler}",
                base=base,
                environment={**common, **env},
                description=description,
                dead_letter_queue=self.dead_letters,
                timeout_seconds=timeout_seconds,
            )
            # Signals into incidents (siren.app.ingest): read the key's state and the incident, then write the raw
            # alert, the incident, the key's state, the timeline and the lifecycle events in one transaction (its
            # Puts and Updates are authorized item by item). No Query, no Delete, nothing of other families.
            grant_table_items(
                function,
                table,
                actions=["GetItem", "PutItem", "UpdateItem"],
                leading_keys=[ItemFamily.INCIDENT, ItemFamily.DEDUP_KEY, ItemFamily.RAW_ALERT, ItemFamily.EVENT],
            )
            self.dead_letters.grant_send_messages(function.function)
            starts_and_ends = ["states:StartExecution", "states:SendTaskSuccess"]
            function.role.add_to_policy(iam.PolicyStatement(actions=starts_and_ends, resources=[machine_arn]))
            return function

        self.alarm_events = ingest_function(
            "AlarmEvents", "cloudwatch_alarm_event", "Siren ingest: CloudWatch alarm state changes from EventBridge"
        )
        self.alarm_rule = events.Rule(
            self,
            "AlarmStateChangeRule",
            description="CloudWatch alarm state changes into Siren",
            # Siren's own alarms (named "<stack>-...") notify the operations topic only: when they fire, this
            # pipeline may be what is broken, so it must not be their messenger (infra/components/operations.py).
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=list(CLOUDWATCH_DETAIL_TYPES),
                detail={"alarmName": [{"anything-but": {"prefix": f"{Aws.STACK_NAME}-"}}]},
            ),
            targets=[
                targets.LambdaFunction(
                    self.alarm_events.function,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            ],
        )

        self.alarm_sns = ingest_function(
            "AlarmSns", "cloudwatch_alarm_sns", "Siren ingest: CloudWatch alarm actions through SNS"
        )
        alarm_topic.add_subscription(
            subscriptions.LambdaSubscription(self.alarm_sns.function, dead_letter_queue=self.dead_letters)
        )

        # The third way: an alarm whose action is this function (Lambda alarm actions). Only CloudWatch alarms of
        # this account and region may invoke it; Siren's own alarms ("<stack>-...") are ignored by the function,
        # as the rule above leaves them out (a resource policy cannot exclude a name prefix).
        self.alarm_actions = ingest_function(
            "AlarmActions",
            "cloudwatch_alarm_action",
            "Siren ingest: CloudWatch alarm actions that invoke this function directly",
            SIREN_STACK_NAME=Aws.STACK_NAME,
        )
        self.alarm_actions.function.add_permission(
            "CloudWatchAlarmActions",
            principal=iam.ServicePrincipal("lambda.alarms.cloudwatch.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_account=Aws.ACCOUNT_ID,
            source_arn=f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*",
        )

        self.webhook_token = generated_secret(
            self,
            "WebhookToken",
            description="Siren webhook bearer token (Alertmanager, Grafana, generic senders)",
            length=48,
            why_not_rotated=(
                "A shared bearer token that senders are configured with; it is rotated by replacing the secret value "
                "(functions re-read it within 5 minutes), not by a rotation Lambda that senders could not follow."
            ),
        )
        self.integration_secret = generated_secret(
            self,
            "IntegrationSecret",
            description="Siren: the secret PagerDuty routing keys and Opsgenie API keys are derived from",
            length=48,
            why_not_rotated=(
                "Every integration's key is derived from it, and senders are configured with those keys: it is "
                "rotated by replacing the value (all keys change; `siren integrations keys` prints the new ones), "
                "or one key by its key_version in siren.yaml, not by a rotation Lambda senders could not follow."
            ),
        )
        self._queue_large_requests(ingest_function, access_logs)
        self.webhook = ingest_function(
            "Webhook",
            "webhook",
            "Siren ingest: Alertmanager, Grafana, Datadog and generic webhooks",
            WEBHOOK_TOKEN_SECRET_ARN=self.webhook_token.secret_arn,
            WEBHOOK_BODY_BUCKET=self.webhook_bodies.bucket_name,
            WEBHOOK_CHUNK_FUNCTION=self.webhook_chunks.function.function_arn,
            WEBHOOK_REQUESTS_PER_MINUTE=str(REQUESTS_PER_MINUTE),
            INTEGRATION_SECRET_ARN=self.integration_secret.secret_arn,
        )
        self.webhook_token.grant_read(self.webhook.function)
        self.integration_secret.grant_read(self.webhook.function)
        # Heartbeat pings (/heartbeat/<name>: first sight and last ping) and the per-sender request counts (429).
        grant_table_items(
            self.webhook,
            table,
            actions=["GetItem", "UpdateItem"],
            leading_keys=[ItemFamily.HEARTBEATS, ItemFamily.REQUEST_RATE],
        )
        # PagerDuty change events (pagerduty/v2/change/enqueue): each is a put of its service's CHANGE item.
        grant_table_items(self.webhook, table, actions=["PutItem"], leading_keys=[ItemFamily.CHANGE])
        # The front door keeps a large request's body and queues its chunks: it writes new bodies (never reads
        # them) and invokes the consumer (the function itself, not its versions).
        self.webhook.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[self.webhook_bodies.arn_for_objects(f"{WEBHOOK_BODY_PREFIX}*")]
            )
        )
        self.webhook.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[self.webhook_chunks.function.function_arn]
            )
        )
        acknowledge(
            self.webhook.role,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(self.webhook_bodies)}.Arn>/{WEBHOOK_BODY_PREFIX}*]",
            "Each queued request's body is a new object with a generated name under the webhook/ prefix.",
        )
        self.webhook_url = self.webhook.function.add_function_url(
            # Authentication is the bearer token (Secrets Manager, compared in constant time): Alertmanager and
            # Grafana cannot sign requests with SigV4.
            auth_type=lambda_.FunctionUrlAuthType.NONE,
        )

        # Heartbeats of users' jobs: pings come in through the webhook (/heartbeat/<name>); a check every minute
        # opens an incident for a heartbeat past its deadline. A failed check is not retried: the next one, a
        # minute later, does the same work.
        self.heartbeats = ingest_function(
            "Heartbeats", "check_heartbeats", "Siren ingest: heartbeats past their deadline open incidents"
        )
        # All heartbeats in one Query; a missed or recovered deadline noted once (UpdateItem).
        grant_table_items(
            self.heartbeats, table, actions=["Query", "GetItem", "UpdateItem"], leading_keys=[ItemFamily.HEARTBEATS]
        )
        heartbeat_schedule_role = iam.Role(
            self, "HeartbeatScheduleRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com")
        )
        acknowledge_invoke_versions(
            heartbeat_schedule_role, [self.heartbeats.function], "The schedule invokes the heartbeat check only."
        )
        self.heartbeat_schedule = scheduler.Schedule(
            self,
            "HeartbeatCheck",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(1)),
            target=scheduler_targets.LambdaInvoke(
                self.heartbeats.function,
                dead_letter_queue=self.dead_letters,
                retry_attempts=0,
                max_event_age=Duration.minutes(1),
                role=heartbeat_schedule_role,
            ),
            description="Siren: every minute, a heartbeat past its deadline opens an incident on its service",
        )

        self.publisher = SirenFunction(
            self,
            "Publisher",
            package="ingest",
            handler="ingest_handlers.publish_lifecycle_events",
            base=base,
            environment={"EVENT_BUS_NAME": bus.event_bus_name, "TABLE_NAME": table.table_name},
            description="Siren: lifecycle events from the incident store's stream onto the Siren bus",
        )
        bus.grant_put_events_to(self.publisher.function)
        self.publisher.function.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=25,
                max_batching_window=Duration.seconds(0),
                # An event this relay gives up on is an incident that never pages: retry until the record would
                # leave the stream (24 hours), never a fixed count (-1), and no max_record_age (unset is -1, the
                # stream's retention). A poison record is isolated by bisection; what truly expires goes to the
                # DLQ as a batch pointer that `siren dlq redrive` turns back into the incidents' events.
                retry_attempts=-1,
                bisect_batch_on_error=True,
                on_failure=sources.SqsDlq(self.dead_letters),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {
                            "eventName": lambda_.FilterRule.is_equal("INSERT"),
                            "dynamodb": {"NewImage": {"kind": {"S": lambda_.FilterRule.is_equal("event")}}},
                        }
                    )
                ],
            )
        )

        acknowledge(
            self.publisher.role,
            "AwsSolutions-IAM5[Resource::*]",
            "dynamodb:ListStreams (added by the stream event source) has no resource-level permissions; the "
            "stream reads themselves are scoped to the incident table's stream.",
        )

        CfnOutput(self, "WebhookUrlOutput", value=self.webhook_url.url).override_logical_id("WebhookUrl")
        CfnOutput(self, "WebhookTokenSecretArnOutput", value=self.webhook_token.secret_arn).override_logical_id(
            "WebhookTokenSecretArn"
        )
        CfnOutput(
            self,
            "AlarmActionFunctionArnOutput",
            value=self.alarm_actions.function.function_arn,
            description="Put this ARN in an alarm's actions (ALARM and OK) to send it to Siren directly",
        ).override_logical_id("AlarmActionFunctionArn")
        CfnOutput(self, "DeadLetterQueueUrlOutput", value=self.dead_letters.queue_url).override_logical_id(
            "DeadLetterQueueUrl"
        )
        CfnOutput(self, "IntegrationSecretArnOutput", value=self.integration_secret.secret_arn).override_logical_id(
            "IntegrationSecretArn"
        )

    def _queue_large_requests(
        self, ingest_function: Callable[..., SirenFunction], access_logs: s3.IBucket | None
    ) -> None:
        """The queue between the webhook and the store for requests of more than one chunk of alerts
        (siren.app.intake): their bodies in a private, encrypted bucket, and the consumer that applies them chunk by
        chunk from Lambda's asynchronous queue (two retries, then the dead-letter queue; ``siren dlq redrive``
        invokes it again). A chunk applied twice is harmless: the store checks every alert's delivery id."""
        self.webhook_bodies = private_bucket(
            self,
            "WebhookBodies",
            # Kept as long as the dead-letter queue keeps a chunk that failed, so that its redrive finds the body.
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(BODY_RETENTION_DAYS))],
            removal_policy=RemovalPolicy.DESTROY,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="webhook-bodies/" if access_logs is not None else None,
        )
        if access_logs is None:
            acknowledge(
                self.webhook_bodies,
                "AwsSolutions-S1",
                "No access-log bucket was given to this construct: the bodies are written by the webhook and read by "
                "the chunk consumer only (their roles), and expire after two weeks.",
            )
        self.webhook_chunks = ingest_function(
            "WebhookChunks",
            "webhook_chunk",
            "Siren ingest: applies a large webhook request, one chunk at a time",
            timeout_seconds=CHUNK_TIMEOUT_SECONDS,
            WEBHOOK_BODY_BUCKET=self.webhook_bodies.bucket_name,
        )
        self.webhook_chunks.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.webhook_bodies.arn_for_objects(f"{WEBHOOK_BODY_PREFIX}*")]
            )
        )
        acknowledge(
            self.webhook_chunks.role,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(self.webhook_bodies)}.Arn>/{WEBHOOK_BODY_PREFIX}*]",
            "The consumer reads the queued bodies it is given, all under the webhook/ prefix.",
        )


def _logical_id(bucket: s3.Bucket) -> str:
    stack = Stack.of(bucket)
    resource = bucket.node.default_child
    assert isinstance(resource, CfnElement)
    return str(stack.resolve(stack.get_logical_id(resource)))
