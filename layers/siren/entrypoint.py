"""The shape every Siren Lambda handler shares, in one decorator: the Powertools stack and the dependencies argument.

A handler is one call into a use case. What wraps that call is the same for all of them: the logger's Lambda
context (cleared between invocations), the metrics flushed at the end of the invocation (where the handler emits
any), and an optional ``dependencies`` argument, the use case wired by ``siren.bootstrap`` when it is not given
(tests pass one wired with fakes). :func:`lambda_handler` applies the Powertools decorators in the order the
handlers used to spell out (logger outermost), so what Powertools does is unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.utilities.typing import LambdaContext

from siren.observability import logger, metrics

Event = dict[str, Any]
Response = dict[str, Any]
Dependencies = TypeVar("Dependencies")
Dependencies_contra = TypeVar("Dependencies_contra", contravariant=True)


class LambdaHandler(Protocol[Dependencies_contra]):
    """What Lambda (and the embedded local AWS) calls; tests add ``dependencies``."""

    def __call__(
        self, event: Event, context: LambdaContext, dependencies: Dependencies_contra | None = None
    ) -> Response: ...


def lambda_handler(
    wire: Callable[[], Dependencies], *, flush_metrics: bool = True
) -> Callable[[Callable[[Event, Dependencies], Response]], LambdaHandler[Dependencies]]:
    """``handle(event, dependencies)`` as a Lambda handler; ``wire`` builds the dependencies none are given.

    ``flush_metrics=False``: not wrapped in ``metrics.log_metrics``, for the handlers that record no metrics.
    """

    def decorate(handle: Callable[[Event, Dependencies], Response]) -> LambdaHandler[Dependencies]:
        @functools.wraps(handle)
        def entry(event: Event, context: LambdaContext, dependencies: Dependencies | None = None) -> Response:
            # Lambda runs one invocation per process; the embedded local AWS runs many at once, as threads, and the
            # Lambda context Powertools appends is process-wide: the last invocation's name would be on every
            # thread's lines. The same keys per thread win over those, so each line names its own invocation.
            logger.thread_safe_clear_keys()
            logger.thread_safe_append_keys(**_lambda_context_keys(context))
            try:
                return handle(event, dependencies or wire())
            finally:
                logger.thread_safe_clear_keys()

        # What the first invocation wires, for whoever measures or checks it (bench/foundation.py, the handler
        # import tests); Powertools' decorators copy it onto the handler Lambda calls.
        entry.wire = wire  # type: ignore[attr-defined]
        flushed = metrics.log_metrics(entry) if flush_metrics else entry
        return cast(LambdaHandler[Dependencies], logger.inject_lambda_context(flushed, clear_state=True))

    return decorate


def _lambda_context_keys(context: LambdaContext) -> dict[str, Any]:
    """The keys Powertools' ``inject_lambda_context`` logs of the Lambda context (the same names)."""
    return build_lambda_context_model(context).__dict__
