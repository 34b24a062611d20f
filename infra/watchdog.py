"""The watchdog: a small stack in a second region that notices when Siren's canary falls silent.

Siren's own alarms live in Siren's region; when that region (or the path the canary proves) is down, they go
quiet with it. The canary therefore also reports a heartbeat to this stack's region (the contract is in
``siren.watchdog``), and this stack alarms when two intervals pass without one, through an SNS topic of its own,
to the same operations contacts. It shares nothing with the primary stack (no cross-stack reference, no import,
no parameter): it deploys, and keeps working, on its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from constructs import Construct

from infra.components.operations import contacts_topic
from siren.domain.policy import Operations as OperationsConfig
from siren.watchdog import WATCHDOG_DIMENSION, WATCHDOG_METRIC, WATCHDOG_NAMESPACE

WATCHDOG_REGION_CONTEXT = "watchdog_region"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def watchdog_region(app: Construct) -> str:
    """The region the watchdog runs in: CDK context ``watchdog_region`` (``cdk deploy -c watchdog_region=...``, or
    cdk.json's ``context``, which holds the default)."""
    given = app.node.try_get_context(WATCHDOG_REGION_CONTEXT)
    if given:
        return str(given)
    # Only the cdk CLI reads cdk.json; an in-process synth (tests, `siren local up`) reads the default from it here.
    context = json.loads((PROJECT_ROOT / "cdk.json").read_text()).get("context", {})
    return str(context[WATCHDOG_REGION_CONTEXT])


class Watchdog(Construct):
    """``WatchdogTopic`` (encrypted, the operations contacts subscribed) and the ``<stack>-CanarySilent`` alarm."""

    def __init__(
        self, scope: Construct, construct_id: str, *, primary_stack_name: str, operations: OperationsConfig
    ) -> None:
        super().__init__(scope, construct_id)
        # The same shape as the primary's OpsTopic: its own key, this stack's alarms only, the same contacts.
        self.topic = contacts_topic(
            self,
            "WatchdogTopic",
            display_name="Siren watchdog",
            key_description="Siren watchdog: encrypts the watchdog topic",
            contacts=operations,
        )

        interval = operations.heartbeat_minutes
        heartbeat = cloudwatch.Metric(
            namespace=WATCHDOG_NAMESPACE,
            metric_name=WATCHDOG_METRIC,
            dimensions_map={WATCHDOG_DIMENSION: primary_stack_name},
            period=Duration.minutes(interval),
            statistic="Sum",
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "CanarySilent",
            metric=heartbeat,
            threshold=1,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            alarm_name=f"{Aws.STACK_NAME}-CanarySilent",
            alarm_description=f"No heartbeat from Siren's canary (stack {primary_stack_name}) for two "
            f"intervals ({interval} minutes each): Siren's region, or the path its canary proves (front door, "
            "incident pipeline, escalation), is down, and Siren may not be paging anyone. Check `siren health`, "
            f"the primary's ops alarms ({primary_stack_name}-..., on OpsTopic) and AWS Health for Siren's region; "
            "until it is back, watch your monitoring directly. OK again once heartbeats arrive.",
        )
        action = actions.SnsAction(self.topic)
        self.alarm.add_alarm_action(action)
        self.alarm.add_ok_action(action)


class WatchdogStack(Stack):
    """``SirenWatchdog``: the watchdog, alone in its region. Output ``WatchdogTopicArn``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        primary_stack_name: str,
        operations: OperationsConfig,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        watchdog = Watchdog(self, "Watchdog", primary_stack_name=primary_stack_name, operations=operations)
        cdk.CfnOutput(self, "WatchdogTopicArn", value=watchdog.topic.topic_arn).override_logical_id("WatchdogTopicArn")


def add_watchdog(app: cdk.App, primary: Stack, operations: OperationsConfig) -> WatchdogStack:
    """The watchdog of ``primary``, in the region ``watchdog_region`` names, same account (when one is given)."""
    region = watchdog_region(app)
    if not cdk.Token.is_unresolved(primary.region) and primary.region == region:
        raise SystemExit(
            f"the watchdog must run in another region than {primary.stack_name} ({region}): set the CDK context "
            f"{WATCHDOG_REGION_CONTEXT} (cdk.json, or -c {WATCHDOG_REGION_CONTEXT}=REGION)"
        )
    return WatchdogStack(
        app,
        f"{primary.stack_name}Watchdog",
        primary_stack_name=primary.stack_name,
        operations=operations,
        description=f"Siren watchdog: tells the operations contacts when the canary of {primary.stack_name} "
        "falls silent (runs in a second region)",
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=region),
    )
