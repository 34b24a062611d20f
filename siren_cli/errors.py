"""One-line errors with meaningful exit codes: 2 for bad usage or input, 1 for everything else."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

EXIT_FAILURE = 1
EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(CliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


def domain_errors(action: Callable[[], T]) -> T:
    """Run ``action``; an incident or report refusing what was asked (bad input: no such incident, a bad period)
    becomes a usage error, told in one line with exit code 2."""
    from siren.domain.incidents import IncidentError
    from siren.domain.reports import ReportError

    try:
        return action()
    except (IncidentError, ReportError) as error:
        raise UsageError(str(error)) from None


def fail(message: str, exit_code: int) -> typer.Exit:
    print(f"siren: error: {message}", file=sys.stderr)
    return typer.Exit(exit_code)


def one_line_errors(command: F) -> F:
    """Turn expected failures into one line on stderr and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        try:
            return command(*args, **kwargs)
        except CliError as error:
            raise fail(str(error), error.exit_code) from None
        except EndpointConnectionError as error:
            raise fail(
                f"cannot reach AWS at {error.kwargs.get('endpoint_url')}: is `siren local up` running?",
                EXIT_FAILURE,
            ) from None
        except ClientError as error:
            info = error.response.get("Error", {})
            raise fail(f"{info.get('Code', 'AWS error')}: {info.get('Message', error)}", EXIT_FAILURE) from None
        except BotoCoreError as error:
            raise fail(str(error), EXIT_FAILURE) from None

    return wrapper  # type: ignore[return-value]
