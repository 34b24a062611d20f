"""Stopping the embedded local AWS ends everything it started, in both transports, and says what it could not stop.

Each test starts its own runtime at time scale 1 (an hour's wait is an hour), so nothing here ends by itself
before the test does: only stop() can end it.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator

import pytest

from siren_local.runtime import LocalAws, background_threads
from tests.conftest import free_port
from tests.local.test_adapter_canaries import create_function
from tests.support import wait_for

ROLE = "arn:aws:iam::123456789012:role/r"
HOUR = 3600

COUNTING = """
import json, time
def fail(event, context):
    raise RuntimeError("failing on purpose")
def hold(event, context):
    return {"held": event["token"][:8]}
def dawdle(event, context):
    time.sleep(json.loads(event["Records"][0]["Sns"]["Message"])["seconds"])
    return {}
"""


@pytest.fixture(params=["in-process", "http"])
def runtime(request: pytest.FixtureRequest) -> Iterator[LocalAws]:
    """A runtime at time scale 1; the test stops it itself (stopping again is harmless)."""
    if request.param == "http":
        local = LocalAws.over_http(port=free_port(), time_scale=1)
    else:
        local = LocalAws.in_process(time_scale=1)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def start_run(runtime: LocalAws, name: str, definition: dict) -> str:
    sfn = runtime.client("stepfunctions")
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    return str(sfn.start_execution(stateMachineArn=machine, name=f"{name}-run")["executionArn"])


def history_has(runtime: LocalAws, execution: str, event_type: str, count: int = 1) -> bool:
    events = runtime.client("stepfunctions").get_execution_history(executionArn=execution)["events"]
    return sum(event["type"] == event_type for event in events) >= count


def invoke_asynchronously(runtime: LocalAws, function_arn: str, message: dict) -> None:
    """Through SNS, one of the services that invoke functions asynchronously (Lambda's queue, retries, DLQ)."""
    sns = runtime.client("sns")
    topic = sns.create_topic(Name="invocations")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn)
    sns.publish(TopicArn=topic, Message=json.dumps(message))


def invocations_of(runtime: LocalAws, name: str) -> int:
    return sum(record.function_name == name for record in runtime.lambda_runtime.invocations)


def test_stop_ends_every_kind_of_waiting_run(runtime):
    # GIVEN four runs, each waiting an hour or more in its own way: a Wait state, a callback task, a retry interval
    # after a failed task, and a callback inside a Parallel branch (as Siren's escalation waits)
    failing = create_function(runtime, "failing", handler="canary_handler.fail", source=COUNTING)
    queue = runtime.client("sqs").create_queue(QueueName="tokens")["QueueUrl"]
    callback = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 24 * HOUR,
        "End": True,
    }
    hour_wait = {"Type": "Wait", "Seconds": HOUR, "End": True}
    waiting = start_run(runtime, "waiting", {"StartAt": "W", "States": {"W": hour_wait}})
    holding = start_run(runtime, "holding", {"StartAt": "C", "States": {"C": callback}})
    retrying = start_run(
        runtime,
        "retrying",
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": failing, "Payload": {}},
                    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": HOUR, "MaxAttempts": 3}],
                    "End": True,
                }
            },
        },
    )
    branching = start_run(
        runtime,
        "branching",
        {
            "StartAt": "P",
            "States": {
                "P": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {"StartAt": "C", "States": {"C": callback}},
                        {"StartAt": "W", "States": {"W": hour_wait}},
                    ],
                }
            },
        },
    )
    wait_for(lambda: history_has(runtime, waiting, "WaitStateEntered"))
    wait_for(lambda: history_has(runtime, holding, "TaskSubmitted"))
    wait_for(lambda: history_has(runtime, retrying, "TaskFailed"))
    wait_for(lambda: history_has(runtime, branching, "TaskSubmitted"))
    runs = {thread.name for thread in background_threads()}
    assert {f"sfn-execution-{name}-run" for name in ("waiting", "holding", "retrying", "branching")} <= runs

    # WHEN the runtime stops
    unstopped = runtime.stop()

    # THEN nothing it started runs, the failed task was never retried, and the extracted code is gone
    assert unstopped == []
    assert runtime.unstopped == []
    assert background_threads() == []
    assert invocations_of(runtime, "failing") == 1
    assert not runtime.lambda_runtime.code_root.exists()


def day_long_callback(runtime: LocalAws) -> dict:
    """A task that hands its token to a function (``holder``, which keeps it) and waits a day for it."""
    holder = create_function(runtime, "holder", handler="canary_handler.hold", source=COUNTING)
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": holder, "Payload": {"token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 24 * HOUR,
        "End": True,
    }


def test_stop_ends_the_branch_still_waiting_in_a_run_that_another_branch_failed():
    # GIVEN a Parallel state whose first branch fails at once while the second waits a day for its task token:
    # moto ends the run FAILED and leaves the waiting branch's threads running. (In-process: the interpreter is the
    # same in both transports.)
    runtime = LocalAws.in_process(time_scale=1).start()
    try:
        callback = day_long_callback(runtime)
        failing = {
            "StartAt": "Wait",
            "States": {
                "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Fail"},
                "Fail": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"},
            },
        }
        run = start_run(
            runtime,
            "halffailed",
            {
                "StartAt": "P",
                "States": {
                    "P": {
                        "Type": "Parallel",
                        "End": True,
                        "Branches": [failing, {"StartAt": "C", "States": {"C": callback}}],
                    }
                },
            },
        )
        wait_for(lambda: invocations_of(runtime, "holder") == 1)  # the second branch holds its token
        wait_for(lambda: runtime.client("stepfunctions").describe_execution(executionArn=run)["status"] == "FAILED")

        # WHEN the runtime stops, THEN the waiting branch ends too
        assert runtime.stop() == []
        assert background_threads() == []
    finally:
        runtime.stop()  # again, harmlessly, if the test got that far


