"""Siren's own event bus: lifecycle events (Incident Opened, Acknowledged, ...) that the other parts react to."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from siren.domain.incidents import EVENT_SOURCE, LifecycleEventType

# Not about one incident and carrying no state (the status publisher re-reads the store): the operator's CLI
# puts it with its own credentials after `siren status set` / `siren status maintenance`.
OPERATOR_DETAIL_TYPES = (str(LifecycleEventType.STATUS_CHANGED),)
# An operator role with this principal tag may put any Siren event: `siren dlq redrive` republishes the current
# state of incidents whose lifecycle events the stream relay gave up on. Tagging a role takes iam:TagRole.
OPERATOR_TAG = "siren-operator"


def on_every_lifecycle_event(
    scope: Construct,
    bus: events.IEventBus,
    function: lambda_.IFunction,
    dead_letters: sqs.IQueue,
    *,
    description: str,
    retry_attempts: int = 3,
) -> events.Rule:
    """A consumer beside the paging path (status page, subscribers' mail, Slack): every Siren event, retried, then
    dead-lettered. Every event rather than a detail-type pattern: each function skips the kinds it has no use for
    before any read, and a detail-type pattern would put it on the paging path's reservations
    (tests/infra/test_scoped_iam.py), which none of them is. Two hours: an older change is shown by a later one."""
    return events.Rule(
        scope,
        "OnLifecycleEvent",
        event_bus=bus,
        description=description,
        event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
        targets=[
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letters,
                retry_attempts=retry_attempts,
                max_event_age=Duration.hours(2),
            )
        ],
    )


class IncidentEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", description="Siren incident lifecycle events")

    def admit_only(self, publisher: iam.IRole) -> None:
        """The bus's resource policy: incident lifecycle events come from the stream relay (``publisher``) only.

        Within one account an identity policy alone would let a principal put events (``events:*`` on ``*`` is
        common), so the policy denies everyone else explicitly: a forged "Incident Acknowledged" is refused at
        the bus. The escalation re-reads the store anyway (siren.app.escalation_events); this is the first
        line."""
        stack = Stack.of(self)
        bus = self.bus.node.default_child
        assert isinstance(bus, events.CfnEventBus)
        # The bus's ARN from its literal name: its own GetAtt/Ref inside its Policy would be a circular reference.
        bus_arn = stack.format_arn(service="events", resource="event-bus", resource_name=bus.name)
        account_root = iam.ArnPrincipal(f"arn:{stack.partition}:iam::{stack.account}:root")
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="SirenPublisherPutsLifecycleEvents",
                    actions=["events:PutEvents"],
                    principals=[iam.ArnPrincipal(publisher.role_arn)],
                    resources=[bus_arn],
                ),
                iam.PolicyStatement(
                    sid="OperatorsPutStatusPageChanges",
                    actions=["events:PutEvents"],
                    principals=[account_root],
                    resources=[bus_arn],
                    conditions={
                        "ForAllValues:StringEquals": {
                            "events:detail-type": list(OPERATOR_DETAIL_TYPES),
                            "events:source": [EVENT_SOURCE],
                        }
                    },
                ),
                iam.PolicyStatement(
                    sid="NobodyElsePutsLifecycleEvents",
                    effect=iam.Effect.DENY,
                    actions=["events:PutEvents"],
                    principals=[iam.AnyPrincipal()],
                    resources=[bus_arn],
                    conditions={
                        "StringNotEquals": {
                            "aws:PrincipalArn": publisher.role_arn,
                            f"aws:PrincipalTag/{OPERATOR_TAG}": "true",
                        },
                        "ForAnyValue:StringNotEquals": {"events:detail-type": list(OPERATOR_DETAIL_TYPES)},
                    },
                ),
            ]
        )
        # The bus's own Policy property, not AWS::Events::EventBusPolicy resources: those are named by a
        # StatementId that must be unique in the account (two Siren stacks would collide) and each rewrites
        # the whole policy, so several of them race on one deploy.
        bus.policy = policy
