"""Requests to a Lambda function URL (payload format 2.0), routed by method and path: the webhook and the ack links.

An endpoint declares, beside its class, a table of the methods it serves and for each its routes in order: a path
pattern and the endpoint's method that answers. The router checks, in this order: the method (the endpoint's
``not_allowed`` answer, given the Allow header's value); the endpoint's guard (the webhook's bearer token, checked
before the path so that a caller without the token learns nothing of the paths); the path, against each route of
the method until one matches. HEAD is answered as GET (RFC 9110, 9.3.2) and not listed in Allow. A pattern matches
the whole path without its outer slashes (its ``.`` matches any character, newlines too), and the last route of a
method matches any path (:data:`ANY_PATH`), so that the endpoint words its own 404.

Why not Powertools' ``LambdaFunctionUrlResolver``, which the layer ships: measured by ``python -m bench.routing``
(three runs on a shared 2-core machine; cold imports are medians of 15 fresh interpreters):

- cold import: ``aws_lambda_powertools.event_handler`` adds 24 to 35 ms after what the webhook function imports
  anyway (its package imports every resolver: AppSync's asyncio, Bedrock, OpenAPI; 102 modules), this module about
  2 ms. The webhook answers paging alerts, and every new container pays it.
- per request: the resolver takes 16 to 40 us to route a request and build its answer, this router 2 to 6 us (a
  seventh to a ninth of the resolver's time in the same run).
- the resolver keeps the request in a class attribute shared by every resolver of the process
  (``BaseRouter.current_event``) and its route arguments in the resolver: the embedded local AWS runs concurrent
  invocations as threads of one process, where 5 to 18 of 6,000 requests on two threads were answered for the
  other thread's path or not at all. This router keeps no state between requests.
- what it would do here is little: these endpoints check the method and the token before the path and word their
  own 405, 401 and 404, which the resolver leaves to catch-all routes and a not-found handler.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

Endpoint = TypeVar("Endpoint")
Answer = TypeVar("Answer")
ANY_PATH = ".*"


@dataclass(frozen=True, slots=True)
class Request:
    """What the endpoints read of a function URL event; a part the event lacks reads as empty."""

    method: str  # upper case
    path: str  # as sent (rawPath)
    event: Mapping[str, Any]

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> Request:
        return cls(str(_http(event).get("method", "")).upper(), str(event.get("rawPath", "")), event)

    @property
    def source_ip(self) -> str:
        return str(_http(self.event).get("sourceIp") or "")

    def header(self, name: str) -> str:
        """The value of header ``name`` (lower case), whatever the case it came in; '' when absent."""
        found = ""
        for key, value in (self.event.get("headers") or {}).items():
            if key.lower() == name:
                found = str(value)
        return found

    def body(self) -> bytes:
        """The body as sent (Lambda base64-encodes a body it does not take for text); ValueError if that fails."""
        body = self.event.get("body") or ""
        return base64.b64decode(body) if self.event.get("isBase64Encoded") else str(body).encode()

    def query(self) -> dict[str, str]:
        raw = self.event.get("rawQueryString")
        if isinstance(raw, str):
            return dict(parse_qsl(raw, keep_blank_values=True))
        return {str(k): str(v) for k, v in (self.event.get("queryStringParameters") or {}).items()}


def _http(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return (event.get("requestContext") or {}).get("http") or {}


Answering = Callable[[Endpoint, Request, Mapping[str, str]], Answer]


@dataclass(frozen=True, slots=True)
class Route(Generic[Endpoint, Answer]):
    """``answer`` is given the endpoint, the request and the pattern's named groups that matched."""

    pattern: re.Pattern[str]
    answer: Answering[Endpoint, Answer]

    @classmethod
    def of(cls, pattern: str, answer: Answering[Endpoint, Answer]) -> Route[Endpoint, Answer]:
        return cls(re.compile(pattern, re.DOTALL), answer)  # a path may hold any character, newlines too


@dataclass(frozen=True, slots=True)
class Router(Generic[Endpoint, Answer]):
    routes: Mapping[str, Sequence[Route[Endpoint, Answer]]]  # by method
    not_allowed: Callable[[Request, str], Answer]  # given the Allow header's value
    guard: Callable[[Endpoint, Request], Answer | None] | None = None  # an answer refuses the request

    def resolve(self, endpoint: Endpoint, event: Mapping[str, Any]) -> Answer:
        request = Request.of(event)
        routes = self.routes.get("GET" if request.method == "HEAD" else request.method)
        if routes is None:
            return self.not_allowed(request, ", ".join(self.routes))
        refusal = self.guard(endpoint, request) if self.guard is not None else None
        if refusal is not None:
            return refusal
        path = request.path.strip("/")
        for route in routes:
            matched = route.pattern.fullmatch(path)
            if matched:
                return route.answer(endpoint, request, {k: v for k, v in matched.groupdict().items() if v is not None})
        raise LookupError(f"no route for {request.method} /{path}: the last route of a method must match any path")
