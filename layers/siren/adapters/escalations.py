"""Starting escalations and ending their waits (Step Functions)."""

from __future__ import annotations

import json
from typing import Any

from siren.clients import client
from siren.domain.escalation import Run, RunStatus, execution_name


def start_escalation(state_machine_arn: str, incident_id: str, attempt: int, name: str | None = None) -> bool:
    """Start the escalation for ``incident_id``; False when this attempt already started (a redelivered event).
    ``name``: the run's name when it is not the attempt's first run (a repair)."""
    sfn = client("stepfunctions")
    try:
        sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=name or execution_name(incident_id, attempt),
            input=json.dumps({"cursor": {"incident_id": incident_id, "attempt": attempt}}),
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        return False
    return True


def complete_wait(token: str, output: dict[str, Any]) -> bool:
    """End a wait for acknowledgement now. False when the wait is already over (timed out, or ended before)."""
    sfn = client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps(output))
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        return False
    return True


def _execution_arn(state_machine_arn: str, name: str) -> str:
    # arn:aws:states:<region>:<account>:stateMachine:<machine> -> ...:execution:<machine>:<name>
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def running_escalations(state_machine_arn: str) -> list[str]:
    """The names of the machine's running runs (one ListExecutions page per 1,000)."""
    sfn = client("stepfunctions")
    names: list[str] = []
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, statusFilter="RUNNING", PaginationConfig={"PageSize": 1000}
    ):
        names.extend(str(execution["name"]) for execution in page["executions"])
    return names


def latest_run(state_machine_arn: str, incident_id: str, attempt: int) -> Run | None:
    """The attempt's latest run: its first, or the last repair run started after it (None: never started)."""
    sfn = client("stepfunctions")
    latest: Run | None = None
    repair = 0
    while True:
        name = execution_name(incident_id, attempt, repair)
        try:
            described = sfn.describe_execution(executionArn=_execution_arn(state_machine_arn, name))
        except sfn.exceptions.ExecutionDoesNotExist:
            return latest
        latest = Run(name, RunStatus(described["status"]))
        repair += 1


def stop_escalation(state_machine_arn: str, name: str, cause: str) -> bool:
    """Stop a run; False when it had already ended."""
    sfn = client("stepfunctions")
    arn = _execution_arn(state_machine_arn, name)
    if sfn.describe_execution(executionArn=arn)["status"] != RunStatus.RUNNING:
        return False
    sfn.stop_execution(executionArn=arn, error="Siren.Reconciled", cause=cause[:32768])
    return True


class StepFunctionsRuns:
    """The escalation machine's runs, as the reconciler sees them (app/reconcile.py's ``EscalationRuns``)."""

    def __init__(self, state_machine_arn: str) -> None:
        self.state_machine_arn = state_machine_arn

    def running(self) -> list[str]:
        return running_escalations(self.state_machine_arn)

    def latest(self, incident_id: str, attempt: int) -> Run | None:
        return latest_run(self.state_machine_arn, incident_id, attempt)

    def start(self, incident_id: str, attempt: int, name: str) -> bool:
        return start_escalation(self.state_machine_arn, incident_id, attempt, name)

    def stop(self, name: str, cause: str) -> bool:
        return stop_escalation(self.state_machine_arn, name, cause)

    def end_wait(self, token: str, why: str) -> bool:
        return complete_wait(token, {"stopped": why})

    def escalate_wait(self, token: str, requested_by: str) -> bool:
        """SendTaskSuccess, not SendTaskFailure: the wait did what it is for (a person answered), and the functions
        that end waits are granted SendTaskSuccess only. The machine's AfterWait choice reads ``escalate_now``."""
        return complete_wait(token, {"escalate_now": {"requested_by": requested_by}})