def test_stop_ends_asynchronous_retries_stream_retries_and_the_scheduler(runtime):
    # GIVEN an asynchronous invocation that failed (its retry is a minute away) and a stream consumer that failed
    # (its retries back off for up to an hour of record age)
    failing = create_function(runtime, "failing", handler="canary_handler.fail", source=COUNTING)
    invoke_asynchronously(runtime, failing, {})
    dynamodb = runtime.client("dynamodb")
    table = dynamodb.create_table(
        TableName="outbox",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    runtime.client("lambda").create_event_source_mapping(
        FunctionName="failing",
        EventSourceArn=table["LatestStreamArn"],
        StartingPosition="LATEST",
        MaximumRetryAttempts=-1,
        MaximumRecordAgeInSeconds=HOUR,
    )
    dynamodb.put_item(TableName="outbox", Item={"pk": {"S": "one"}})
    wait_for(lambda: invocations_of(runtime, "failing") >= 2 and len(runtime.streams.invocations) >= 1)
    assert {thread.name.split("_")[0] for thread in runtime.lambda_runtime.threads()} == {"lambda-async"}
    assert runtime.streams.threads() and runtime.scheduler.threads()

    # WHEN the runtime stops
    assert runtime.stop() == []

    # THEN no worker is left, and nothing is invoked any more
    after_stop = invocations_of(runtime, "failing")
    assert background_threads() == []
    assert runtime.lambda_runtime.threads() == runtime.streams.threads() == runtime.scheduler.threads() == []
    assert invocations_of(runtime, "failing") == after_stop


def test_stop_says_what_it_could_not_stop(runtime):
    # GIVEN a function that takes 3 seconds and ignores everything meanwhile, invoked asynchronously
    dawdler = create_function(runtime, "dawdler", handler="canary_handler.dawdle", source=COUNTING)
    invoke_asynchronously(runtime, dawdler, {"seconds": 3})
    wait_for(runtime.lambda_runtime.threads)
    (worker,) = runtime.lambda_runtime.threads()

    # WHEN the runtime may wait only a moment for it
    unstopped = runtime.stop(timeout=0.2)

    # THEN stop names the thread it left running (and the server and moto's state are gone all the same)
    assert unstopped == [worker.name]
    assert runtime.unstopped == [worker.name]
    assert runtime._server is None and runtime._mock is None
    worker.join(timeout=30)  # the function ends by itself: nothing outlives this test
    assert not worker.is_alive()


def test_a_runtime_can_start_again_after_stop():
    # Stopping leaves the process ready for the next runtime: waits wait again (the stop signal is cleared).
    with LocalAws.in_process(time_scale=1) as first:
        pass
    assert first.unstopped == []
    with LocalAws.in_process(time_scale=1) as second:
        queue = second.client("sqs").create_queue(QueueName="again")["QueueUrl"]
        from siren_local.clock import scaled_sleep

        assert scaled_sleep(0.01) is True
        assert queue.endswith("/again")


def test_a_parallel_branch_that_raises_still_reports_its_end(bare_inprocess):
    """The adapter around moto's BranchWorker: a branch whose evaluation raises (as a stop at an unlucky moment makes
    it) still tells its Parallel state that it ended, so the run can end and be stopped."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker import BranchWorker

    class Raising:
        def eval(self, env):
            raise RuntimeError("Could not set NextState value when in state ProgramStopped")

    class Recording:
        def __init__(self) -> None:
            self.ended: list[object] = []

        def on_terminated(self, env):
            self.ended.append(env)

    comm = Recording()
    worker = BranchWorker(branch_worker_comm=comm, program=Raising(), env="the branch's frame")
    worker._worker_thread = threading.current_thread()
    worker._thread_routine()
    assert comm.ended == ["the branch's frame"]


def test_a_task_that_fails_after_its_run_was_stopped_leaves_the_run_aborted():
    # GIVEN a run waiting in a Parallel branch for a task token (an escalation level waiting for its acknowledgement)
    runtime = LocalAws.in_process(time_scale=1).start()
    try:
        callback = day_long_callback(runtime)
        definition = {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "C", "States": {"C": callback}}]}
            },
        }
        run = start_run(runtime, "stoppedthenfailed", definition)
        wait_for(lambda: invocations_of(runtime, "holder") == 1)
        sfn = runtime.client("stepfunctions")
        scheduled = next(
            event for event in sfn.get_execution_history(executionArn=run)["events"] if event["type"] == "TaskScheduled"
        )
        token = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]

        # WHEN an operator stops it and, a moment later, its task fails (a late callback, a task the stop interrupted)
        sfn.stop_execution(executionArn=run, error="ByHand")
        # AWS refuses the token of a stopped run; either way the run's end must not change.
        with contextlib.suppress(sfn.exceptions.ClientError):
            sfn.send_task_failure(taskToken=token, error="Late", cause="after the stop")

        # THEN the run ends ABORTED, as StopExecution said it would (on AWS at once), not FAILED by the late failure
        wait_for(lambda: sfn.describe_execution(executionArn=run)["status"] != "RUNNING")
        assert sfn.describe_execution(executionArn=run)["status"] == "ABORTED"
    finally:
        runtime.stop()
