"""Step Functions: executing state machines from the template, with the local time scale.

Gaps of moto 5.2.5 adapted here:
- CloudFormation creates state machines in moto's non-executing backend and ignores ``Definition`` and
  ``DefinitionSubstitutions``: :func:`_create_from_cloudformation` creates them in the executing backend,
  with the definition as CloudFormation would build it.
- Waits, timeouts, heartbeats and retry intervals sleep in wall-clock time: they are divided by the time scale,
  except a request-response task's ``TimeoutSeconds``, which guards code that runs at its own speed.
- The interpreter calls back to ``localhost:$MOTO_PORT``: the server sets MOTO_PORT (see server.py).
- Stopping an execution does not wake a callback wait (``waitForTaskToken``) or a retry interval, and moto's
  worker threads are anonymous: :func:`stop_running_executions` interrupts callbacks too, retry intervals end when
  the runtime stops (clock.py), and each execution's thread is named after it (``sfn-execution-<name>``).
- A run whose evaluation raises while it is being stopped stays RUNNING for ever: :func:`_execution_always_ends`.
- A Parallel branch whose evaluation raises (a stop at an unlucky moment) never tells its Parallel state that it
  ended, and the run waits forever: :func:`_branch_always_reports_its_end` reports it either way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from moto.stepfunctions import models as sfn_models
from moto.stepfunctions.parser import utils as sfn_parser_utils
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts import heartbeat, timeout
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branch_worker
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.asl.eval import environment as sfn_environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend import execution_worker

from siren_local.clock import scaled, scaled_sleep

log = logging.getLogger("siren.local.stepfunctions")

EXECUTION_THREAD_PREFIX = "sfn-execution-"

_SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def render_definition(properties: dict[str, Any]) -> str:
    """The state machine definition CloudFormation would deploy: Definition or DefinitionString, substituted."""
    if "Definition" in properties:
        definition = json.dumps(properties["Definition"])
    else:
        definition = properties.get("DefinitionString", "")
    substitutions = {key: str(value) for key, value in (properties.get("DefinitionSubstitutions") or {}).items()}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in substitutions:
            raise ValueError(f"state machine definition uses ${{{name}}} but DefinitionSubstitutions lacks it")
        return substitutions[name]

    return _SUBSTITUTION.sub(substitute, definition) if substitutions else definition


def _executing_backend(account_id: str, region_name: str) -> Any:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return stepfunctions_parser_backends[account_id][region_name]


def _create_from_cloudformation(
    cls: Any, /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> Any:
    properties = cloudformation_json["Properties"]
    backend = _executing_backend(account_id, region_name)
    tags = [{"key": tag["Key"], "value": tag["Value"]} for tag in properties.get("Tags", [])]
    return backend.create_state_machine(
        name=properties.get("StateMachineName", resource_name),
        definition=render_definition(properties),
        roleArn=properties.get("RoleArn", ""),
        tags=tags,
    )


def _delete_from_cloudformation(
    cls: Any, /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    _executing_backend(account_id, region_name).delete_state_machine(resource_name)


# -- time scale -------------------------------------------------------------------------------------------
def _scaled_timeout_body(self: Any, env: Any) -> None:
    """Waiting time is scaled, code's time is not. A callback task's timeout (an escalation level's wait for an
    acknowledgement), a ``TimeoutSecondsPath`` and heartbeats are waiting; the ``TimeoutSeconds`` of a
    request-response task (a Lambda invoke) guards code, which runs at the speed it runs: scaled, a 60-second guard
    would cut a cold start short at time scale 600 (see :func:`_mark_code_guards`)."""
    seconds = self._eval_seconds(env=env)
    is_default = getattr(self, "is_default_value", lambda: False)()
    env.stack.append(seconds if is_default or getattr(self, "guards_code", False) else scaled(seconds))


_original_task_from_state_props = state_task.StateTask.from_state_props


def _mark_code_guards(self: Any, state_props: Any) -> None:
    """moto's StateTask.from_state_props, marking the literal timeout of a request-response task as a guard of code
    (no ``.waitForTaskToken`` or ``.sync``: the task lasts as long as the call it makes)."""
    _original_task_from_state_props(self, state_props)
    resource = getattr(self, "resource", None)
    if getattr(resource, "condition", "") is None and isinstance(self.timeout, timeout.TimeoutSeconds):
        self.timeout.guards_code = True  # type: ignore[attr-defined]  # our mark on moto's object


def _scaled_wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
    # moto's version re-enters on whole seconds, which never ends for a fractional wait: wait on a deadline.
    deadline = time.monotonic() + scaled(wait_seconds)
    while env.is_running():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        env.program_state_event.wait(remaining)


# A retry interval is a scaled wait that ends early when the runtime stops (the retrier then sees the stopped run).
_scaled_time_module = SimpleNamespace(sleep=scaled_sleep, time=time.time)


def _start_named_worker(self: Any) -> None:
    """moto's ExecutionWorker.start, with the thread named after the execution (so a leak names its run)."""
    name = self._evaluation_details.execution_details.name
    thread = threading.Thread(
        target=_execution_always_ends, args=(self,), name=f"{EXECUTION_THREAD_PREFIX}{name}", daemon=True
    )
    sfn_parser_utils.TMP_THREADS.append(thread)
    thread.start()


