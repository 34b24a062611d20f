"""Lambda functions run in-process, from the code that was deployed.

moto runs Lambda code in Docker; there is none here. This adapter replaces the one seam every invocation goes
through (``LambdaFunction._invoke_lambda``), so boto3 Invoke, Step Functions ``lambda:invoke``, SNS and
EventBridge deliveries all reach the real handler, loaded from the deployed zip. The ``siren`` shared package
and its dependencies come from this process (they are the source the layer is built from).

Each function's environment variables apply through :func:`siren.settings.function_environment`, a context
variable, so concurrent invocations of different functions do not see each other's settings.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import logging
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from moto.awslambda import models as lambda_models
from moto.utilities import docker_utilities
from siren.settings import function_environment

log = logging.getLogger("siren.local.lambda")

# Lambda's asynchronous invocation: the first attempt plus two retries, then the function's dead-letter queue.
ASYNC_ATTEMPTS = 3


@dataclass
class InvocationRecord:
    function_name: str
    request_id: str
    errored: bool
    error_type: str | None
    duration_ms: float
    asynchronous: bool


class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, function: Any, request_id: str, deadline: float) -> None:
        self.function_name: str = function.function_name
        self.function_version: str = str(function.version)
        self.invoked_function_arn: str = function.function_arn
        self.memory_limit_in_mb: int = int(function.memory_size)
        self.aws_request_id = request_id
        self.log_group_name: str = function.logs_group_name
        self.log_stream_name = f"local/{request_id}"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class InProcessLambdaRuntime:
    """Loads deployed handler code and runs it in this process."""

    endpoint_url: str | None = None
    code_root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="siren-lambda-")))
    invocations: list[InvocationRecord] = field(default_factory=list)
    _handlers: dict[tuple[str, str, str], Callable[..., Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _async_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="lambda-async")
    )
    _pending: set[Future[None]] = field(default_factory=set)

    # -- loading --------------------------------------------------------------------------------------
    def _handler_for(self, function: Any) -> Callable[..., Any]:
        code: bytes = function.code_bytes
        digest = hashlib.sha256(code).hexdigest()[:16]
        key = (function.function_name, digest, function.handler)
        with self._lock:
            if key in self._handlers:
                return self._handlers[key]
            module_path, _, attribute = str(function.handler).rpartition(".")
            if not module_path or not attribute:
                raise ImportError(f"Bad handler {function.handler!r}: expected module.function")
            code_dir = self.code_root / digest
            if not code_dir.exists():
                staging = code_dir.with_suffix(".tmp")
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    archive.extractall(staging)
                staging.rename(code_dir)
            source = code_dir / (module_path.replace(".", "/") + ".py")
            if not source.exists():
                raise ImportError(f"Unable to import module {module_path!r}: {source.name} is not in the package")
            # A name private to this code version: handler modules of different functions never collide.
            unique_name = f"_siren_lambda_{digest}_{module_path.replace('.', '_')}"
            spec = importlib.util.spec_from_file_location(unique_name, source)
            assert spec is not None and spec.loader is not None
            module: ModuleType = importlib.util.module_from_spec(spec)
            sys.modules[unique_name] = module
            spec.loader.exec_module(module)
            handler = getattr(module, attribute, None)
            if not callable(handler):
                raise ImportError(f"Handler {attribute!r} missing on module {module_path!r}")
            self._handlers[key] = handler
            return cast(Callable[..., Any], handler)

    def _environment(self, function: Any, request_id: str) -> dict[str, str]:
        env = {
            "_HANDLER": str(function.handler),
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_REQUEST_ID": request_id,
        }
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        env.update({str(k): str(v) for k, v in (function.environment_vars or {}).items()})
        return env

    # -- invoking -------------------------------------------------------------------------------------
    def invoke(self, function: Any, event: Any, asynchronous: bool = False) -> tuple[str, bool]:
        """Run the handler once. Returns the JSON response and whether the function errored."""
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        error_type: str | None = None
        try:
            handler = self._handler_for(function)
            context = LambdaContext(function, request_id, started + float(function.timeout))
            with function_environment(self._environment(function, request_id)):
                result = handler(event, context)
            response = json.dumps(result)
            errored = False
        except Exception as error:
            error_type = type(error).__name__
            if isinstance(error, ImportError):
                error_type = "Runtime.ImportModuleError"
            response = json.dumps(
                {
                    "errorMessage": str(error),
                    "errorType": error_type,
                    "requestId": request_id,
                    "stackTrace": traceback.format_tb(error.__traceback__),
                }
            )
            errored = True
            log.warning("function %s failed: %s: %s", function.function_name, error_type, error)
        duration_ms = (time.monotonic() - started) * 1000
        with self._lock:
            self.invocations.append(
                InvocationRecord(function.function_name, request_id, errored, error_type, duration_ms, asynchronous)
            )
        return response, errored

    def invoke_async(self, function: Any, event: Any) -> None:
        """Lambda's asynchronous invocation: queued, retried twice, then the dead-letter queue."""
        future = self._async_pool.submit(self._invoke_with_retries, function, event)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _invoke_with_retries(self, function: Any, event: Any) -> None:
        from siren_local.clock import scaled_sleep

        response = ""
        for attempt in range(ASYNC_ATTEMPTS):
            response, errored = self.invoke(function, event, asynchronous=True)
            if not errored:
                return
            if attempt + 1 < ASYNC_ATTEMPTS:
                scaled_sleep(60.0 * (attempt + 1))  # Lambda waits about a minute, then two
        dead_letter_arn = getattr(function, "siren_dead_letter_arn", None)
        if dead_letter_arn:
            send_to_queue(dead_letter_arn, json.dumps(event), {"ErrorMessage": response[:1000]})
            log.error(
                "function %s failed %d times; event kept in %s",
                function.function_name,
                ASYNC_ATTEMPTS,
                dead_letter_arn,
            )
        else:
            log.error(
                "function %s failed %d times and has no dead-letter queue; event dropped",
                function.function_name,
                ASYNC_ATTEMPTS,
            )

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every asynchronous invocation (and those it caused) has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return True
            for future in pending:
                future.exception(timeout=max(0.0, deadline - time.monotonic()))
        return False

    def shutdown(self) -> None:
        self._async_pool.shutdown(wait=False, cancel_futures=True)


