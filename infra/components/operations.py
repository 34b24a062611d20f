"""Siren watches itself: an operations topic out of band, and alarms on Siren's own parts that act on it.

The operations contacts (``operations:`` in siren.yaml) are subscribed to ``OpsTopic`` by SMS and email. Nothing
here goes through Siren's incident pipeline: when an alarm says the pipeline is broken, the pipeline cannot be
the messenger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, CfnCondition, CfnResource, Duration, Fn
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from siren.domain.policy import Operations as OperationsConfig
from siren.observability import METRICS_NAMESPACE, SERVICE

# A stream record older than this has waited too long: a page may be that late (PagerDuty counts 5 minutes).
ITERATOR_AGE_LIMIT_MS = 60_000


def _siren_count(metric_name: str) -> cloudwatch.Metric:
    """A count Siren's own functions put (Powertools: siren.observability's namespace and service), over 5 minutes."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map={"service": SERVICE},
        period=Duration.minutes(5),
        statistic="Sum",
    )


def contacts_topic(
    scope: Construct, name: str, *, display_name: str, key_description: str, contacts: OperationsConfig
) -> sns.Topic:
    """An SNS topic, with its own KMS key, that this stack's CloudWatch alarms (and nothing else) publish to, and the
    operations contacts subscribed to it: SMS for E.164 numbers, email for addresses."""
    key = kms.Key(
        scope, f"{name}Key", description=key_description, enable_key_rotation=True, pending_window=Duration.days(30)
    )
    # CloudWatch publishes alarm actions with the key: only for this account's alarms (no confused deputy).
    from_this_account = {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
            conditions=from_this_account,
        )
    )
    topic = sns.Topic(scope, name, display_name=display_name, master_key=key, enforce_ssl=True)
    this_stacks_alarms = f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:{Aws.STACK_NAME}-*"
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={**from_this_account, "ArnLike": {"aws:SourceArn": this_stacks_alarms}},
        )
    )
    for phone in contacts.phones:
        topic.add_subscription(subscriptions.SmsSubscription(phone))
    for email in contacts.emails:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    return topic


@dataclass(frozen=True)
class Watched:
    """The parts of Siren whose health is alarmed."""

    functions: Sequence[tuple[str, lambda_.IFunction]]  # (a readable name, the function)
    dead_letter_queues: Sequence[tuple[str, sqs.IQueue]]
    state_machines: Sequence[tuple[str, sfn.IStateMachine]]
    stream_consumers: Sequence[tuple[str, lambda_.IFunction]]  # functions fed by a DynamoDB stream


class Operations(Construct):
    """``OpsTopic`` and the ``<stack>-...`` alarms, each acting on it in ALARM and back in OK."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OperationsConfig,
        watched: Watched,
        canary_enabled: CfnCondition | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = contacts_topic(
            self,
            "OpsTopic",
            display_name="Siren operations",
            key_description="Siren: encrypts the operations topic",
            contacts=config,
        )
        self._action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []
        self._watch(watched, config.heartbeat_minutes)
        if canary_enabled is not None:
            # A canary switched off (the CanaryState parameter) is not missing: its alarm keeps its state but acts
            # on nobody.
            missing = self.node.find_child("CanaryMissing").node.default_child
            assert isinstance(missing, CfnResource)
            missing.add_property_override(
                "ActionsEnabled",
                Fn.condition_if(canary_enabled.logical_id, True, False),
            )

    def _watch(self, watched: Watched, heartbeat_minutes: int) -> None:
        for name, queue in watched.dead_letter_queues:
            self._alarm(
                f"DeadLetters-{name}",
                queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
                description=f"A message is waiting in the dead-letter queue {name}: an alert, event or record Siren "
                "could not process. Read it (siren dlq list), fix the cause, then replay it.",
            )
        for name, function in watched.functions:
            for what, metric, description in (
                (
                    "Errors",
                    function.metric_errors(period=Duration.minutes(1), statistic="Sum"),
                    f"The {name} function failed. Its log group has the error; retries and dead-letter queues keep "
                    "the work, so check that they drain once it is fixed.",
                ),
                (
                    "Throttles",
                    function.metric_throttles(period=Duration.minutes(1), statistic="Sum"),
                    f"The {name} function was throttled: work waits. Raise the account's concurrency limit or the "
                    "function's reserved concurrency.",
                ),
            ):
                self._alarm(f"{what}-{name}", metric, description=description)
        for name, machine in watched.state_machines:
            for what, metric in (
                ("Failed", machine.metric_failed(period=Duration.minutes(1), statistic="Sum")),
                ("TimedOut", machine.metric_timed_out(period=Duration.minutes(1), statistic="Sum")),
                ("Aborted", machine.metric_aborted(period=Duration.minutes(1), statistic="Sum")),
            ):
                self._alarm(
                    f"{name}Runs{what}",
                    metric,
                    description=f"An {name} run ended {what.lower()}: that incident's escalation stopped before an "
                    "acknowledgement. Find the run in the Step Functions console, read its last event, and check "
                    "that the incident is acknowledged or paged again.",
                )
        for name, function in watched.stream_consumers:
            self._alarm(
                f"StreamAge-{name}",
                function.metric("IteratorAge", period=Duration.minutes(1), statistic="Maximum"),
                threshold=ITERATOR_AGE_LIMIT_MS,
                description=f"{name} reads its DynamoDB stream more than a minute behind: incident events, and so "
                "pages, are late. Check the function's errors and duration.",
            )
        self._alarm(
            "PageDeliveryFailures",
            _siren_count("PageDeliveryFailed"),
            description="A page could not be sent on one of its channels (End User Messaging, SNS, SES or the chat "
            "webhook). Siren fell back to another channel or person; find the failing channel on the incident's "
            "timeline and in the escalation functions' logs (delivery failed) before the fallback breaks too.",
        )
        self._alarm(
            "EscalationRepairs",
            _siren_count("EscalationsRepaired"),
            description="The reconciler repaired an escalation: an open incident had no running escalation (or an "
            "acknowledged one still had one) because an event was lost upstream. The incident was saved; find what "
            "lost the event: the incident's timeline (escalation_repaired), siren dlq list, the relay's and the "
            "lifecycle function's errors.",
        )
        self._alarm(
            "CanaryMissing",
            cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name="CanaryHeartbeat",
                dimensions_map={"service": SERVICE},
                period=Duration.minutes(heartbeat_minutes),
                statistic="Sum",
            ),
            periods=2,
            below=True,
            missing_breaches=True,
            description="Siren's end-to-end canary has not come through for two intervals: an alert sent to the "
            "webhook is not reaching the first page. Check siren health, the Errors-... alarms, the canary "
            "incidents' timelines (siren incidents list --all) and siren dlq list.",
        )
        self._alarm(
            "AlertsRefused",
            _siren_count("AlertsRefused"),
            description="Siren refused alerts (bad token, malformed or oversized body, a time in the future): a "
            "monitoring source may be misconfigured and its alerts are not becoming incidents. The ingest logs "
            "say why each was refused.",
        )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        *,
        description: str,
        threshold: float = 1,  # most of Siren's alarms fire on the first occurrence
        periods: int = 1,
        below: bool = False,
        missing_breaches: bool = False,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
            if below
            else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING
            if missing_breaches
            else cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_name=f"{Aws.STACK_NAME}-{name}",
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
