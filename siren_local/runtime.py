"""The embedded local AWS: one process, moto plus Siren's adapters, in either of two transports.

- ``LocalAws.over_http(port)``: moto's server on 127.0.0.1:port. Any AWS client with
  ``AWS_ENDPOINT_URL=http://127.0.0.1:port`` sees the deployed stack. This is ``siren local up``.
- ``LocalAws.in_process()``: moto's in-process interception (``mock_aws``), about 1 ms per DynamoDB call; for
  fast tests of the same template and code.

Both deploy the synthesized template (see deploy.py) and run the same adapters.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from siren_local import clock
from siren_local.adapters import install_adapters
from siren_local.cloudwatch import restore_stdout
from siren_local.cloudwatch_alarms import AlarmEvaluator
from siren_local.control import SLACK_API_ROUTE, ControlMiddleware
from siren_local.deploy import DeployedStack, default_region, deploy_stack
from siren_local.dynamodb_streams import StreamDispatcher
from siren_local.faults import LAMBDA_PREFIX, Fault, FaultError, FaultInjector
from siren_local.function_urls import serve, split_url
from siren_local.http_messages import CONTROL_PREFIX, HttpRequest, HttpResponse
from siren_local.http_server import SERVER_THREAD, PortInUseError, make_server, port_is_free
from siren_local.iam import credentials, enforcement
from siren_local.iam.enforcement import Enforcement
from siren_local.inbound_sms import LOCAL_ORIGINATION_NUMBER
from siren_local.lambda_runtime import InProcessLambdaRuntime
from siren_local.outbox import Outbox
from siren_local.scheduler import SchedulerTicker
from siren_local.slack_api import SlackApiFake
from siren_local.sms_voice import SmsVoiceFake
from siren_local.stepfunctions import execution_threads, stop_running_executions
from siren_local.threads import LOOK_INTERVAL_S, background_threads, thread_stacks, wait_for

# What callers outside the package import from here: the runtime, and what they need to run it.
__all__ = ["LocalAws", "PortInUseError", "background_threads", "port_is_free", "running_runtimes"]

log = logging.getLogger("siren.local")

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Where in-process URLs (status page, function URLs) point: no server listens, they name things to call directly.
IN_PROCESS_BASE = "in-process://"


# How long stop() waits, in all, for what the runtime started: handlers in flight finish within it (on a busy
# 2-core machine, a few dozen runs and stream batches winding down at once were seen to take 8 s).
STOP_TIMEOUT_S = 30.0
_running: set[int] = set()  # id() of each LocalAws between start() and stop(): one at a time per process


def running_runtimes() -> set[int]:
    """Which runtimes run now (as ``id()`` values): a test guard tells a shared runtime's threads from a leak."""
    return set(_running)


