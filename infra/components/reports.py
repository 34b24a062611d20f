"""Leadership reports: the report function on EventBridge Scheduler crons (in the config's time zone), and the
private artifacts bucket where postmortem drafts are kept beside their incidents."""

from __future__ import annotations

from aws_cdk import CfnOutput, RemovalPolicy, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.buckets import private_bucket
from infra.components.functions import SirenFunction, grant_send_email, grant_table_items
from infra.components.pipeline import Pipeline
from infra.components.store import ItemFamily
from infra.nag import acknowledge_invoke_versions
from siren.domain.policy import ReportsConfig


class Reports(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        pipeline: Pipeline,
        *,
        config: ReportsConfig,
        email_sender: str,
        access_logs: s3.IBucket,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        base, table = pipeline.base, pipeline.table
        self.artifacts = private_bucket(
            self,
            "Artifacts",
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="artifacts/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.function = SirenFunction(
            self,
            "Report",
            package="report",
            handler="report_handlers.scheduled_report",
            base=base,
            environment={
                "TABLE_NAME": table.table_name,
                "EVENT_BUS_NAME": "-",
                "EMAIL_SENDER": email_sender,
                "ARTIFACTS_BUCKET_NAME": self.artifacts.bucket_name,
            },
            description="Siren: the scheduled leadership report",
            dead_letter_queue=dead_letters,
            timeout_seconds=300,
            memory_size=1024,
        )
        function = self.function.function
        # Reads only: the action items' partition, incidents opened in the period (by-time) and the pages and
        # escalations of the period (by-activity). No write, no incident item read by key.
        grant_table_items(
            self.function,
            table,
            actions=["Query"],
            leading_keys=[ItemFamily.ACTION_ITEMS],
            index_queries=["by-time", "by-activity"],
        )
        dead_letters.grant_send_messages(function)
        grant_send_email(self.function, email_sender, read_identity=True)

        schedule_role = iam.Role(self, "ScheduleRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        acknowledge_invoke_versions(schedule_role, [function], "The report schedules invoke the report function only.")
        for name, expression in (("Weekly", config.weekly), ("Monthly", config.monthly)):
            if not expression:
                continue
            scheduler.Schedule(
                self,
                name,
                schedule=scheduler.ScheduleExpression.expression(expression, TimeZone.of(config.time_zone)),
                target=scheduler_targets.LambdaInvoke(
                    function,
                    input=scheduler.ScheduleTargetInput.from_object({"period": name.lower()}),
                    dead_letter_queue=dead_letters,
                    retry_attempts=3,
                    role=schedule_role,
                ),
                description=f"Siren {name.lower()} leadership report ({expression}, {config.time_zone})",
            )
        CfnOutput(self, "ArtifactsBucketNameOutput", value=self.artifacts.bucket_name).override_logical_id(
            "ArtifactsBucketName"
        )
