"""The runtime's own HTTP surface: where its routes live, and the request and response of a function URL.

Below everything that serves or calls that surface: the middleware (control.py) routes by these prefixes and
hands function URL requests to function_urls.py, which answers them, and ``LocalAws.call_function_url`` calls
the same code directly in-process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CONTROL_PREFIX = "/_siren/"
FUNCTION_URL_ROUTE = "function-url/"


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str = "/"  # the path after the URL's root, with its leading "/"
    query: str = ""  # the raw query string, without "?"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), or None."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)
