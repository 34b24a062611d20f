"""Starting escalations and ending their waits (Step Functions)."""

from __future__ import annotations

import json
from typing import Any

from siren.clients import client
from siren.domain.escalation import execution_name


def start_escalation(state_machine_arn: str, incident_id: str, attempt: int) -> bool:
    """Start the escalation for ``incident_id``; False when this attempt already started (a redelivered event)."""
    sfn = client("stepfunctions")
    try:
        sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=execution_name(incident_id, attempt),
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
