"""The leak guard fires: a test session of its own (a subprocess, with only the guard loaded) in which some tests
leave work running and others clean up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

LEAKY_TESTS = """
import json
import threading

from siren_local.runtime import LocalAws

release = threading.Event()


def test_a_leaves_a_thread():
    threading.Thread(target=release.wait, args=(60,), name="left-behind").start()


def test_b_leaves_a_runtime_with_a_waiting_run():
    runtime = LocalAws.in_process(time_scale=1).start()
    sfn = runtime.client("stepfunctions")
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    machine = sfn.create_state_machine(
        name="leaky", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    sfn.start_execution(stateMachineArn=machine, name="leaky-run")


def test_c_stops_what_it_starts():
    release.set()
    with LocalAws.in_process(time_scale=1) as runtime:
        runtime.client("sqs").create_queue(QueueName="tidy")
"""


def test_the_guard_fails_each_test_that_leaves_work_running_and_names_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
):
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    result = pytester.runpytest_subprocess("-p", "tests.leak_guard", "-p", "no:cacheprovider", "-q")

    result.assert_outcomes(passed=3, errors=2)
    output = result.stdout.str()
    assert "ERROR at teardown of test_a_leaves_a_thread" in output
    assert "still running after the test: thread 'left-behind'" in output
    assert "ERROR at teardown of test_b_leaves_a_runtime_with_a_waiting_run" in output
    assert "thread 'sfn-execution-leaky-run'" in output
    assert "thread 'scheduler-ticker'" in output
    assert "running execution arn:aws:states:us-east-1:123456789012:execution:leaky:leaky-run" in output
    assert "ERROR at teardown of test_c" not in output
