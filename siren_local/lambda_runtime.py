"""Lambda functions run in-process, from the code that was deployed.

moto runs Lambda code in Docker; there is none here. This adapter replaces the one seam every invocation goes
through (``LambdaFunction._invoke_lambda``), so boto3 Invoke, Step Functions ``lambda:invoke``, SNS and
EventBridge deliveries all reach the real handler, loaded from the deployed zip. The ``siren`` shared package
and its dependencies come from this process (they are the source the layer is built from).

Each function's environment variables apply through :func:`siren.settings.function_environment`, a context
variable, so concurrent invocations of different functions do not see each other's settings.

Layers: on AWS a function's layers are extracted, in order, into ``/opt``. Here each layer's content is extracted
once per process, and each distinct list of layers gets one directory holding their files in the same order (a
later layer's file replaces an earlier one's): the local stand-in for the ``/opt`` mount (:meth:`opt_directory`),
shared by the functions with those layers, in every runtime this process starts (see :class:`ExtractedLayers`). In
the function's environment, a value that is ``/opt`` or starts with ``/opt/`` names that directory instead
(``SIREN_CONFIG_PATH=/opt/siren-config/config.json`` -> ``<that directory>/siren-config/config.json``). Python
packages in layers are not imported from there: they come from this process, as the shared ``siren`` package does.
moto's CloudFormation drops a function's ``Layers`` (and ``DeadLetterConfig``): :func:`_create_from_cloudformation`
keeps them.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import io
import json
import logging
import os
import shutil
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
from siren_local.clock import scaled_sleep
from siren_local.cloudwatch import invocation_metrics, lambda_invoked
from siren_local.faults import FaultInjector
from siren_local.patching import require_moto

log = logging.getLogger("siren.local.lambda")

# Lambda's asynchronous invocation: the first attempt plus two retries, then the function's dead-letter queue.
ASYNC_ATTEMPTS = 3
ASYNC_THREAD_PREFIX = "lambda-async"


class InjectedFault(Exception):
    """What a function raises when a ``lambda:<LogicalId>`` fault strikes (faults.py): the invocation ends in a
    function error, as an unhandled exception in the handler would, so Step Functions' Retry and Catch, Lambda's
    asynchronous retries and the dead-letter queue all see it."""


@dataclass
class InvocationRecord:
    function_name: str
    request_id: str
    errored: bool
    error_type: str | None
    duration_ms: float
    asynchronous: bool
    started_at: float = 0.0  # wall clock (time.time()): orders invocations against other services' timestamps


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


class ExtractedLayers:
    """Layer contents and their ``/opt`` merges, extracted once per process, kept by content until it exits.

    Every runtime a process starts deploys the same assembly again: the same layers, byte for byte (Siren's shared
    layer is 16 MB of 1,400 files). Extracting them again for each runtime, and linking them again for each
    function, was most of a runtime's first invocations (measured: 1.6-2.3 s per runtime's first request). They
    are keyed by their content's SHA-256, so a layer that changes is a new key, and they are read-only, as ``/opt``
    is on AWS. A runtime's own code and its directory go when it stops; these go when the process exits.
    """

    def __init__(self, root: Path | None = None) -> None:
        """``root``: where to keep them (kept after exit); by default a temporary directory, made on first use."""
        self._lock = threading.Lock()
        self._root = root

    def _directory(self) -> Path:
        """The process's directory for them, made on first use (call with ``_lock`` held)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="siren-layers-"))
            atexit.register(shutil.rmtree, self._root, ignore_errors=True)
        return self._root

    def opt_directory(self, layer_versions: list[Any]) -> Path:
        """The files of ``layer_versions`` in order (a later layer's file replaces an earlier one's)."""
        digests = [_content_digest(version) for version in layer_versions]
        with self._lock:
            target = self._directory() / f"opt-{hashlib.sha256('|'.join(digests).encode()).hexdigest()[:16]}"
            if target.exists():
                return target
            staging = _fresh_staging(target)
            for version, digest in zip(layer_versions, digests, strict=True):
                _link_tree(self._layer_directory(version, digest), staging)
            staging.rename(target)
        return target

    def _layer_directory(self, layer_version: Any, digest: str) -> Path:
        """A layer's files, extracted once (call with ``_lock`` held)."""
        target = self._directory() / f"layer-{digest[:16]}"
        if not target.exists():
            staging = _fresh_staging(target)
            code: bytes = layer_version.code_bytes
            if code:
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    archive.extractall(staging)
            staging.rename(target)
        return target


