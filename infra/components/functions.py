"""The shared layer and the one way Siren defines a Lambda function."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Aws, CfnCondition, CfnParameter, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.store import INDEXES, ItemFamily
from infra.layer_build import PYTHON_VERSION, build_layer
from infra.nag import acknowledge
from siren.observability import METRICS_NAMESPACE, SERVICE

FUNCTIONS_ROOT = Path(__file__).resolve().parents[2] / "functions"
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
assert LAMBDA_RUNTIME.name == f"python{PYTHON_VERSION}", "the layer is built for the function runtime"


class ReservedConcurrency:
    """How many concurrent executions each kind of function reserves (stack parameter ``ReservedConcurrency``).

    A reservation is a floor and a ceiling at once. The floor: the paging path (alarm intake, the stream relay,
    escalation start/stop, the escalation's tasks, SMS replies) keeps running when the account's other functions,
    or a flood at Siren's own public URLs, take every unreserved execution. The ceiling: a public URL that anyone
    can call (the webhook, acknowledgement links) cannot take more than its share; past it Lambda answers 429,
    which Alertmanager and Grafana retry. The ceilings of paging functions are generous: throttled steps are
    retried by the state machine, and a storm of hundreds of incidents still runs this many sends at once.

    Reservations must leave at least 100 executions unreserved in the account: with the default quota of 1000 the
    whole stack (``BUDGET`` at most) fits; new accounts start with a quota of 10 and cannot reserve anything, so
    they deploy with ``ReservedConcurrency=DISABLED`` until the quota is raised (Service Quotas, "Concurrent
    executions").
    """

    PUBLIC_WEBHOOK = 20  # ~0.2 s a request: ~100 requests a second; a flood past that gets 429
    PUBLIC_ACK_LINK = 10  # people tapping links in pages: ~50 a second
    ESCALATION_TASKS = 50  # each escalation's hot path (plan the step, page each recipient, hold for the ack)
    PAGING_PATH = 20  # alarm intake, escalation start/stop, role pages, failures, SMS replies
    STREAM_RELAY = 10  # one execution per stream shard at a time (parallelization factor 1)
    SCHEDULED = 2  # once-a-minute checks (heartbeats, the reconciler): one run, and one overlapping
    # The most the stack may reserve in total (tests/infra/test_scoped_iam.py checks the template against it).
    BUDGET = 400


RESERVED_CONCURRENCY_PARAMETER = "ReservedConcurrency"
RESERVED_CONCURRENCY_CONDITION = "ReserveConcurrency"


def reserved_concurrency_condition(scope: Construct) -> CfnCondition:
    """The stack's ``ReservedConcurrency`` parameter (ENABLED by default) as a condition, made once per stack."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(RESERVED_CONCURRENCY_CONDITION)
    if isinstance(existing, CfnCondition):
        return existing
    parameter = CfnParameter(
        stack,
        RESERVED_CONCURRENCY_PARAMETER,
        default="ENABLED",
        allowed_values=["ENABLED", "DISABLED"],
        description="Reserved concurrency for Siren's paging path and caps on its public URLs (about "
        f"{ReservedConcurrency.BUDGET} executions at most). Needs an account concurrency quota that leaves 100 "
        "unreserved: DISABLED on new accounts (quota 10) until the quota is raised.",
    )
    return CfnCondition(
        stack, RESERVED_CONCURRENCY_CONDITION, expression=Fn.condition_equals(parameter.value_as_string, "ENABLED")
    )


class SharedLayer(Construct):
    """The ``siren`` package and its third-party dependencies, shared by every function."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(str(build_layer())),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            description="Siren shared package: domain, ports, adapters",
        )


@dataclass(frozen=True)
class FunctionBase:
    """What every Siren function gets: the shared and config layers, and the environment they need."""

    layers: list[lambda_.ILayerVersion]
    environment: dict[str, str]


class SirenFunction(Construct):
    """A Lambda function from ``functions/<package>`` with its own role, log group and the shared layer.

    The role starts empty: each concern grants exactly what its function touches (least privilege).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        package: str,
        handler: str,
        base: FunctionBase,
        environment: dict[str, str],
        description: str,
        timeout_seconds: int = 30,
        memory_size: int = 512,
        dead_letter_queue: sqs.IQueue | None = None,
        reserved_concurrency: int | None = None,
    ) -> None:
        """``reserved_concurrency``: one of :class:`ReservedConcurrency`'s numbers, applied when the stack's
        ``ReservedConcurrency`` parameter is ENABLED; None: the function shares the account's unreserved pool."""
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Siren {construct_id}: least privilege, granted per resource",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            code=lambda_.Code.from_asset(str(FUNCTIONS_ROOT / package), exclude=["__pycache__", "*.pyc"]),
            handler=handler,
            layers=base.layers,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            timeout=Duration.seconds(timeout_seconds),
            memory_size=memory_size,
            description=description,
            # Asynchronous invocations that fail every retry land here instead of being dropped.
            dead_letter_queue=dead_letter_queue,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                **base.environment,
                **environment,
            },
        )
        # Writing its own logs is the one permission every function has; scoped to its own log group.
        self.log_group.grant_write(self.role)
        self.reserved_concurrency: int | None = None
        if reserved_concurrency is not None:
            self.reserve_concurrency(reserved_concurrency)

    def reserve_concurrency(self, executions: int) -> None:
        """Reserve ``executions`` (one of :class:`ReservedConcurrency`'s numbers) when the stack's
        ``ReservedConcurrency`` parameter is ENABLED; without it the function shares the unreserved pool."""
        if not 1 <= executions <= ReservedConcurrency.BUDGET:
            raise ValueError(
                f"{self.node.id}: reserved concurrency must be 1..{ReservedConcurrency.BUDGET}, got {executions}"
            )
        condition = reserved_concurrency_condition(self)
        resource = self.function.node.default_child
        assert isinstance(resource, lambda_.CfnFunction)
        resource.add_property_override(
            "ReservedConcurrentExecutions", Fn.condition_if(condition.logical_id, executions, Aws.NO_VALUE)
        )
        self.reserved_concurrency = executions


