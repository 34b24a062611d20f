"""Where the CLI's AWS calls go: the normal credential chain, or the embedded local AWS."""

from __future__ import annotations

import getpass
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from siren_cli.errors import CliError

DEFAULT_LOCAL_PORT = 4566
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def local_endpoint(port: int | None = None) -> str:
    if port is not None:
        return f"http://127.0.0.1:{port}"
    return os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{DEFAULT_LOCAL_PORT}"


@dataclass(frozen=True)
class Target:
    """An AWS to talk to: ``endpoint`` None means real AWS through the normal credential chain."""

    endpoint: str | None

    @property
    def is_local(self) -> bool:
        return self.endpoint is not None

    def client(self, service: str) -> Any:
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=30)
        if self.endpoint is None:
            return boto3.client(service, config=config)
        session = boto3.session.Session(
            region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), **LOCAL_CREDENTIALS
        )
        return session.client(service, endpoint_url=self.endpoint, config=config)

    def control(self, route: str, body: dict[str, Any] | None = None) -> Any:
        """Call the local runtime's own API (``/_siren/...``)."""
        if self.endpoint is None:
            raise CliError("this command needs the embedded local AWS (use --local or AWS_ENDPOINT_URL)")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the endpoint is the local runtime's http URL
            f"{self.endpoint}/_siren/{route}",
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("error", error.reason)
            raise CliError(f"local runtime: {detail}") from None
        except (urllib.error.URLError, ConnectionError) as error:
            raise CliError(
                f"cannot reach the embedded local AWS at {self.endpoint}: is `siren local up` running? "
                f"({getattr(error, 'reason', error)})"
            ) from None

    def outputs(self, stack_name: str = "Siren") -> dict[str, str]:
        stacks = self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}

    def parameter(self, stack_name: str, name: str) -> str | None:
        stacks = self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        found = [p.get("ParameterValue") for p in stacks[0].get("Parameters", []) if p.get("ParameterKey") == name]
        return str(found[0]) if found and found[0] else None

    def activate(self) -> None:
        """Point this process's AWS SDK clients (boto3, PynamoDB) at this target."""
        if self.endpoint is not None:
            os.environ["AWS_ENDPOINT_URL"] = self.endpoint
            os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
            for name, value in LOCAL_CREDENTIALS.items():
                os.environ.setdefault(name.upper(), value)

    def actor(self) -> str:
        """Who is acting, for the timeline: $SIREN_ACTOR, else the local user, else the AWS identity."""
        if os.environ.get("SIREN_ACTOR"):
            return os.environ["SIREN_ACTOR"]
        if self.is_local:
            return f"{getpass.getuser()} (cli)"
        arn = str(self.client("sts").get_caller_identity()["Arn"])
        return arn.rsplit("/", 1)[-1] + " (cli)"
