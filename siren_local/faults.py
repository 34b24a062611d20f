"""Fault injection: make a service of the embedded local AWS fail the way AWS fails, for tests, drills and demos.

A fault names a target (``sms-voice``, ``sns``, ``ses``, ``chat``, ``events``, ``dynamodb`` or
``lambda:<LogicalId>``) and how it fails:

- ``error`` (the default): the service's own internal error, with its code and HTTP status (End User Messaging
  ``InternalServerException`` 500, SNS ``InternalError`` 500, SES ``InternalFailure`` 500, EventBridge
  ``InternalException`` 500, DynamoDB ``InternalServerError`` 500, the Slack webhook 500 ``rollup_error``); a
  Lambda function raises, so the caller sees a function error (Step Functions' Retry and Catch included).
- ``throttle``: the service's throttling answer (``ThrottlingException`` 400, SNS ``Throttling`` 400, SES v2
  ``TooManyRequestsException`` 429, DynamoDB ``ProvisionedThroughputExceededException`` 400 or, for a transaction,
  ``TransactionCanceledException`` with a ``ThrottlingError`` reason per item, the webhook 429 with Retry-After),
  which botocore's retry logic treats as throttling.
- ``partial`` (``events`` only): PutEvents answers 200 and fails entries (``FailedEntryCount``, each failed entry
  with ``ErrorCode: InternalFailure``), as EventBridge does.
- ``hang``: the provider stops answering. Each matching call is held ``hang_seconds`` of AWS time (scaled, like
  every other local wait) and is then never answered: the connection is closed unanswered and the request not
  applied, which the SDK reports as a failed call, as it reports its own timeout. So "a provider hanging past the SDK
  timeout" keeps its proportions on a time-scaled runtime: at time scale 60 a hang of 30 AWS seconds holds the call
  half a wall second, where the SDK's own timeouts (wall-clock, not scaled) would not fire yet; at time scale 1 the
  SDK's read timeout fires first (``ReadTimeoutError``). In-process (no connection to close) the call raises
  botocore's ``ReadTimeoutError`` when the hang ends.

A fault can be narrowed: ``numbers`` (phone faults: only these destinations), ``operations`` (only these API
operations; for DynamoDB also the words ``reads`` and ``writes``), ``rate`` (the probability that a matching call
fails, drawn from the fault's own random generator, seeded with ``seed`` for repeatable tests) and ``for_seconds``
(AWS seconds, i.e. the runtime's scaled time, like every other local wait: 15 minutes at time scale 60 is 15 wall
seconds; the deadline is fixed when the fault is added) and ``times`` (the fault is spent after that many
failures: "a function that fails 3 times"). Every injected failure counts as a hit of its fault.

One injector serves both transports: the HTTP server's middleware (control.py) and moto's in-process interception
(:func:`install`) call :meth:`FaultInjector.intercept`; the End User Messaging fake, the chat webhook and the
in-process Lambda runtime ask :meth:`FaultInjector.strike` themselves. When no fault is set, each asks one
attribute and moves on.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from siren_local.aws_calls import identify
from siren_local.clock import scaled, time_scale
from siren_local.patching import answer_in_process
from siren_local.service_failures import Injected, dropped_connection, partial_put_events, service_failure

SERVICE_TARGETS = ("sms-voice", "sns", "ses", "chat", "events", "dynamodb")
LAMBDA_PREFIX = "lambda:"
MODES = ("error", "throttle", "partial", "hang")
PHONE_TARGETS = ("sms-voice", "sns")
_INTERCEPTED = frozenset({"sns", "ses", "events", "dynamodb"})  # the targets intercept() answers for
# The id of the fault behind ``SmsVoiceFake.fail_destinations`` and ``POST /_siren/sms-voice/fail`` (the older way).
SMS_VOICE_ALIAS_ID = "sms-voice-fail"

_DYNAMODB_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "ExecuteTransaction"}
)
_DYNAMODB_READS = frozenset(
    {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems", "ExecuteStatement", "BatchExecuteStatement"}
)
# What each target fails by default: the calls that deliver or store, never the control plane (a deploy, a list).
OPERATIONS: dict[str, frozenset[str]] = {
    "sms-voice": frozenset({"SendTextMessage", "SendVoiceMessage", "SendMediaMessage"}),
    "sns": frozenset({"Publish", "PublishBatch"}),
    "ses": frozenset({"SendEmail", "SendRawEmail", "SendTemplatedEmail", "SendBulkEmail", "SendBulkTemplatedEmail"}),
    "chat": frozenset({"PostMessage"}),
    "events": frozenset({"PutEvents"}),
    "dynamodb": _DYNAMODB_WRITES | _DYNAMODB_READS,
    "lambda": frozenset({"Invoke"}),
}
OPERATION_GROUPS = {"dynamodb": {"writes": _DYNAMODB_WRITES, "reads": _DYNAMODB_READS}}
MODES_BY_KIND = {
    "events": ("error", "throttle", "partial", "hang"),
    "lambda": ("error",),
}
_DEFAULT_MODES = ("error", "throttle", "hang")


class FaultError(ValueError):
    """A fault that cannot be set as asked (bad input): the message says why."""


@dataclass
class Fault:
    id: str
    target: str
    mode: str = "error"
    numbers: set[str] | None = None  # None: every destination; a set (even empty): only these
    operations: frozenset[str] | None = None  # None: the target's default operations
    rate: float = 1.0
    for_seconds: float | None = None  # AWS seconds
    hang_seconds: float | None = None  # AWS seconds (scaled)
    seed: int | None = None
    times: int | None = None  # spent after this many hits
    function_name: str | None = None  # lambda targets: the deployed function the logical id names
    added_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    expires_at: float | None = None  # time.monotonic() deadline, from for_seconds and the time scale when added
    hits: int = 0  # injected failures
    calls: int = 0  # matching calls seen (failed or let through by the rate)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def kind(self) -> str:
        return "lambda" if self.target.startswith(LAMBDA_PREFIX) else self.target

    def active(self, now: float) -> bool:
        spent = self.times is not None and self.hits >= self.times
        return not spent and (self.expires_at is None or now < self.expires_at)

    def covers(self, operation: str, number: str | None) -> bool:
        if operation not in (self.operations or OPERATIONS[self.kind]):
            return False
        return self.numbers is None or (number is not None and number in self.numbers)

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        now = time.monotonic() if now is None else now
        return {
            "id": self.id,
            "target": self.target,
            "mode": self.mode,
            "numbers": sorted(self.numbers) if self.numbers is not None else None,
            "operations": sorted(self.operations) if self.operations is not None else None,
            "rate": self.rate,
            "for_seconds": self.for_seconds,
            "hang_seconds": self.hang_seconds,
            "seed": self.seed,
            "times": self.times,
            "function_name": self.function_name,
            "added_at": self.added_at,
            "active": self.active(now),
            "remaining_wall_seconds": None if self.expires_at is None else round(max(0.0, self.expires_at - now), 3),
            "hits": self.hits,
            "calls": self.calls,
        }


class FaultInjector:
    """The runtime's faults. Thread-safe: request threads, Lambda workers and the control API share it."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()  # set: every hang ends now (clear, stop)
        self._ids = itertools.count(1)

    # -- managing faults ----------------------------------------------------------------------------------------
    @property
    def armed(self) -> bool:
        """Whether any fault is set: the hot path's only question when none is."""
        return bool(self._faults)

    def add(
        self,
        target: str,
        *,
        mode: str = "error",
        numbers: list[str] | None = None,
        operations: list[str] | None = None,
        rate: float = 1.0,
        for_seconds: float | None = None,
        hang_seconds: float | None = None,
        seed: int | None = None,
        times: int | None = None,
        function_name: str | None = None,
        fault_id: str | None = None,
    ) -> Fault:
        """Set a fault (validated: a :class:`FaultError` says what is wrong) and return it."""
        target = str(target).strip()
        kind = _kind_of(target)
        if hang_seconds is not None:
            if mode not in ("error", "hang"):
                raise FaultError(f"--hang cannot be combined with mode {mode!r}")
            mode = "hang"
            hang_seconds = _positive("hang seconds", hang_seconds)
        elif mode == "hang":
            raise FaultError("mode hang needs hang seconds (--hang SECONDS)")
        allowed = MODES_BY_KIND.get(kind, _DEFAULT_MODES)
        if mode not in allowed:
            raise FaultError(f"target {target} cannot fail in mode {mode!r}; it can: {', '.join(allowed)}")
        if numbers is not None and kind not in PHONE_TARGETS:
            raise FaultError(f"--numbers applies to phone targets ({', '.join(PHONE_TARGETS)}), not {target}")
        if numbers is not None:
            numbers = [str(number).strip() for number in numbers]
            bad = [number for number in numbers if not _is_e164(number)]
            if bad or not numbers:
                raise FaultError(f"--numbers must be E.164 phone numbers like +14255550101, got {bad or numbers}")
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 < float(rate) <= 1:
            raise FaultError(f"--rate must be a probability above 0 and at most 1, got {rate!r}")
        if for_seconds is not None:
            for_seconds = _positive("--for", for_seconds)
        if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
            raise FaultError(f"--times must be a whole number of at least 1, got {times!r}")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise FaultError(f"--seed must be a whole number, got {seed!r}")
        fault = Fault(
            id=fault_id or f"f{next(self._ids)}",
            target=target,
            mode=mode,
            numbers=set(numbers) if numbers is not None else None,
            operations=_operations(kind, operations),
            rate=float(rate),
            for_seconds=for_seconds,
            hang_seconds=hang_seconds,
            seed=seed,
            times=times,
            function_name=function_name,
            expires_at=None if for_seconds is None else time.monotonic() + scaled(for_seconds),
            _rng=random.Random(seed),  # noqa: S311 (chaos, not cryptography)
        )
        with self._lock:
            self._faults[fault.id] = fault
        return fault

    def numbers_fault(self, fault_id: str, target: str) -> Fault:
        """The fault ``fault_id`` failing only the numbers in its (live, mutable) set, made with an empty set (failing
        nobody) if there is none: what ``SmsVoiceFake.fail_destinations`` hands out."""
        with self._lock:
            fault = self._faults.get(fault_id)
            if fault is None or fault.numbers is None:
                fault = Fault(id=fault_id, target=target, numbers=set())
                self._faults[fault_id] = fault
            return fault

    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults.values())

    def get(self, fault_id: str) -> Fault | None:
        with self._lock:
            return self._faults.get(fault_id)

    def to_json(self) -> dict[str, Any]:
        """What ``siren local fault list --json`` prints: every fault (expired ones too: their hits still count),
        and the hits per target."""
        now = time.monotonic()
        faults = self.faults()
        hits: dict[str, int] = {}
        for fault in faults:
            hits[fault.target] = hits.get(fault.target, 0) + fault.hits
        return {"faults": [fault.to_json(now) for fault in faults], "hits": hits, "time_scale": time_scale()}

    def hits(self, target: str) -> int:
        return sum(fault.hits for fault in self.faults() if fault.target == target)

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            return self._faults.pop(fault_id, None) is not None

    def clear(self) -> int:
        """Remove every fault; calls hanging now end (as failures) at once. Returns how many were removed."""
        with self._lock:
            removed = len(self._faults)
            self._faults.clear()
            released, self._released = self._released, threading.Event()
        released.set()
        return removed

    def release(self) -> None:
        """The runtime stops: every hang, now or later, ends at once."""
        self._released.set()

    # -- striking -----------------------------------------------------------------------------------------------
    def strike(self, target: str, operation: str, number: str | None = None) -> Fault | None:
        """The fault that fails this call to a service target, if any (its hit counted), or None: the call goes
        through."""
        if not self._faults:
            return None
        now = time.monotonic()
        with self._lock:
            for fault in self._faults.values():
                if fault.target != target or not fault.active(now) or not fault.covers(operation, number):
                    continue
                fault.calls += 1
                # partial: the rate is drawn per entry (partial_entries), not per call
                if fault.rate < 1 and fault.mode != "partial" and fault._rng.random() >= fault.rate:
                    continue
                fault.hits += 1
                return fault
        return None

    def strike_function(self, function_name: str) -> Fault | None:
        """The fault that makes an invocation of the deployed function ``function_name`` fail, if any."""
        if not self._faults:
            return None
        now = time.monotonic()
        with self._lock:
            for fault in self._faults.values():
                if fault.kind != "lambda" or fault.function_name != function_name or not fault.active(now):
                    continue
                fault.calls += 1
                if fault.rate < 1 and fault._rng.random() >= fault.rate:
                    continue
                fault.hits += 1
                return fault
        return None

    def hang(self, fault: Fault) -> None:
        """Hold the calling request for the fault's hang (AWS seconds, scaled), unless faults are cleared or the
        runtime stops first."""
        if fault.hang_seconds:
            self._released.wait(scaled(fault.hang_seconds))

    def partial_entries(self, fault: Fault, count: int) -> list[bool]:
        """Which of ``count`` PutEvents entries fail (``partial`` mode): each with the fault's rate. Hits count
        failed entries, not calls."""
        with self._lock:
            failed = [fault.rate >= 1 or fault._rng.random() < fault.rate for _ in range(count)]
            # strike() counted the call as one hit already; a partial hit is per failed entry.
            fault.hits += sum(failed) - 1
        return failed

    # -- the HTTP face --------------------------------------------------------------------------------------------
    def intercept(self, headers: Mapping[str, str], method: str, path: str, body: bytes) -> Injected | None:
        """The injected answer to an AWS API request, or None to let the service answer. ``headers`` as sent
        (any case); the End User Messaging fake and the chat webhook check for themselves."""
        if not any(fault.target in _INTERCEPTED for fault in self.faults()):
            return None
        call = identify(headers, method, path, body)
        if call is None:
            return None
        target, operation, number, request = call
        fault = self.strike(target, operation, number)
        if fault is None:
            return None
        return self.answer(fault, operation, request)

    def answer_request(self, request: Any) -> tuple[int, dict[str, str], str] | None:
        """:meth:`intercept` for an in-process boto3 request (botocore's ``AWSPreparedRequest``)."""
        if not self.armed:
            return None
        body = request.body or b""
        # A streamed body (an S3 upload) is never one a fault reads: leave it for moto to read.
        body = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else b""
        injected = self.intercept(request.headers, request.method, urlsplit(request.url).path, body)
        return None if injected is None else (injected.status, injected.headers, injected.body)

    def answer(self, fault: Fault, operation: str, request: Any = None) -> Injected:
        """The service's failure for ``fault``; for a hang, after the hang, no answer at all (:attr:`Injected.drop`)."""
        if fault.mode == "hang":
            self.hang(fault)
            return dropped_connection()
        if fault.kind == "events" and fault.mode == "partial":
            entries = (request or {}).get("Entries") or [{}]
            return partial_put_events(self.partial_entries(fault, len(entries)))
        detail = f"injected by the embedded local AWS (fault {fault.id})"
        failure = service_failure(fault.kind, fault.mode == "throttle", operation, request, detail)
        if failure is None:
            raise FaultError(f"no HTTP answer for target {fault.target}")
        return failure