# What a function may do to items of the incident table. Never Scan (no request path scans), never the table's
# control plane (PynamoDB builds the key schema from the models, without DescribeTable). In a TransactWriteItems
# each Put, Update, Delete and ConditionCheck is authorized as PutItem, UpdateItem, DeleteItem and
# ConditionCheckItem on its own item; a TransactGetItems as GetItem.
ITEM_ACTIONS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "ConditionCheckItem"}
)


def grant_table_items(
    function: SirenFunction,
    table: dynamodb.ITable,
    *,
    actions: Iterable[str],
    leading_keys: Iterable[ItemFamily],
    index_queries: Iterable[str] = (),
) -> None:
    """Let ``function`` do ``actions`` (DynamoDB action names, e.g. ``"GetItem"``) on the items of ``table`` whose
    partition key is in one of ``leading_keys`` (``dynamodb:LeadingKeys``), and Query the indexes named in
    ``index_queries``.

    An index Query is authorized on the index's ARN, and ``dynamodb:LeadingKeys`` is then the *index's* partition
    key (``STATUS#open``, ``MONTH#2026-11``), not the table's: so the indexes get a statement of their own, scoped by
    their ARNs (each index holds one kind of item: incidents, or the timeline's pages), never the table's families.
    ``ForAllValues`` is true for a request with no key at all (a Scan): that is why Scan is never grantable here.
    """
    wanted = list(actions)
    unknown = sorted(set(wanted) - ITEM_ACTIONS)
    if not wanted or unknown:
        raise ValueError(f"actions must be some of {sorted(ITEM_ACTIONS)}; got {wanted!r}")
    families = [ItemFamily(family) for family in leading_keys]
    if not families:
        raise ValueError("leading_keys must name the item families the function touches (infra.components.store)")
    indexes = list(index_queries)
    unknown_indexes = sorted(set(indexes) - set(INDEXES))
    if unknown_indexes:
        raise ValueError(f"no such index {unknown_indexes}; the table's indexes are {sorted(INDEXES)}")
    function.role.add_to_policy(
        iam.PolicyStatement(
            actions=[f"dynamodb:{action}" for action in sorted(set(wanted))],
            resources=[table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": sorted({str(f) for f in families})}},
        )
    )
    if indexes:
        function.role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[f"{table.table_arn}/index/{name}" for name in sorted(set(indexes))],
            )
        )


def grant_send_email(function: SirenFunction, sender: str, *, read_identity: bool = False) -> None:
    """SES v2 SendEmail from ``sender`` (the ``EmailSender`` parameter) only.

    SES authorizes sending on the identity ARNs involved: the sender's (its address or its domain, whichever is
    verified) and, while the account is in the SES sandbox, each recipient's too. So the resource is this account's
    and region's identities, and the ``ses:FromAddress`` condition pins the From address: the function cannot send
    as anyone else, nor from another account or region. ``read_identity``: also GetEmailIdentity (the report checks
    that its sender is verified before it renders and sends).
    """
    identities = Stack.of(function).format_arn(service="ses", resource="identity", resource_name="*")
    function.role.add_to_policy(
        iam.PolicyStatement(
            actions=["ses:SendEmail"],
            resources=[identities],
            conditions={"StringEquals": {"ses:FromAddress": sender}},
        )
    )
    if read_identity:
        function.role.add_to_policy(iam.PolicyStatement(actions=["ses:GetEmailIdentity"], resources=[identities]))
    acknowledge(
        function.role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
        "SES authorizes a send on the sender's identity (address or domain) and, in the SES sandbox, on each "
        "recipient's; sending is pinned to the EmailSender address by the ses:FromAddress condition, and "
        "GetEmailIdentity only reads verification status.",
    )


def deny_topic_publish(function: SirenFunction) -> None:
    """An explicit Deny of ``sns:Publish`` to any topic: a function that texts phone numbers directly (SNS SMS)
    needs ``sns:Publish`` on ``*`` (a phone number is no resource), and this keeps that grant from ever reaching a
    topic (Siren's or anyone's), whatever else is granted later."""
    function.role.add_to_policy(
        iam.PolicyStatement(
            effect=iam.Effect.DENY, actions=["sns:Publish"], resources=[f"arn:{Aws.PARTITION}:sns:*:*:*"]
        )
    )


def grant_sms_via_sns(function: SirenFunction) -> None:
    """``sns:Publish`` for direct SMS to phone numbers (no topic), with :func:`deny_topic_publish`."""
    function.role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]))
    deny_topic_publish(function)