def _execution_always_ends(worker: Any) -> None:
    """moto's ExecutionWorker._execution_logic, with the run's status settled even when evaluating it raised.

    A run stopped while a state inside a Parallel or Map branch was ending can raise inside moto (it builds a
    "States.Runtime" error as if it were a custom error name, which moto refuses); the execution then never leaves
    RUNNING, and neither stopping nor the reconciler ever ends it. Its status becomes what the run's state says."""
    from moto.stepfunctions.parser.api import ExecutionStatus

    try:
        worker._execution_logic()
    except Exception:
        log.warning("a Step Functions run raised while ending; its status is settled anyway", exc_info=True)
        execution = getattr(worker._execution_communication, "execution", None)
        if execution is not None and execution.exec_status in (None, ExecutionStatus.RUNNING):
            environment = getattr(worker, "env", None)
            stopped = environment is not None and not environment.is_running()
            execution.exec_status = ExecutionStatus.ABORTED if stopped else ExecutionStatus.FAILED
            execution.stop_date = datetime.now(UTC)


def _stop_once_evaluating(self: Any, stop_date: Any, error: str | None, cause: str | None) -> None:
    """moto's ExecutionWorker.stop, after the run's thread has made its environment.

    moto makes the environment in the run's thread, after StartExecution has answered: a StopExecution that comes
    in between (a loaded machine, an operator quick on the button) found none and failed with an internal error, and
    the run went on. It waits for the thread (which starts at once) to get that far."""
    deadline = time.monotonic() + 30
    while getattr(self, "env", None) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if getattr(self, "env", None) is None:
        raise RuntimeError("the Step Functions run never started evaluating; it cannot be stopped")
    self.env.set_stop(stop_date=stop_date, cause=cause, error=error)


_original_set_error = sfn_environment.Environment.set_error


def _error_after_stop_keeps_the_stop(self: Any, error: Any) -> None:
    """moto's Environment.set_error, except that a run (or frame) already stopped stays stopped.

    On AWS a StopExecution ends the run ABORTED at once, whatever its tasks do afterwards. moto lets a task that
    fails after the stop (a callback token failed late, a task the stop interrupted) overwrite the stop with an
    error, and the run ended FAILED: the reconciler then reported a stopped escalation as a failed one (seen in the
    suite under load)."""
    with self._state_mutex:
        if isinstance(self._program_state, ProgramStopped):
            return
        _original_set_error(self, error)


def _branch_always_reports_its_end(self: Any) -> None:
    """moto's BranchWorker._thread_routine, reporting the branch's end even when evaluating it raised.

    A branch stopped at an unlucky moment raises inside moto ("Could not set NextState value when in state
    ProgramStopped") before telling its Parallel state that it ended; the Parallel state then waits for it without a
    timeout, and the run can never be stopped (seen under load: one such run kept every later test of its worker
    waiting 30 seconds). The end is reported either way; the run itself was already stopped."""
    try:
        self._program.eval(self.env)
    except Exception:
        log.warning("a Parallel branch of a stopped run raised while ending; its end is reported anyway", exc_info=True)
    finally:
        self._branch_worker_comm.on_terminated(env=self.env)