def send_to_queue(queue_arn: str, body: str, attributes: dict[str, str]) -> None:
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = queue_arn.split(":", 5)
    sqs_backends[account][region].send_message(
        name,
        body,
        message_attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )


# -- installing the seam ---------------------------------------------------------------------------------
_active: InProcessLambdaRuntime | None = None
_original_init = lambda_models.LambdaFunction.__init__


def active_runtime() -> InProcessLambdaRuntime:
    if _active is None:
        raise RuntimeError("the in-process Lambda runtime is not installed")
    return _active


def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
    response, errored = active_runtime().invoke(self, event if event is not None else {})
    return response, errored, ""


def _init_keeping_dead_letter_config(
    self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any
) -> None:
    _original_init(self, account_id, spec, *args, **kwargs)
    # moto drops DeadLetterConfig; asynchronous failures need it.
    self.siren_dead_letter_arn = (spec.get("DeadLetterConfig") or {}).get("TargetArn")


def install(runtime: InProcessLambdaRuntime) -> None:
    global _active
    _active = runtime
    setattr(lambda_models.LambdaFunction, "_invoke_lambda", _invoke_lambda)  # noqa: B010
    setattr(lambda_models.LambdaFunction, "__init__", _init_keeping_dead_letter_config)  # noqa: B010
    # Without Docker, moto's model state dump (/moto-api/data.json) fails on the Docker client: there is none.
    setattr(docker_utilities.DockerModel, "docker_client", property(lambda self: None))  # noqa: B010
