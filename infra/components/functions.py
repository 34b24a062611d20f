"""The shared layer and the one way Siren defines a Lambda function."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.layer_build import PYTHON_VERSION, build_layer
from siren.observability import METRICS_NAMESPACE, SERVICE

FUNCTIONS_ROOT = Path(__file__).resolve().parents[2] / "functions"
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
assert LAMBDA_RUNTIME.name == f"python{PYTHON_VERSION}", "the layer is built for the function runtime"


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
    ) -> None:
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