def _kind_of(target: str) -> str:
    if target.startswith(LAMBDA_PREFIX):
        if not target[len(LAMBDA_PREFIX) :].strip():
            raise FaultError("a lambda target names the function's logical id: lambda:<LogicalId>")
        return "lambda"
    if target not in SERVICE_TARGETS:
        raise FaultError(f"unknown target {target!r}; one of: {', '.join(SERVICE_TARGETS)}, lambda:<LogicalId>")
    return target


def _positive(what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise FaultError(f"{what} must be a positive number of seconds, got {value!r}")
    return float(value)


def _is_e164(number: str) -> bool:
    return len(number) >= 8 and number[0] == "+" and number[1:].isdigit() and number[1] != "0" and len(number) <= 16


def _operations(kind: str, given: list[str] | None) -> frozenset[str] | None:
    if given is None:
        return None
    known = OPERATIONS[kind]
    groups = OPERATION_GROUPS.get(kind, {})
    chosen: set[str] = set()
    for name in (str(item).strip() for item in given):
        if name in groups:
            chosen |= groups[name]
        elif name in known:
            chosen.add(name)
        else:
            words = sorted(known) + sorted(groups)
            raise FaultError(f"{kind} has no operation {name!r} to fail; one of: {', '.join(words)}")
    if not chosen:
        raise FaultError("--operations names no operation")
    return frozenset(chosen)


# -- the in-process transport -------------------------------------------------------------------------------------
_active: FaultInjector | None = None


def install(injector: FaultInjector) -> None:
    """Serve faults to in-process boto3 clients too (under ``mock_aws``), as the middleware does over HTTP."""
    global _active
    _active = injector
    answer_in_process("faults", lambda: _active)
