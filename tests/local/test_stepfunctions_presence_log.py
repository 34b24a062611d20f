"""moto's evaluation log: a Choice's IsPresent test of a missing path is the test's answer, not an error line; other
evaluation errors are still logged."""

from __future__ import annotations

import logging

import pytest

from siren_local import stepfunctions


def test_a_presence_test_of_a_missing_path_is_not_logged_as_an_error_and_other_errors_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stepfunctions.install()
    stepfunctions.install()  # once or twice: one filter
    evaluation_log = logging.getLogger(stepfunctions.EVALUATION_LOGGER)
    assert sum(isinstance(f, stepfunctions._PresenceTestsAreNotErrors) for f in evaluation_log.filters) == 1
    with caplog.at_level(logging.ERROR, logger=stepfunctions.EVALUATION_LOGGER):
        evaluation_log.error("%s at '%s'", "Exception=NoSuchJsonPathError, Details=None", "$.ack.escalate_now")
        evaluation_log.error("%s at '%s'", "Exception=FailureEventException, Details=States.Runtime", "Step")
    assert [record.getMessage() for record in caplog.records] == [
        "Exception=FailureEventException, Details=States.Runtime at 'Step'"
    ]