@dataclass
class LocalAws:
    """One embedded local AWS. Use as a context manager, or call start() and stop()."""

    transport: str  # "http" or "in-process"
    host: str = "127.0.0.1"
    port: int = 4566
    time_scale: float = 1.0
    region: str = field(default_factory=default_region)
    outbox: Outbox = field(default_factory=Outbox)
    stacks: dict[str, DeployedStack] = field(default_factory=dict)
    lambda_runtime: InProcessLambdaRuntime = field(init=False)
    sms_voice: SmsVoiceFake = field(init=False)
    slack_api: SlackApiFake = field(init=False)
    scheduler: SchedulerTicker = field(init=False)
    streams: StreamDispatcher = field(init=False)
    alarms: AlarmEvaluator = field(init=False)
    faults: FaultInjector = field(default_factory=FaultInjector)
    # Authorize every request against its caller's identity policies, each function calling as its own role
    # (siren_local/iam/): a grant narrowed too far fails here as it would on AWS.
    enforce_iam: bool = False
    iam: Enforcement | None = None
    unstopped: list[str] = field(default_factory=list)  # threads that outlived the last stop() (see stop)
    _server: Any = None
    _server_thread: threading.Thread | None = None
    _mock: Any = None
    _saved_environment: dict[str, str | None] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.transport not in ("http", "in-process"):
            raise ValueError(f"unknown transport {self.transport!r}")
        self.lambda_runtime = InProcessLambdaRuntime(endpoint_url=self.endpoint_url, faults=self.faults)
        self.sms_voice = SmsVoiceFake(self.outbox, self.faults)
        self.slack_api = SlackApiFake(self.outbox)
        self.scheduler = SchedulerTicker()
        self.streams = StreamDispatcher()
        self.alarms = AlarmEvaluator()

    @classmethod
    def over_http(
        cls, port: int = 4566, time_scale: float = 1.0, host: str = "127.0.0.1", enforce_iam: bool = False
    ) -> LocalAws:
        return cls(transport="http", port=port, time_scale=time_scale, host=host, enforce_iam=enforce_iam)

    @classmethod
    def in_process(cls, time_scale: float = 1.0, enforce_iam: bool = False) -> LocalAws:
        return cls(transport="in-process", time_scale=time_scale, enforce_iam=enforce_iam)

    @property
    def endpoint_url(self) -> str | None:
        return f"http://{self.host}:{self.port}" if self.transport == "http" else None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> LocalAws:
        clock.set_time_scale(self.time_scale)
        clock.end_stopping()
        environment = dict(LOCAL_CREDENTIALS, AWS_DEFAULT_REGION=self.region)
        if self.transport == "http":
            if not port_is_free(self.host, self.port):
                raise PortInUseError(errno.EADDRINUSE, f"port {self.port} on {self.host} is already in use")
            # The Step Functions interpreter calls back to localhost:$MOTO_PORT.
            environment["MOTO_PORT"] = str(self.port)
            # Slack's Web API for the deployed functions (their WebClient's base_url): the runtime's Slack fake.
            environment["SLACK_API_URL"] = f"{self.endpoint_url}{CONTROL_PREFIX}{SLACK_API_ROUTE}"
        self._set_environment(environment)
        install_adapters(
            self.lambda_runtime, self.outbox, self.sms_voice, self.streams, self.endpoint_url or IN_PROCESS_BASE
        )
        if self.transport == "http":
            self._start_server()
        else:
            from moto import mock_aws

            self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
            self._mock.start()
        if self.enforce_iam:
            self._enforce_iam()
        self.scheduler.start()
        self.alarms.start()
        _running.add(id(self))
        return self

    def _enforce_iam(self) -> None:
        from moto.core.models import DEFAULT_ACCOUNT_ID

        credentials.install_credentials()
        self.iam = enforcement.enable(DEFAULT_ACCOUNT_ID, self.region)
        self.lambda_runtime.role_credentials = self.iam.role_credentials

    def _start_server(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        app = ControlMiddleware(DomainDispatcherApplication(create_backend_app), self)
        try:
            self._server = make_server(self.host, self.port, app)
        except OSError as error:
            raise PortInUseError(error.errno, f"cannot listen on {self.host}:{self.port}: {error.strerror}") from error
        self._server_thread = threading.Thread(
            target=self._server.serve_forever, args=(LOOK_INTERVAL_S,), name=SERVER_THREAD, daemon=True
        )
        self._server_thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> list[str]:
        """Stop everything this runtime started and wait for it, at most ``timeout`` seconds in all.

        Running and waiting Step Functions runs (callback waits, Wait states, retry intervals), DynamoDB stream
        workers and their retries, the scheduler, asynchronous invocations, the HTTP server and its connections.
        Returns the names of the threads still running when the time ran out (also logged, and kept in
        ``unstopped``); empty when everything stopped. Whatever happens, the server stops and moto's state is reset.
        """
        deadline = time.monotonic() + timeout
        # Runs first: a retry interval cut short below must find its run already stopped, not retry the task.
        stop_running_executions()
        clock.begin_stopping()  # every scaled wait (retry intervals, backoffs) ends now
        self.faults.release()  # and every call a fault holds (--hang) fails now
        unstopped: list[threading.Thread] = []
        try:
            # The sources of new work first, then the runs: a task in flight may still start a run (an outbox relay
            # putting an event), so runs are stopped again until no worker is left.
            self.scheduler.stop()
            self.alarms.stop()
            self.streams.stop()
            self.lambda_runtime.shutdown()
            unstopped = wait_for(self._worker_threads, deadline, before_each_look=stop_running_executions)
        finally:
            unstopped += self._stop_server(deadline)
            self.lambda_runtime.remove_code()
            restore_stdout()
            # The functions' process-wide caches (clients, bound models, use cases) name this runtime's endpoint.
            from siren.bootstrap import forget_built

            forget_built()
            if self._mock is not None:
                self._mock.stop()
                self._mock = None
            self._restore_environment()
            if self.iam is not None:
                enforcement.disable()
            _running.discard(id(self))
        self.unstopped = [thread.name for thread in unstopped if thread.is_alive()]
        if self.unstopped:
            log.warning(
                "stopped, but %d threads still run after %.0fs: %s\n%s",
                len(self.unstopped),
                timeout,
                ", ".join(self.unstopped),
                thread_stacks(unstopped),
            )
        return self.unstopped

    def _worker_threads(self) -> list[threading.Thread]:
        current = threading.current_thread()  # a function that stops the runtime it runs in cannot wait for itself
        threads = (
            execution_threads()
            + self.streams.threads()
            + self.lambda_runtime.threads()
            + self.scheduler.threads()
            + self.alarms.threads()
        )
        return [thread for thread in threads if thread is not current]

    def _stop_server(self, deadline: float) -> list[threading.Thread]:
        if self._server is None:
            return []
        server, self._server = self._server, None
        server.shutdown()  # serve_forever returns: no new connections
        # At least a moment for the server's own threads, even when the workers used up the time: a connection's
        # response in flight and the loop's thread end at once once the loop has stopped.
        deadline = max(deadline, time.monotonic() + 1.0)
        unstopped = wait_for(server.connection_threads, deadline)
        server.server_close()
        if self._server_thread is not None:
            self._server_thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if self._server_thread.is_alive():
                unstopped.append(self._server_thread)
            self._server_thread = None
        # moto's backends are process-global: the next runtime in this process starts empty.
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        return unstopped

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _set_environment(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_environment.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_environment(self) -> None:
        for key, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environment.clear()

    # -- clients and deploys --------------------------------------------------------------------------
    def client(self, service: str, region: str | None = None) -> Any:
        """A client of this runtime, in ``region`` (default: the runtime's own); made once per service and region
        (clients are thread-safe, and tests ask for one in every poll)."""
        key = (service, region or self.region)
        with self._clients_lock:
            if key not in self._clients:
                self._clients[key] = boto3.session.Session(
                    aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                    region_name=key[1],
                ).client(service, endpoint_url=self.endpoint_url, config=Config(retries={"max_attempts": 2}))
            return self._clients[key]

    def deploy(
        self,
        assembly_dir: Path,
        stack_name: str,
        parameters: dict[str, str] | None = None,
        region: str | None = None,
    ) -> DeployedStack:
        """Deploy ``stack_name`` from a synthesized assembly into ``region`` (default: the runtime's own)."""
        stack = deploy_stack(lambda service: self.client(service, region), assembly_dir, stack_name, parameters)
        self.stacks[stack_name] = stack
        return stack

    def deploy_siren(self, assembly_dir: Path, stack_name: str = "Siren", canary: bool | None = None) -> DeployedStack:
        """Deploy Siren as an operator would set it up: pages go from a (local) End User Messaging number, and
        the page email sender is verified in SES.

        ``canary``: whether Siren's end-to-end canary runs (the ``CanaryState`` parameter). By default it does over
        HTTP; the in-process transport has no HTTP front door for it to go through. Tests of other behaviour turn
        it off: each canary run is an incident of its own, which they would see."""
        sender = "siren@example.com"
        self.client("sesv2").create_email_identity(EmailIdentity=sender)
        stack = self.deploy(
            assembly_dir,
            stack_name,
            {
                "OriginationIdentity": LOCAL_ORIGINATION_NUMBER,
                "EmailSender": sender,
                "CanaryState": "ENABLED" if (self.transport == "http" if canary is None else canary) else "DISABLED",
            },
        )
        chat_secret = stack.outputs.get("ChatWebhookSecretArn")
        if chat_secret and self.endpoint_url:
            # The team's chat channel: the runtime's own Slack-compatible webhook, recorded in the outbox.
            url = f"{self.endpoint_url}{CONTROL_PREFIX}chat/incidents"
            self.client("secretsmanager").put_secret_value(SecretId=chat_secret, SecretString=json.dumps({"url": url}))
        return stack

    def connect_slack(self, stack_name: str = "Siren") -> str:
        """Install the Slack app in the local workspace: a bot token (``xoxb-...``) put in the stack's bot token
        secret, as the operator puts Slack's, and the only one the Slack fake (slack_api.py) accepts. Until then
        the notifier finds the generated placeholder and posts nothing, so tests of other behaviour see no Slack
        calls in the outbox. Over HTTP only: deployed functions reach the fake through SLACK_API_URL."""
        if not self.endpoint_url:
            raise RuntimeError("the Slack fake is served over HTTP: start the runtime with transport http")
        secret = self.stacks[stack_name].outputs["SlackBotTokenSecretArn"]
        token = f"xoxb-local-{secrets.token_hex(12)}"
        self.slack_api.allow_token(token)
        self.client("secretsmanager").put_secret_value(SecretId=secret, SecretString=token)
        return token

    def add_fault(self, target: str, **options: Any) -> Fault:
        """Set a fault (faults.py): ``lambda:<LogicalId>`` names a deployed function by its logical id in a stack's
        template, or by an unambiguous beginning of it (``lambda:EscalationStep``)."""
        if str(target).startswith(LAMBDA_PREFIX):
            options["function_name"] = self._function_named(str(target)[len(LAMBDA_PREFIX) :].strip())
        return self.faults.add(target, **options)

    def _function_named(self, logical_id: str) -> str:
        candidates = [
            (stack, name)
            for stack in self.stacks.values()
            for name, resource in stack.template.get("Resources", {}).items()
            if resource.get("Type") == "AWS::Lambda::Function"
        ]
        exact = [(stack, name) for stack, name in candidates if name == logical_id]
        found = exact or [(stack, name) for stack, name in candidates if name.startswith(logical_id)]
        if len(found) != 1:
            known = ", ".join(sorted(name for _, name in candidates)) or "none (nothing is deployed)"
            what = "matches several functions" if found else "names no deployed function"
            raise FaultError(f"lambda:{logical_id} {what}; the functions' logical ids: {known}")
        stack, name = found[0]
        resource = self.client("cloudformation", stack.region).describe_stack_resource(
            StackName=stack.name, LogicalResourceId=name
        )["StackResourceDetail"]
        return str(resource["PhysicalResourceId"]).rsplit(":", 1)[-1]

    def pause_schedules(self, name_part: str) -> list[str]:
        """Disable the deployed schedules whose name contains ``name_part``, as an operator would in the console;
        returns their names."""
        scheduler = self.client("scheduler")
        paused = []
        for listed in scheduler.list_schedules()["Schedules"]:
            if name_part not in listed["Name"]:
                continue
            schedule = scheduler.get_schedule(Name=listed["Name"], GroupName=listed["GroupName"])
            scheduler.update_schedule(
                Name=schedule["Name"],
                GroupName=schedule["GroupName"],
                State="DISABLED",
                ScheduleExpression=schedule["ScheduleExpression"],
                FlexibleTimeWindow=schedule["FlexibleTimeWindow"],
                Target=schedule["Target"],
            )
            paused.append(schedule["Name"])
        return paused

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until asynchronous Lambda invocations and DynamoDB stream deliveries (and what they set off)
        have finished: True when everything is idle, False if ``timeout`` seconds passed first.

        Each kind of work can start the other (a stream consumer puts events whose targets run asynchronously;
        an asynchronous function writes to a table with a stream), so this waits for both in turn until a round
        finds both idle with no new work submitted while it looked.
        """
        deadline = time.monotonic() + timeout
        while True:
            before = (self.lambda_runtime.submitted, self.streams.enqueued)
            if not self.lambda_runtime.drain(max(0.0, deadline - time.monotonic())):
                return False
            if not self.streams.wait_idle(max(0.0, deadline - time.monotonic())):
                return False
            after = (self.lambda_runtime.submitted, self.streams.enqueued)
            if before == after and self.lambda_runtime.idle() and self.streams.idle():
                return True
            if time.monotonic() >= deadline:
                return False

    def call_function_url(
        self,
        url: str,
        method: str = "GET",
        *,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str = b"",
    ) -> HttpResponse:
        """Request a function URL (either transport's form) directly, as the HTTP route would serve it.

        ``url`` may carry a sub-path and a query string after the URL's root.
        """
        url_id, path, query = split_url(url)
        header_list = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        content = body.encode() if isinstance(body, str) else body
        return serve(url_id, HttpRequest(method=method, path=path, query=query, headers=header_list, body=content))

    # -- views ----------------------------------------------------------------------------------------
    def info(self, stack_name: str = "Siren") -> dict[str, Any]:
        stack = self.stacks.get(stack_name)
        outputs = dict(stack.outputs) if stack else {}
        base = self.endpoint_url or IN_PROCESS_BASE
        webhook_token = self._webhook_token(outputs)
        return {
            "endpoint": self.endpoint_url,
            "region": self.region,
            "time_scale": self.time_scale,
            "stack": stack_name if stack else None,
            "outputs": outputs,
            "status_page_url": f"{base}{CONTROL_PREFIX}status/index.html" if "StatusBucketName" in outputs else None,
            "webhook_url": outputs.get("WebhookUrl"),
            "webhook_token": webhook_token,
            "watchdog": self._watchdog_info(),
            "faults": len(self.faults.faults()),
            # Whether IAM is enforced, and how many requests it refused (each is logged with role, action, resource).
            "iam": {"enforced": self.iam is not None, "access_denied": len(self.iam.denials) if self.iam else 0},
        }

    def _watchdog_info(self) -> dict[str, Any] | None:
        """The watchdog stack (in its own region), known by its output; None when none is deployed."""
        for stack in self.stacks.values():
            if "WatchdogTopicArn" in stack.outputs:
                return {"stack": stack.name, "region": stack.region, "outputs": dict(stack.outputs)}
        return None

    def _webhook_token(self, outputs: dict[str, str]) -> str | None:
        secret_arn = outputs.get("WebhookTokenSecretArn")
        if not secret_arn:
            return None
        secret: str = self.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
        return secret

    def outbox_json(self) -> list[dict[str, Any]]:
        return [message.to_json() for message in self.outbox.messages()]