def _content_digest(layer_version: Any) -> str:
    """The SHA-256 of a layer version's zip (moto computes it when the version is published)."""
    return str(getattr(layer_version, "code_digest", "") or hashlib.sha256(layer_version.code_bytes).hexdigest())


def _fresh_staging(target: Path) -> Path:
    staging = target.with_suffix(".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


EXTRACTED_LAYERS = ExtractedLayers()


@dataclass
class InProcessLambdaRuntime:
    """Loads deployed handler code and runs it in this process."""

    endpoint_url: str | None = None
    faults: FaultInjector | None = None
    code_root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="siren-lambda-")))
    invocations: list[InvocationRecord] = field(default_factory=list)
    _handlers: dict[tuple[str, str, str], Callable[..., Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _async_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix=ASYNC_THREAD_PREFIX)
    )
    _pending: set[Future[None]] = field(default_factory=set)
    submitted: int = 0  # asynchronous invocations queued so far: drain() uses it to notice new work
    # The credentials of a role's session (siren_local.iam): set when IAM is enforced, so that each function
    # calls AWS as its execution role does on AWS; None: functions use the process's credentials.
    role_credentials: Callable[[str], dict[str, str]] | None = None
    _shut_down: bool = False

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

    # -- layers: the /opt view ------------------------------------------------------------------------------
    def opt_directory(self, function: Any) -> Path:
        """The local stand-in for ``/opt`` of ``function``: its layers' files, extracted in order."""
        from moto.awslambda.utils import get_backend

        backend = get_backend(function.account_id, function.region)
        versions = []
        for layer in function.layers or []:
            version = backend.layers_versions_by_arn(layer["Arn"])
            if version is None:
                raise LookupError(f"layer version {layer['Arn']} of {function.function_name} does not exist")
            versions.append(version)
        return EXTRACTED_LAYERS.opt_directory(versions)

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
        if self.role_credentials is not None:
            env.update(self.role_credentials(str(function.role)))
        variables = {str(k): str(v) for k, v in (function.environment_vars or {}).items()}
        if any(_names_opt(value) for value in variables.values()):
            opt = str(self.opt_directory(function))
            variables = {k: opt + v[len(OPT_MOUNT) :] if _names_opt(v) else v for k, v in variables.items()}
        env.update(variables)
        return env

    # -- invoking -------------------------------------------------------------------------------------
    def invoke(self, function: Any, event: Any, asynchronous: bool = False) -> tuple[str, bool]:
        """Run the handler once. Returns the JSON response and whether the function errored."""
        request_id = str(uuid.uuid4())
        started, started_at = time.monotonic(), time.time()
        error_type: str | None = None
        try:
            fault = self.faults.strike_function(function.function_name) if self.faults is not None else None
            if fault is not None:
                raise InjectedFault(
                    f"{function.function_name} failed: injected by the embedded local AWS "
                    f"(fault {fault.id}, hit {fault.hits})"
                )
            handler = self._handler_for(function)
            context = LambdaContext(function, request_id, started + float(function.timeout))
            with (
                function_environment(self._environment(function, request_id)),
                invocation_metrics(str(function.account_id), str(function.region)),
            ):
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
        lambda_invoked(function, errored, duration_ms)
        with self._lock:
            self.invocations.append(
                InvocationRecord(
                    function.function_name, request_id, errored, error_type, duration_ms, asynchronous, started_at
                )
            )
        return response, errored

    def invoke_async(self, function: Any, event: Any) -> None:
        """Lambda's asynchronous invocation: queued, retried twice, then the dead-letter queue."""
        with self._lock:
            if self._shut_down:
                # Only while the whole runtime stops (its server and store go with it): said, not silent.
                log.warning("runtime stopping: asynchronous invocation of %s not run", function.function_name)
                return
            self.submitted += 1
            future = self._async_pool.submit(self._invoke_with_retries, function, event)
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _invoke_with_retries(self, function: Any, event: Any) -> None:
        response = ""
        for attempt in range(ASYNC_ATTEMPTS):
            response, errored = self.invoke(function, event, asynchronous=True)
            if not errored:
                return
            # Lambda waits about a minute, then two; a runtime that stops meanwhile ends the wait and the retries.
            if attempt + 1 < ASYNC_ATTEMPTS and not scaled_sleep(60.0 * (attempt + 1)):
                log.warning(
                    "runtime stopping: retries of %s abandoned after %d attempts", function.function_name, attempt + 1
                )
                return
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

    def idle(self) -> bool:
        with self._lock:
            return not self._pending

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every asynchronous invocation (and those it caused) has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return True
            for future in pending:
                try:
                    future.exception(timeout=max(0.0, deadline - time.monotonic()))
                except TimeoutError:  # concurrent.futures raises it when the wait runs out
                    return False
        return False

    def shutdown(self) -> None:
        """Refuse new asynchronous invocations and drop queued ones; those running finish (see :meth:`threads`)."""
        with self._lock:
            self._shut_down = True
        self._async_pool.shutdown(wait=False, cancel_futures=True)

    def threads(self) -> list[threading.Thread]:
        """The live worker threads of asynchronous invocations."""
        return [thread for thread in list(self._async_pool._threads) if thread.is_alive()]

    def remove_code(self) -> None:
        """Remove the extracted code (a runtime's own directory). Handlers already imported keep running; they
        were loaded into memory. Layers and /opt stand-ins stay for the next runtime (:class:`ExtractedLayers`)."""
        shutil.rmtree(self.code_root, ignore_errors=True)