def install() -> None:
    patches: list[tuple[Any, str, Any]] = [
        (branch_worker.BranchWorker, "_thread_routine", _branch_always_reports_its_end),
        (sfn_models.StateMachine, "create_from_cloudformation_json", classmethod(_create_from_cloudformation)),
        (sfn_models.StateMachine, "delete_from_cloudformation_json", classmethod(_delete_from_cloudformation)),
        (timeout.Timeout, "_eval_body", _scaled_timeout_body),
        (state_task.StateTask, "from_state_props", _mark_code_guards),
        (heartbeat.Heartbeat, "_eval_body", _scaled_timeout_body),
        (wait_function.WaitFunction, "_wait_interval", _scaled_wait_interval),
        (retrier_decl, "time", _scaled_time_module),
        (execution_worker.ExecutionWorker, "start", _start_named_worker),
        (execution_worker.ExecutionWorker, "stop", _stop_once_evaluating),
        (sfn_environment.Environment, "set_error", _error_after_stop_keeps_the_stop),
    ]
    for owner, name, replacement in patches:
        if not hasattr(owner, name):
            raise RuntimeError(f"moto changed: {owner.__name__}.{name} is gone; the Step Functions adapter needs it")
        setattr(owner, name, replacement)
    if not hasattr(sfn_parser_utils, "TMP_THREADS"):
        raise RuntimeError("moto changed: stepfunctions.parser.utils.TMP_THREADS is gone; stopping runs needs it")
    evaluation_log = logging.getLogger(EVALUATION_LOGGER)
    if not any(isinstance(found, _PresenceTestsAreNotErrors) for found in evaluation_log.filters):
        evaluation_log.addFilter(_PresenceTestsAreNotErrors())


# moto logs every exception raised while a state is evaluated, as an error, even one its parent catches as the answer:
# a Choice's ``IsPresent`` test of a missing path (the escalation's AfterWait asks whether a wait's output says
# ``escalate_now``) raises NoSuchJsonPathError, which the test takes to mean false. That line is no error; a path
# that is really missing fails the run, and the run's history says so.
EVALUATION_LOGGER = "moto.stepfunctions.parser.asl.component.eval_component"


class _PresenceTestsAreNotErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg % record.args if record.args else record.msg).startswith(
            "Exception=NoSuchJsonPathError"
        )


def _executions() -> list[Any]:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    found = []
    for account_backends in list(stepfunctions_parser_backends.values()):
        for backend in list(account_backends.values()):
            for machine in list(getattr(backend, "state_machines", [])):
                found.extend(list(machine.executions))
    return found


def running_executions() -> list[str]:
    """The ARNs of every execution still running in this process."""
    return [execution.exec_arn for execution in _executions() if _is_running(execution)]


def _is_running(execution: Any) -> bool:
    status = getattr(execution, "exec_status", None)  # None until moto has started the run
    return status is None or getattr(status, "value", status) == "RUNNING"


def stop_running_executions() -> int:
    """Stop every execution that still has work going (on shutdown), and wake what it waits on.

    Not only those whose status is RUNNING: when one branch of a Parallel state fails, moto ends the run (FAILED)
    while the other branch's frame keeps going, waiting for a task token for as long as its timeout. So every
    frame of every run is stopped, and every callback wait interrupted (a callback task's wait for its token does
    not watch the run's state). Returns how many runs or frames were still running.
    """

    stopped = 0
    for execution in _executions():
        worker = getattr(execution, "exec_worker", None)
        environment = getattr(worker, "env", None)
        if environment is None:
            # moto's worker has no environment before its thread starts: the next call catches it.
            continue
        stopped += _stop_frames(environment, datetime.now(UTC))
        for endpoint in list(environment.callback_pool_manager._pool.values()):
            endpoint.interrupt_all()
    return stopped


def _stop_frames(environment: Any, now: Any) -> int:
    """Stop ``environment`` and, depth first, every frame opened in it (a frame whose parent already ended is not
    reached by moto's own set_stop, which only passes the stop on from a running parent)."""
    stopped = 0
    if environment.is_running():
        environment.set_stop(stop_date=now, error="Siren.LocalShutdown", cause="the embedded local AWS stopped")
        stopped += 1
    for frame in list(environment._frames):
        stopped += _stop_frames(frame, now)
    return stopped


def execution_threads() -> list[threading.Thread]:
    """The live threads of Step Functions runs (moto keeps every one it starts in TMP_THREADS; the dead ones are
    dropped here, or the list grows for the life of the process)."""
    threads = sfn_parser_utils.TMP_THREADS
    alive = []
    for thread in list(threads):
        if thread.is_alive():
            alive.append(thread)
        else:
            # One removal at a time (atomic): a slice assignment could drop a thread appended meanwhile.
            with contextlib.suppress(ValueError):
                threads.remove(thread)
    return alive
