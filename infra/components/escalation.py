"""Escalation: the state machine (ASL beside this file), its tasks, its start/stop on lifecycle events, and
two-way SMS acknowledgements."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aws_cdk import ArnFormat, CfnOutput, CfnParameter, Duration, SecretValue, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.components.functions import (
    SirenFunction,
    grant_send_email,
    grant_sms_via_sns,
    grant_table_items,
)
from infra.components.pipeline import Pipeline, escalation_machine_arn, escalation_machine_name
from infra.components.secrets import generated_secret
from infra.components.store import ItemFamily
from infra.nag import acknowledge, acknowledge_invoke_versions
from siren.domain.incidents import EVENT_SOURCE, LifecycleEventType
from siren.watchdog import WATCHDOG_NAMESPACE

ASL = Path(__file__).resolve().parent.parent / "statemachines" / "escalation.asl.json"
# A page task sends one recipient's notifications of a step: at most SMS (End User Messaging, then SNS), voice (then
# SMS by both) and email, six provider calls, each within the paging clients' SDK budget (siren.clients). The
# function's timeout exceeds that, and the state machine's SendPage TimeoutSeconds (150) exceeds the function's.
PAGE_FUNCTION_TIMEOUT_SECONDS = 120

# What each function's code does to the incident table (siren.app.*), as (DynamoDB actions, item families): only
# that is granted (dynamodb:LeadingKeys; tests/infra/test_scoped_iam.py). Acknowledging or resolving
# (siren.app.incidents) reads the incident and its key's state and writes both, the timeline and the lifecycle
# event; steps and pages read and write the incident's partition (timeline, wait token, sends) and ack codes.
_CHANGE_INCIDENTS = [ItemFamily.INCIDENT, ItemFamily.DEDUP_KEY, ItemFamily.EVENT]
_PAGING = (["GetItem", "PutItem", "UpdateItem"], [ItemFamily.INCIDENT, ItemFamily.ACK_CODE])
TABLE_ITEMS: dict[str, tuple[list[str], list[ItemFamily]]] = {
    # the link's single use (a nonce put, deleted again when the change fails), then the change itself
    "AckLink": (["GetItem", "PutItem", "DeleteItem"], [*_CHANGE_INCIDENTS, ItemFamily.LINK_NONCE]),
    # the canary's step also records its heartbeat (CANARY) and resolves the canary's incident
    # Step and Hold also Query the incident's partition: its timeline holds a person's "escalate now" requests
    "Step": ([*_PAGING[0], "Query"], [*_PAGING[1], *_CHANGE_INCIDENTS, ItemFamily.CANARY]),
    "Roles": _PAGING,
    "Page": _PAGING,
    "Hold": (["GetItem", "Query", "UpdateItem"], [ItemFamily.INCIDENT]),
    "Failure": (["GetItem", "PutItem"], [ItemFamily.INCIDENT]),
    # reads the incident (and its whole partition), supersedes the wait, frees a resolved incident's code
    "Lifecycle": (["GetItem", "Query", "UpdateItem"], [ItemFamily.INCIDENT, ItemFamily.ACK_CODE]),
    # the number's reply window (one answer a minute), the code's binding, and the acknowledgement itself
    "InboundSms": (["GetItem", "PutItem"], [*_CHANGE_INCIDENTS, ItemFamily.ACK_CODE, ItemFamily.SMS_REPLY]),
    "Reconciler": (["GetItem", "PutItem"], [ItemFamily.INCIDENT]),
}
INDEX_QUERIES = {"Reconciler": ["by-status"]}  # the unresolved incidents
# The service's changes of the hour before the incident: the first step puts them on the timeline, a page's email
# lists them (siren.app.escalation); one Query of the service's CHANGE partition each.
CHANGE_QUERIES = {"Step", "Page"}


def grant_change_reads(function: SirenFunction, table: dynamodb.ITable, name: str) -> None:
    if name in CHANGE_QUERIES:
        grant_table_items(function, table, actions=["Query"], leading_keys=[ItemFamily.CHANGE])


class Escalation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        pipeline: Pipeline,
        *,
        inbound_sms_topic: sns.ITopic,
        dead_letters: sqs.IQueue,
        watchdog_region: str,
    ) -> None:
        super().__init__(scope, construct_id)
        base, table, bus = pipeline.base, pipeline.table, pipeline.bus
        stack = Stack.of(self)
        origination = CfnParameter(
            stack,
            "OriginationIdentity",
            default="",
            description="End User Messaging phone number, pool or sender id (ARN or id) that pages go from; "
            "empty: SMS through SNS only, and no voice calls",
        )
        sender = CfnParameter(
            stack,
            "EmailSender",
            default="siren@example.com",
            description="SES-verified address that page emails come from",
        )
        self.email_sender = sender.value_as_string
        machine_name = escalation_machine_name(self)
        machine_arn = escalation_machine_arn(self)
        environment = {
            "TABLE_NAME": table.table_name,
            "EVENT_BUS_NAME": bus.event_bus_name,
            "ORIGINATION_IDENTITY": origination.value_as_string,
            "EMAIL_SENDER": sender.value_as_string,
            "ESCALATION_STATE_MACHINE_ARN": machine_arn,
            # The canary's first step puts its heartbeat in the watchdog's region too (app/canary.py).
            "WATCHDOG_REGION": watchdog_region,
            "SIREN_STACK_NAME": stack.stack_name,
        }

        self.ack_link_key = generated_secret(
            self,
            "AckLinkKey",
            description="Siren: the HMAC key that signs acknowledgement links in pages",
            length=64,
            why_not_rotated=(
                "Replacing the key invalidates every outstanding link (they live 24 hours); rotate it by replacing the "
                "value when needed, not on a schedule that would break links in pages people are about to open."
            ),
        )
        self.chat_webhook = secretsmanager.Secret(
            self,
            "ChatWebhook",
            description='Siren: the chat incoming-webhook URL as {"url": "https://..."}; empty: no chat posts',
            secret_object_value={"url": SecretValue.unsafe_plain_text("")},
        )
        acknowledge(
            self.chat_webhook,
            "AwsSolutions-SMG4",
            "The value is a third party's webhook URL that only its owner can rotate; the operator replaces it.",
        )

        def page_function(
            name: str,
            handler: str,
            description: str,
            sends_pages: bool,
            extra_environment: dict[str, str] | None = None,
            *,
            timeout_seconds: int = 30,
            ends_waits: bool = False,
        ) -> SirenFunction:
            function = SirenFunction(
                self,
                name,
                package="page",
                handler=f"page_handlers.{handler}",
                base=base,
                environment={**environment, **(extra_environment or {})},
                description=description,
                dead_letter_queue=dead_letters,
                timeout_seconds=timeout_seconds,
            )
            actions, families = TABLE_ITEMS[name]
            grant_table_items(
                function, table, actions=actions, leading_keys=families, index_queries=INDEX_QUERIES.get(name, ())
            )
            grant_change_reads(function, table, name)
            dead_letters.grant_send_messages(function.function)
            if ends_waits:
                # Completing a wait (the acknowledgement that ends it) is SendTaskSuccess, nothing else.
                function.role.add_to_policy(
                    iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=[machine_arn])
                )
            if sends_pages:
                self._grant_paging(function, sender.value_as_string)
            return function

        # The link and the SMS reply end the escalation's wait themselves once the acknowledgement is committed
        # (the relayed event does it again, harmlessly): ends_waits.
        self.ack_link = page_function(
            "AckLink",
            "ack_link",
            "Siren: signed acknowledgement links",
            False,
            {"ACK_LINK_SECRET_ARN": self.ack_link_key.secret_arn},
            ends_waits=True,
        )
        self.ack_link_key.grant_read(self.ack_link.function)
        self.ack_link_url = self.ack_link.function.add_function_url(
            # Public by design: the link itself is the credential (HMAC-signed, expiring, single use), and a
            # person's phone cannot sign a SigV4 request.
            auth_type=lambda_.FunctionUrlAuthType.NONE,
        )
        paging_environment = {
            "ACK_LINK_BASE_URL": self.ack_link_url.url,
            "ACK_LINK_SECRET_ARN": self.ack_link_key.secret_arn,
            "CHAT_WEBHOOK_SECRET_ARN": self.chat_webhook.secret_arn,
        }
        # The step plans who is due; the pages go out in page tasks, one per recipient (a Map state). The step
        # still sends the canary's dry-run check (End User Messaging's DryRun takes the send permission).
        self.step = page_function(
            "Step", "escalation_step", "Siren escalation: plan who is due", True, paging_environment
        )
        self.hold = page_function(
            "Hold", "hold_for_ack", "Siren escalation: hold the wait's task token", False, ends_waits=True
        )
        self.roles = page_function(
            "Roles", "page_roles", "Siren escalation: plan incident roles' pages", False, paging_environment
        )
        self.page = page_function(
            "Page",
            "send_page",
            "Siren escalation: page one recipient",
            True,
            paging_environment,
            timeout_seconds=PAGE_FUNCTION_TIMEOUT_SECONDS,
        )
        self.ack_link_key.grant_read(self.page.function)
        self.chat_webhook.grant_read(self.page.function)
        # The canary's heartbeat, here and in the watchdog's region: its own namespaces only.
        self.step.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": [WATCHDOG_NAMESPACE]}},
            )
        )
        acknowledge(
            self.step.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Pages go to phone numbers and email addresses that are not AWS resources (SNS direct SMS publish, End "
            "User Messaging SendText/SendVoice and SES SendEmail take no narrower resource for a recipient); "
            "PutMetricData has no resource at all and is limited to the canary's namespace by condition.",
        )
        self.failure = page_function("Failure", "record_failure", "Siren escalation: record a failed step", False)

        log_group = logs.LogGroup(self, "MachineLogs", retention=logs.RetentionDays.THREE_MONTHS)
        self.machine = sfn.StateMachine(
            self,
            "Machine",
            state_machine_name=machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(ASL.read_text()),
            definition_substitutions={
                "StepFunctionArn": self.step.function.function_arn,
                "HoldFunctionArn": self.hold.function.function_arn,
                "RolesFunctionArn": self.roles.function.function_arn,
                "PageFunctionArn": self.page.function.function_arn,
                "FailureFunctionArn": self.failure.function.function_arn,
            },
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
        )
        tasks = (self.step, self.hold, self.roles, self.page, self.failure)
        for task in tasks:
            task.function.grant_invoke(self.machine)
        acknowledge_invoke_versions(
            self.machine,
            [task.function for task in tasks],
            "The state machine invokes its own task functions (and their versions, <arn>:*), nothing else.",
        )
        acknowledge(
            self.machine,
            "AwsSolutions-IAM5[Resource::*]",
            "CloudWatch Logs log delivery and X-Ray trace segments have no resource-level permissions; CDK grants "
            "exactly the actions Step Functions needs for its own logging and tracing.",
        )

        self.lifecycle = page_function(
            "Lifecycle", "lifecycle", "Siren escalation: start and stop on lifecycle events", False, ends_waits=True
        )
        self.machine.grant_start_execution(self.lifecycle.function)
        events.Rule(
            self,
            "LifecycleRule",
            event_bus=bus,
            description="Escalations start on Incident Opened, restart on a raised severity, stop on ack/resolve",
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE],
                detail_type=[
                    str(LifecycleEventType.OPENED),
                    str(LifecycleEventType.SEVERITY_CHANGED),
                    str(LifecycleEventType.ACKNOWLEDGED),
                    str(LifecycleEventType.RESOLVED),
                ],
            ),
            targets=[
                targets.LambdaFunction(
                    self.lifecycle.function,
                    dead_letter_queue=dead_letters,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            ],
        )

        self.reconciler = self._reconciler(page_function, machine_name, dead_letters)

        self.inbound = page_function(
            "InboundSms", "inbound_sms", "Siren: two-way SMS acknowledgements", True, ends_waits=True
        )
        inbound_sms_topic.add_subscription(
            subscriptions.LambdaSubscription(self.inbound.function, dead_letter_queue=dead_letters)
        )

        CfnOutput(self, "AckLinkUrlOutput", value=self.ack_link_url.url).override_logical_id("AckLinkUrl")
        CfnOutput(self, "ChatWebhookSecretArnOutput", value=self.chat_webhook.secret_arn).override_logical_id(
            "ChatWebhookSecretArn"
        )
        CfnOutput(self, "MachineArnOutput", value=self.machine.state_machine_arn).override_logical_id(
            "EscalationStateMachineArn"
        )

    @staticmethod
    def _grant_paging(function: SirenFunction, email_sender: str) -> None:
        """Sending pages, and only that: End User Messaging from this account's origination identities (phone
        numbers, pools, sender ids; with its opt-out lists and configuration sets), SES from the sender's address
        only, and SNS direct SMS, which names no resource: a topic is never published to."""
        stack = Stack.of(function)

        def arn(service: str, resource: str) -> str:
            return stack.format_arn(service=service, resource=resource, arn_format=ArnFormat.NO_RESOURCE_NAME)

        sms_voice = ["phone-number/*", "pool/*", "sender-id/*", "opt-out-list/*", "configuration-set/*"]
        function.role.add_to_policy(
            iam.PolicyStatement(
                actions=["sms-voice:SendTextMessage", "sms-voice:SendVoiceMessage"],
                resources=[arn("sms-voice", resource) for resource in sms_voice],
            )
        )
        grant_send_email(function, email_sender)
        grant_sms_via_sns(function)
        acknowledge(
            function.role,
            "AwsSolutions-IAM5[Resource::*]",
            "SNS direct SMS publishes to a phone number, which is not an AWS resource: sns:Publish takes no "
            "narrower resource for it, and a Deny on every topic ARN keeps it to phone numbers.",
        )
        for resource in sms_voice:
            acknowledge(
                function.role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sms-voice:<AWS::Region>:<AWS::AccountId>:{resource}]",
                "The origination identity is a stack parameter that may be a phone number, a pool or a sender id "
                "(as an id or an ARN): sending is allowed from this account's identities of each kind.",
            )

    def _reconciler(
        self, page_function: Callable[..., SirenFunction], machine_name: str, dead_letters: sqs.IQueue
    ) -> SirenFunction:
        """Every minute, each unresolved incident's escalation is made to match the store: an event lost upstream
        must not leave an open incident paging nobody (app/reconcile.py). Repairs are counted and alarmed."""
        stack = Stack.of(self)
        reconciler = page_function(
            "Reconciler",
            "reconcile_escalations",
            "Siren escalation: every minute, repair escalations a lost event left wrong",
            False,
            ends_waits=True,
        )
        self.machine.grant_start_execution(reconciler.function)
        reconciler.role.add_to_policy(
            iam.PolicyStatement(actions=["states:ListExecutions"], resources=[self.machine.state_machine_arn])
        )
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        reconciler.role.add_to_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution", "states:StopExecution"], resources=[executions])
        )
        acknowledge(
            reconciler.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
            f"<AWS::AccountId>:execution:{machine_name}:*]",
            "The reconciler describes and stops runs of this one state machine, whose run names are not known "
            "in advance; the execution ARN pattern is limited to this machine.",
        )
        schedule_role = iam.Role(
            self, "ReconcileScheduleRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com")
        )
        acknowledge_invoke_versions(schedule_role, [reconciler.function], "The schedule invokes the reconciler only.")
        scheduler.Schedule(
            self,
            "ReconcileEveryMinute",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(1)),
            target=scheduler_targets.LambdaInvoke(
                reconciler.function,
                dead_letter_queue=dead_letters,
                retry_attempts=0,
                max_event_age=Duration.minutes(1),
                role=schedule_role,
            ),
            description="Siren: every minute, escalations made to match the incident store",
        )
        return reconciler
