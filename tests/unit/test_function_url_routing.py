"""Routing of function URL requests: the router on its own, then the webhook's refusals through it.

GIVEN the router (siren.app.function_url) or the webhook (Intake with recording fakes, no AWS), WHEN a request has
the wrong method, no or the wrong token, an unknown path, a body over the limit or a sender over its rate, THEN it is
refused in this order (method, token, path, size, rate) with the status, headers and words a sender reads, and
nothing is applied.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from siren.app.function_url import ANY_PATH, Request, Route, Router
from siren.app.intake import MAX_WEBHOOK_BODY_BYTES, Intake, RateLimit
from tests.fakes import FakeRequestRates
from tests.unit.test_webhook_judging import RecordingIngestor

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def event(
    path: str = "/", method: str | None = "POST", token: str | None = "secret", body: str = "", **extra: Any
) -> dict[str, Any]:
    http: dict[str, Any] = {"sourceIp": "192.0.2.7"} | ({"method": method} if method is not None else {})
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    return {"rawPath": path, "requestContext": {"http": http}, "headers": headers, "body": body, **extra}


# -- the router --------------------------------------------------------------------------------------------------
@dataclass
class Endpoint:
    """Records which of its answers the router called, and with what."""

    token: str = "secret"
    made: list[str] = field(default_factory=list)

    def item(self, request: Request, found: Mapping[str, str]) -> str:
        return self._took("item", found)

    def anything(self, request: Request, found: Mapping[str, str]) -> str:
        return self._took("anything", found)

    def guard(self, request: Request) -> str | None:
        return None if request.header("authorization") == f"Bearer {self.token}" else "401"

    def _took(self, name: str, found: Mapping[str, str]) -> str:
        self.made.append(name)
        return f"{name} {dict(found)}"


def router(guard: bool = False) -> Router[Endpoint, str]:
    return Router(
        {
            "GET": [Route.of(r"items/(?P<item>[^/]+)", Endpoint.item), Route.of(ANY_PATH, Endpoint.anything)],
            "POST": [Route.of(ANY_PATH, Endpoint.anything)],
        },
        lambda request, allow: f"405 {request.method or '-'} allow={allow}",
        Endpoint.guard if guard else None,
    )


@pytest.mark.parametrize(("method", "answer"), [("PUT", "405 PUT allow=GET, POST"), (None, "405 - allow=GET, POST")])
def test_a_method_no_route_takes_is_refused_with_the_methods_that_are_allowed(method, answer):
    endpoint = Endpoint()
    assert router().resolve(endpoint, event("/items/1", method=method)) == answer
    assert endpoint.made == []


def test_head_is_answered_as_get_and_a_lower_case_method_is_read_in_upper_case():
    endpoint = Endpoint()
    assert router().resolve(endpoint, event("/items/7", method="HEAD")) == "item {'item': '7'}"
    assert router().resolve(endpoint, event("/items/8", method="get")) == "item {'item': '8'}"
    assert endpoint.made == ["item", "item"]


def test_the_path_is_matched_whole_without_its_outer_slashes_and_the_last_route_takes_the_rest():
    endpoint = Endpoint()
    assert router().resolve(endpoint, event("//items/3//", method="GET")) == "item {'item': '3'}"
    assert router().resolve(endpoint, event("/items/3/more", method="GET")) == "anything {}"
    assert router().resolve(endpoint, event("/items/a\nb", method="GET")) == "item {'item': 'a\\nb'}"
    assert router().resolve(endpoint, event("/items/3", method="POST")) == "anything {}"


def test_the_guard_refuses_after_the_method_and_before_any_route():
    endpoint = Endpoint()
    guarded = router(guard=True)
    assert guarded.resolve(endpoint, event("/items/1", method="DELETE", token=None)) == "405 DELETE allow=GET, POST"
    assert guarded.resolve(endpoint, event("/items/1", method="GET", token="wrong")) == "401"
    assert endpoint.made == []
    assert guarded.resolve(endpoint, event("/items/1", method="GET")) == "item {'item': '1'}"
    assert guarded.resolve(Endpoint(token="other"), event("/items/1", method="GET")) == "401"


def test_a_method_whose_routes_miss_the_path_is_a_programming_error_said_loudly():
    narrow: Router[Endpoint, str] = Router({"GET": [Route.of("items/(?P<item>.+)", Endpoint.item)]}, lambda r, a: "405")
    with pytest.raises(LookupError, match="no route for GET /elsewhere"):
        narrow.resolve(Endpoint(), event("/elsewhere", method="GET"))


def test_the_request_reads_headers_in_any_case_bodies_in_base64_and_either_form_of_query():
    request = Request.of(
        event(
            headers={"Authorization": "Bearer a", "X-Other": "b"},
            body=base64.b64encode(b"\x00raw").decode(),
            isBase64Encoded=True,
            rawQueryString="a=1&b=",
        )
    )
    assert (request.header("authorization"), request.header("x-missing")) == ("Bearer a", "")
    assert request.body() == b"\x00raw"
    assert request.query() == {"a": "1", "b": ""}
    assert Request.of({"queryStringParameters": {"a": "2"}}).query() == {"a": "2"}
    bare = Request.of({})
    assert (bare.method, bare.path, bare.source_ip, bare.body(), bare.query()) == ("", "", "", b"", {})


# -- the webhook through it --------------------------------------------------------------------------------------
@dataclass
class Door:
    ingestor: RecordingIngestor = field(default_factory=RecordingIngestor)
    rates: FakeRequestRates = field(default_factory=lambda: FakeRequestRates(limit_reached_after=1))
    token: str | None = "secret"

    def post(self, request: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        intake = Intake(
            self.ingestor,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            webhook_token=(lambda: self.token) if self.token else None,  # type: ignore[return-value]
            clock=lambda: NOW,
            rate_limit=RateLimit(self.rates, per_minute=1),
        )
        response = intake.webhook(request)
        return response["statusCode"], json.loads(response["body"]), response["headers"]


ALERT = json.dumps({"dedup_key": "disk-full", "title": "Disk full"})


def test_a_good_request_is_applied_and_answered_as_json_that_is_not_cached():
    door = Door()
    status, answer, headers = door.post(event("/generic", body=ALERT))
    assert (status, answer) == (
        202,
        {
            "accepted": 1,
            "results": [{"dedup_key": "generic:disk-full", "action": "opened", "incident_id": "INC-1"}],
            "refused": [],
        },
    )
    assert headers == {"content-type": "application/json", "cache-control": "no-store"}
    assert [signal.dedup_key for signal, _ in door.ingestor.ingested] == ["generic:disk-full"]


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", None])
def test_any_method_but_post_is_a_405_that_says_post_before_the_token_is_read(method):
    door = Door()
    status, answer, headers = door.post(event("/nagios", method=method, token=None, body=ALERT))
    assert status == 405
    assert answer == {"error": f"use POST, not {method or 'an unknown method'}"}
    assert headers["allow"] == "POST" and headers["content-type"] == "application/json"
    assert door.ingestor.ingested == [] and door.rates.taken == []


@pytest.mark.parametrize(
    ("token", "error"),
    [(None, "missing bearer token: send 'Authorization: Bearer <token>'"), ("wrong", "invalid token")],
)
def test_a_request_without_the_token_is_a_401_whatever_its_path(token, error):
    door = Door()
    for path in ("/generic", "/nagios", "/heartbeat/nightly"):
        assert door.post(event(path, token=token, body=ALERT))[:2] == (401, {"error": error})
    assert door.ingestor.ingested == [] and door.rates.taken == []


def test_a_webhook_with_no_token_configured_refuses_everything_with_a_503():
    door = Door(token=None)
    assert door.post(event("/generic", body=ALERT))[:2] == (503, {"error": "the webhook has no token configured"})


@pytest.mark.parametrize(("path", "source"), [("/nagios", "nagios"), ("/", ""), ("/generic/extra", "extra")])
def test_an_unknown_path_is_a_404_that_lists_the_formats(path, source):
    door = Door()
    status, answer, _ = door.post(event(path, body=ALERT))
    assert status == 404
    assert answer == {
        "error": f"unknown source {source!r}: POST to /alertmanager, /canary, /datadog, /generic, /grafana",
    }
    assert door.ingestor.ingested == []


def test_a_prefix_before_the_format_is_not_read():
    door = Door()
    assert door.post(event("/hooks/v1/generic/", body=ALERT))[0] == 202


def test_a_body_over_the_limit_is_a_413_before_the_rate_is_counted():
    door = Door()
    too_large = "x" * (MAX_WEBHOOK_BODY_BYTES + 1)
    status, answer, _ = door.post(event("/generic", body=too_large))
    assert status == 413
    assert answer == {"error": f"body is {MAX_WEBHOOK_BODY_BYTES + 1} bytes; the limit is {MAX_WEBHOOK_BODY_BYTES}"}
    assert door.rates.taken == []


def test_a_base64_body_is_decoded_before_it_is_judged():
    door = Door()
    encoded = event("/generic", body=base64.b64encode(ALERT.encode()).decode(), isBase64Encoded=True)
    assert door.post(encoded)[0] == 202


def test_a_sender_over_its_rate_is_a_429_with_retry_after_and_nothing_applied():
    door = Door()
    assert door.post(event("/generic", body=ALERT))[0] == 202
    status, answer, headers = door.post(event("/generic", body=ALERT))
    assert status == 429
    assert answer == {"error": "more than 1 requests a minute from generic:192.0.2.7; send again in 42 s"}
    assert headers["retry-after"] == "42"
    assert door.rates.taken == ["generic:192.0.2.7", "generic:192.0.2.7"]
    assert len(door.ingestor.ingested) == 1