OPT_MOUNT = "/opt"


def _names_opt(value: str) -> bool:
    return value == OPT_MOUNT or value.startswith(OPT_MOUNT + "/")


def _link_tree(source: Path, target: Path) -> None:
    """Put ``source``'s files into ``target`` (hard links, else copies), replacing files of the same path."""
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.exists():
            destination.unlink()
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)


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


_original_create_from_cloudformation = lambda_models.LambdaFunction.__dict__["create_from_cloudformation_json"].__func__


def _create_from_cloudformation(
    cls: Any,
    /,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    function = _original_create_from_cloudformation(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    properties = cloudformation_json.get("Properties", {})
    layers = [str(arn) for arn in properties.get("Layers") or []]
    if layers:
        # moto's CloudFormation drops Layers. Layers that do not exist locally (an AWS-published layer, say)
        # are left out with a warning: their files are not here.
        from moto.awslambda.utils import get_backend

        backend = get_backend(account_id, region_name)
        known = [arn for arn in layers if backend.layers_versions_by_arn(arn) is not None]
        for arn in sorted(set(layers) - set(known)):
            log.warning("function %s: layer %s does not exist locally; left out", function.function_name, arn)
        function.layers = function._get_layers_data(known)
    dead_letter_arn = (properties.get("DeadLetterConfig") or {}).get("TargetArn")
    if dead_letter_arn:
        function.siren_dead_letter_arn = dead_letter_arn
    return function


_original_function_invoke = lambda_models.LambdaFunction.invoke


def _invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
    """moto's LambdaFunction.invoke, with ``InvocationType: Event`` queued as on AWS (moto runs it before answering,
    once): the caller gets its 202 at once; the invocation is retried twice, then goes to the dead-letter queue."""
    headers = {str(key).lower(): value for key, value in dict(request_headers or {}).items()}
    if headers.get("x-amz-invocation-type") == "Event":
        active_runtime().invoke_async(self, json.loads(body) if body else {})
        return b""
    return _original_function_invoke(self, body, request_headers, response_headers)


def install(runtime: InProcessLambdaRuntime) -> None:
    global _active
    require_moto(
        "Lambda runtime",
        lambda_models.LambdaFunction,
        "_invoke_lambda",
        "invoke",
        "_get_layers_data",
        "create_from_cloudformation_json",
    )
    require_moto("Lambda runtime", lambda_models.LambdaBackend, "layers_versions_by_arn")
    require_moto("Lambda runtime", lambda_models.LayerVersion, "arn")
    _active = runtime
    setattr(lambda_models.LambdaFunction, "_invoke_lambda", _invoke_lambda)  # noqa: B010
    setattr(lambda_models.LambdaFunction, "invoke", _invoke)  # noqa: B010
    setattr(lambda_models.LambdaFunction, "__init__", _init_keeping_dead_letter_config)  # noqa: B010
    setattr(  # noqa: B010
        lambda_models.LambdaFunction, "create_from_cloudformation_json", classmethod(_create_from_cloudformation)
    )
    # Without Docker, moto's model state dump (/moto-api/data.json) fails on the Docker client: there is none.
    setattr(docker_utilities.DockerModel, "docker_client", property(lambda self: None))  # noqa: B010
