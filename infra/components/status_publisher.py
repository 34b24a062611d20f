"""The status page publisher: reacts to every lifecycle event, and runs on a schedule for what time alone
changes (a maintenance window starting or ending, the uptime day rolling over)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.events import on_every_lifecycle_event
from infra.components.functions import SirenFunction, grant_table_items
from infra.components.pipeline import Pipeline
from infra.components.store import ItemFamily
from infra.nag import acknowledge, acknowledge_invoke_versions, logical_id

REPUBLISH_EVERY = Duration.minutes(10)


class StatusPublisher(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        pipeline: Pipeline,
        *,
        bucket: s3.IBucket,
        page_url: str,
        subscriptions_url: str | None = None,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        base, table, bus = pipeline.base, pipeline.table, pipeline.bus
        self.publisher = SirenFunction(
            self,
            "Publish",
            package="status",
            handler="status_handlers.publish",
            base=base,
            environment={
                "TABLE_NAME": table.table_name,
                "EVENT_BUS_NAME": bus.event_bus_name,
                "STATUS_BUCKET_NAME": bucket.bucket_name,
                "STATUS_PAGE_URL": page_url,
                # The index's subscribe form posts there (siren.domain.subscribe_form); without it, no form.
                **({"SUBSCRIPTIONS_URL": subscriptions_url} if subscriptions_url else {}),
            },
            description="Siren: publish the customer status page",
            dead_letter_queue=dead_letters,
        )
        function = self.publisher.function
        # Reads incidents through the by-status and by-time indexes only; reads and writes the status page's own
        # partition (hand-set component statuses and maintenance windows by Query; the publish request mark and
        # lease by UpdateItem). Nothing else of the table: no incident, code or raw alert by key.
        grant_table_items(
            self.publisher,
            table,
            actions=["Query", "UpdateItem"],
            leading_keys=[ItemFamily.STATUS_PAGE],
            index_queries=["by-status", "by-time"],
        )
        # Exactly what publishing needs: read the manifest, write objects; ListBucket so that a missing manifest
        # is NoSuchKey (the first publish) rather than AccessDenied. No delete, no ACLs.
        self.publisher.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects("*")],
            )
        )
        self.publisher.role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        acknowledge(
            self.publisher.role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/*]",
            "The publisher writes the whole site (index, incident pages, feeds, API) into this one bucket: its "
            "objects are the resource; the actions are only GetObject and PutObject.",
        )
        dead_letters.grant_send_messages(function)

        on_every_lifecycle_event(
            self,
            bus,
            function,
            dead_letters,
            description="Republish the status page on every incident lifecycle event",
            retry_attempts=20,
        )
        # Its own role (not the stack-wide one CDK would share between schedules): it invokes this function only.
        schedule_role = iam.Role(self, "ScheduleRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        acknowledge_invoke_versions(schedule_role, [function], "The schedule invokes the status publisher only.")
        scheduler.Schedule(
            self,
            "Republish",
            schedule=scheduler.ScheduleExpression.rate(REPUBLISH_EVERY),
            target=scheduler_targets.LambdaInvoke(
                function, dead_letter_queue=dead_letters, retry_attempts=3, role=schedule_role
            ),
            description="Republish the status page: maintenance windows and the uptime day change with time alone",
        )
