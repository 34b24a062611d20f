"""The escalation state machine's shape: every recipient paged in a task of their own, every task bounded in time,
and each time bound larger than what it contains (the SDK's retries inside the function, the function inside the
task), so that a timeout never cuts a page that is still being sent and then sends it again beside it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from infra.components.escalation import ASL, PAGE_FUNCTION_TIMEOUT_SECONDS
from siren.clients import paging_call_budget_seconds

MACHINE = json.loads(ASL.read_text())
# A page task's worst case: SMS by End User Messaging then SNS; voice, then SMS by both; email.
PROVIDER_CALLS_PER_PAGE_TASK = 6


def states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from states(branch)
        if "ItemProcessor" in state:
            yield from states(state["ItemProcessor"])


def test_every_task_has_a_time_bound():
    unbounded = [
        name
        for name, state in states(MACHINE)
        if state["Type"] == "Task" and "TimeoutSeconds" not in state and "TimeoutSecondsPath" not in state
    ]
    assert unbounded == []


def test_pages_are_sent_one_recipient_per_task_with_bounded_concurrency():
    maps = {name: state for name, state in states(MACHINE) if state["Type"] == "Map"}
    assert set(maps) == {"SendPages", "SendRolePages"}
    for state in maps.values():
        assert 1 < state["MaxConcurrency"] <= 40
        processor = state["ItemProcessor"]
        send = processor["States"][processor["StartAt"]]
        assert send["Parameters"]["FunctionName"] == "${PageFunctionArn}"
        # A failed recipient is recorded and the map goes on: no recipient's failure fails the others.
        assert send["Catch"][0]["ErrorEquals"] == ["States.ALL"]
    step_branch = MACHINE["States"]["Escalate"]["Branches"][0]["States"]
    assert step_branch["Route"]["Default"] == "SendPages" and maps["SendPages"]["Next"] == "AwaitAck"


def test_time_bounds_nest_sdk_retries_inside_the_function_inside_the_task():
    send = MACHINE["States"]["Escalate"]["Branches"][0]["States"]["SendPages"]["ItemProcessor"]["States"]["SendPage"]
    assert PROVIDER_CALLS_PER_PAGE_TASK * paging_call_budget_seconds() < PAGE_FUNCTION_TIMEOUT_SECONDS
    assert send["TimeoutSeconds"] > PAGE_FUNCTION_TIMEOUT_SECONDS


def test_the_paging_budget_is_what_the_clients_are_configured_with():
    # 2 attempts x (2 s connect + 5 s read) + 1 s before the retry: a hung provider gives up in 15 s.
    assert paging_call_budget_seconds() == 15
