"""The function URL router's cost against Powertools' LambdaFunctionUrlResolver, for the decision recorded in
``siren.app.function_url``: cold import, time per request, and whether concurrent requests keep to their own paths.

Cold imports run in fresh interpreters, the statements interleaved, each after what the webhook function imports
anyway (its handler module, the ingest use case and the parsers), less an empty statement's time. Per request: the
same endpoint shape on both (a token check, then a path to one of three answers) routing one authenticated POST,
median of repeated batches. Crossing: two threads each resolve their own requests; a request answered on the other
thread's path, or not answered (the resolver raised), counts as crossed.

Run alone: ``python -m bench.routing`` prints the figures.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bench.harness import PROJECT_ROOT, Report

IMPORT_REPEATS = 15
REQUESTS_PER_BATCH = 2_000
BATCHES = 15
CROSSING_REQUESTS = 3_000
_PREAMBLE = "import ingest_handlers, siren.app.ingest, siren.domain.parsers"
_POWERTOOLS = "import aws_lambda_powertools.event_handler"
_ROUTER = "import siren.app.function_url"


def _timed_import(statement: str) -> float:
    """Seconds to run ``statement`` in a fresh interpreter after :data:`_PREAMBLE`, measured inside it."""
    path = [str(PROJECT_ROOT / "layers"), str(PROJECT_ROOT), str(PROJECT_ROOT / "functions" / "ingest")]
    code = (
        f"import sys, time\nsys.path[:0] = {path!r}\n{_PREAMBLE}\n"
        f"started = time.perf_counter()\n{statement}\nprint(time.perf_counter() - started)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(output.strip().splitlines()[-1])


def _event(path: str) -> dict[str, Any]:
    return {
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"authorization": "Bearer secret", "content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": path, "sourceIp": "192.0.2.7"}, "stage": "$default"},
        "body": '{"dedup_key": "k", "title": "t"}',
        "isBase64Encoded": False,
    }


def _powertools_endpoint() -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response

    app = LambdaFunctionUrlResolver(debug=False)
    headers = {"content-type": "application/json", "cache-control": "no-store"}

    @app.post("/<source>")
    def receive(source: str) -> Response[str]:
        if app.current_event.headers.get("authorization") != "Bearer secret":
            return Response(401, None, '{"error": "invalid token"}', headers)
        if source not in ("alertmanager", "grafana", "generic"):
            return Response(404, None, '{"error": "unknown source"}', headers)
        return Response(202, None, f'{{"source": "{source}"}}', headers)

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return Response(405, None, '{"error": "use POST"}', {**headers, "allow": "POST"})

    return lambda event: app.resolve(dict(event), None)  # type: ignore[arg-type]


def _siren_endpoint() -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    from siren.app.function_url import ANY_PATH, Request, Route, Router

    headers = {"content-type": "application/json", "cache-control": "no-store"}

    def answer(status: int, body: str, extra: Mapping[str, str] | None = None) -> dict[str, Any]:
        return {"statusCode": status, "headers": {**headers, **(extra or {})}, "body": body}

    def guard(endpoint: None, request: Request) -> dict[str, Any] | None:
        return None if request.header("authorization") == "Bearer secret" else answer(401, '{"error": "invalid token"}')

    router = Router(
        {
            "POST": [
                Route.of(
                    r"(?:.*/)?(?P<source>alertmanager|grafana|generic)",
                    lambda endpoint, request, found: answer(202, f'{{"source": "{found["source"]}"}}'),
                ),
                Route.of(ANY_PATH, lambda endpoint, request, found: answer(404, '{"error": "unknown source"}')),
            ]
        },
        lambda request, allow: answer(405, '{"error": "use POST"}', {"allow": allow}),
        guard,
    )
    return lambda event: router.resolve(None, event)


def _microseconds_per_request(resolve: Callable[[Mapping[str, Any]], dict[str, Any]]) -> float:
    event = _event("/generic")
    assert resolve(event)["statusCode"] == 202
    batches = []
    for _ in range(BATCHES):
        started = time.perf_counter()
        for _ in range(REQUESTS_PER_BATCH):
            resolve(event)
        batches.append((time.perf_counter() - started) / REQUESTS_PER_BATCH)
    return statistics.median(batches) * 1e6


def _crossed(resolve: Callable[[Mapping[str, Any]], dict[str, Any]]) -> int:
    """Requests answered for the other thread's path, out of 2 x :data:`CROSSING_REQUESTS`."""
    crossed = [0, 0]
    paths = ("/alertmanager", "/grafana")

    def run(lane: int) -> None:
        event = _event(paths[lane])
        for _ in range(CROSSING_REQUESTS):
            try:
                answered = paths[lane][1:] in resolve(event)["body"]
            except Exception:  # the resolver lost its own state to the other thread
                answered = False
            crossed[lane] += not answered

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as a busy process makes them
    try:
        threads = [threading.Thread(target=run, args=(lane,)) for lane in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    return sum(crossed)


def run(report: Report) -> None:
    powertools: list[float] = []
    router: list[float] = []
    baseline: list[float] = []
    for _ in range(IMPORT_REPEATS):  # interleaved, so that the machine's load falls on all three alike
        powertools.append(_timed_import(_POWERTOOLS))
        router.append(_timed_import(_ROUTER))
        baseline.append(_timed_import("pass"))
    floor = statistics.median(baseline)
    cold = {"powertools_event_handler": powertools, "siren_function_url": router}
    for name, samples in cold.items():
        report.add(f"routing_cold_import_ms[{name}]", round((statistics.median(samples) - floor) * 1000, 1), "ms")
    for name, endpoint in (("powertools_event_handler", _powertools_endpoint), ("siren_function_url", _siren_endpoint)):
        resolve = endpoint()
        report.add(f"routing_us_per_request[{name}]", round(_microseconds_per_request(resolve), 1), "us")
        report.add(
            f"routing_crossed_requests[{name}]",
            _crossed(resolve),
            "requests",
            f"of {2 * CROSSING_REQUESTS}, two threads",
        )


if __name__ == "__main__":
    result = Report()
    run(result)
    for figure in result.figures:
        print(f"{figure.name:55s} {figure.value:>8g} {figure.unit} {figure.note}")
