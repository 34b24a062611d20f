"""Siren's end-to-end canary: every ``operations.heartbeat_minutes``, a function sends a synthetic alert through the
real front door (the webhook's function URL, with the bearer token), which runs the whole path to the first page
as a dry run (app/canary.py). Its heartbeat is a metric in this region (the ``<stack>-CanaryMissing`` alarm) and
in the watchdog's (the SirenWatchdog stack)."""

from __future__ import annotations

from aws_cdk import CfnParameter, CfnResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.functions import FunctionBase, SirenFunction
from infra.nag import acknowledge_invoke_versions


class Canary(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        base: FunctionBase,
        webhook_url: lambda_.FunctionUrl,
        webhook_token: secretsmanager.ISecret,
        heartbeat_minutes: int,
        dead_letters: sqs.IQueue,
        state: CfnParameter,
    ) -> None:
        super().__init__(scope, construct_id)
        self.sender = SirenFunction(
            self,
            "Sender",
            package="ingest",
            handler="ingest_handlers.send_canary",
            base=base,
            environment={"WEBHOOK_URL": webhook_url.url, "WEBHOOK_TOKEN_SECRET_ARN": webhook_token.secret_arn},
            description="Siren canary: a synthetic alert through the webhook, checked to the first page (dry run)",
            dead_letter_queue=dead_letters,
        )
        webhook_token.grant_read(self.sender.function)
        dead_letters.grant_send_messages(self.sender.function)
        schedule_role = iam.Role(self, "ScheduleRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        acknowledge_invoke_versions(schedule_role, [self.sender.function], "The schedule invokes the canary only.")
        # Not retried: a canary that fails to go through is exactly what the CanaryMissing alarm is for, and the
        # next one comes at the next interval.
        schedule = scheduler.Schedule(
            self,
            "Every",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(heartbeat_minutes)),
            target=scheduler_targets.LambdaInvoke(
                self.sender.function,
                dead_letter_queue=dead_letters,
                retry_attempts=0,
                max_event_age=Duration.minutes(1),
                role=schedule_role,
            ),
            description="Siren: the end-to-end canary, every operations.heartbeat_minutes",
        )
        cfn_schedule = schedule.node.default_child
        assert isinstance(cfn_schedule, CfnResource)
        cfn_schedule.add_property_override("State", state.value_as_string)
