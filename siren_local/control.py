"""The runtime's own HTTP surface, beside moto's on the same port.

- ``X-Amz-Target: PinpointSMSVoiceV2.*``: the End User Messaging SMS and voice v2 fake.
- ``GET /_siren/info``, ``GET /_siren/outbox``: what ``siren local info`` and ``siren local outbox`` print.
- ``GET /_siren/status/<key>``: the status page, read from the status bucket (S3 has no website endpoint in
  moto; on AWS CloudFront serves it).
- ``POST /_siren/chat/<channel>``: a Slack-compatible incoming webhook that records into the outbox.
- ``POST /_siren/slack/api/<method>``: the Slack Web API fake (slack_api.py; functions get it as SLACK_API_URL).
- ``GET /_siren/faults``, ``POST /_siren/faults`` (add one), ``POST /_siren/faults/clear``: fault injection
  (faults.py; ``siren local fault ...``). AWS API calls a fault covers (SNS, SES, EventBridge, DynamoDB) are
  answered here with the service's own failure instead of reaching moto.
- ``POST /_siren/sms-voice/fail``: make End User Messaging fail for given numbers (``{"destinations": [...]}``,
  an empty list to stop): the older form of an ``sms-voice`` fault with ``numbers``, kept as its alias.
- ``POST /_siren/schedules/fire``: fire an EventBridge Scheduler schedule now.
- ``POST /_siren/drain``: wait until asynchronous invocations and DynamoDB stream deliveries have finished
  (tests synchronise on it).
- ``/_siren/function-url/<url-id>/<path>`` (any method): Lambda function URLs (see function_urls.py).
Everything else goes to moto.
"""

from __future__ import annotations

import contextlib
import io
import json
import mimetypes
import socket
from typing import Any, Protocol

from werkzeug.wrappers import Request, Response

from siren_local.aws_calls import might_intercept
from siren_local.faults import Fault, FaultError, FaultInjector
from siren_local.function_urls import serve
from siren_local.http_messages import CONTROL_PREFIX, FUNCTION_URL_ROUTE, HttpRequest
from siren_local.outbox import Outbox
from siren_local.scheduler import SchedulerTicker
from siren_local.service_failures import Injected
from siren_local.slack_api import SlackApiFake
from siren_local.sms_voice import SmsVoiceFake
from siren_local.status_headers import status_page_headers

SLACK_API_ROUTE = "slack/api/"


class ControlledRuntime(Protocol):
    """What the control routes use of the runtime they serve (``LocalAws``): named here so that this module
    depends on that surface, not on the runtime module that builds the middleware."""

    outbox: Outbox
    sms_voice: SmsVoiceFake
    scheduler: SchedulerTicker
    faults: FaultInjector
    slack_api: SlackApiFake

    def info(self, stack_name: str = ...) -> dict[str, Any]: ...

    def outbox_json(self) -> list[dict[str, Any]]: ...

    def drain(self, timeout: float = ...) -> bool: ...

    def add_fault(self, target: str, **options: Any) -> Fault: ...

    def client(self, service: str, region: str | None = ...) -> Any: ...


class ControlMiddleware:
    def __init__(self, app: Any, runtime: ControlledRuntime) -> None:
        self.app = app
        self.runtime = runtime

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        path: str = environ.get("PATH_INFO", "")
        if target.startswith("PinpointSMSVoiceV2."):
            request = Request(environ)
            status, headers, body = self.runtime.sms_voice.handle(
                {"X-Amz-Target": target, "Authorization": environ.get("HTTP_AUTHORIZATION", "")}, request.get_data()
            )
            return _answer(Injected(status, headers, body), environ)(environ, start_response)
        if path.startswith(CONTROL_PREFIX + FUNCTION_URL_ROUTE):
            response = self._function_url(Request(environ), path[len(CONTROL_PREFIX + FUNCTION_URL_ROUTE) :])
            return response(environ, start_response)
        if path.startswith(CONTROL_PREFIX):
            response = self._control(Request(environ), path[len(CONTROL_PREFIX) :])
            return response(environ, start_response)
        if self.runtime.faults.armed:
            injected = self._injected(environ, target, path)
            if injected is not None:
                return _answer(injected, environ)(environ, start_response)
        return self.app(environ, start_response)

    def _injected(self, environ: dict[str, Any], target: str, path: str) -> Injected | None:
        """The fault's answer to this AWS call, if a fault covers it. The body is read here, so moto gets a copy."""
        headers = {"X-Amz-Target": target, "Authorization": environ.get("HTTP_AUTHORIZATION", "")}
        if not might_intercept(headers):
            return None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.runtime.faults.intercept(headers, environ.get("REQUEST_METHOD", "GET"), path, body)

    def _control(self, request: Request, route: str) -> Response:
        try:
            if request.method == "GET" and route == "info":
                return _json(self.runtime.info())
            if request.method == "GET" and route == "outbox":
                return _json(self.runtime.outbox_json())
            if request.method == "GET" and route.startswith("status"):
                return self._status_page(route[len("status") :].lstrip("/"))
            if request.method == "POST" and route.startswith("chat/"):
                return self._chat(request, route[len("chat/") :])
            if request.method == "POST" and route.startswith(SLACK_API_ROUTE):
                status, answer = self.runtime.slack_api.handle(
                    route[len(SLACK_API_ROUTE) :], dict(request.headers.items()), request.get_data()
                )
                return _json(answer, status=status)
            if route.startswith("faults") or route == "sms-voice/fail":
                return self._faults(request, route)
            if request.method == "POST" and route == "schedules/fire":
                body = request.get_json(force=True)
                self.runtime.scheduler.fire(body["name"], body.get("group", "default"))
                return _json({"fired": body["name"]})
            if request.method == "POST" and route == "drain":
                timeout = float(request.args.get("timeout", "30"))
                return _json({"drained": self.runtime.drain(timeout)})
        except FaultError as error:
            return _json({"error": str(error)}, status=400)
        except LookupError as error:
            return _json({"error": str(error)}, status=404)
        except (ValueError, KeyError, TypeError) as error:
            return _json({"error": f"bad request: {error}"}, status=400)
        return _json({"error": f"no such control route: {request.method} {route}"}, status=404)

    def _faults(self, request: Request, route: str) -> Response:
        faults = self.runtime.faults
        if route == "faults" and request.method == "GET":
            return _json(faults.to_json())
        if route == "faults" and request.method == "POST":
            spec = request.get_json(force=True)
            if not isinstance(spec, dict):
                raise FaultError("the body must be a JSON object naming the fault")
            return _json(self.runtime.add_fault(**spec).to_json())
        if route == "faults/clear" and request.method == "POST":
            return _json({"cleared": faults.clear()})
        if route == "sms-voice/fail" and request.method == "POST":
            numbers = request.get_json(force=True).get("destinations", [])
            if not isinstance(numbers, list):
                raise FaultError("destinations must be a list of phone numbers")
            self.runtime.sms_voice.fail_destinations = set(numbers)
            return _json({"failing": sorted(self.runtime.sms_voice.fail_destinations)})
        return _json({"error": f"no such control route: {request.method} {route}"}, status=404)

    def _function_url(self, request: Request, route: str) -> Response:
        url_id, _, rest = route.partition("/")
        served = serve(
            url_id,
            HttpRequest(
                method=request.method,
                path="/" + rest,
                query=request.environ.get("QUERY_STRING", ""),
                headers=list(request.headers.items()),
                body=request.get_data(),
                source_ip=request.remote_addr or "127.0.0.1",
                protocol=request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            ),
        )
        response = Response(served.body, status=served.status)
        del response.headers["Content-Type"]  # only what the function (or Lambda) said
        for name, value in served.headers:
            response.headers.add(name, value)
        return response

    def _status_page(self, key: str) -> Response:
        outputs = self.runtime.info()["outputs"]
        bucket = outputs.get("StatusBucketName")
        if not bucket:
            return _json({"error": "no status bucket is deployed"}, status=404)
        security_headers = status_page_headers(outputs.get("SubscriptionsUrl"))
        key = key or "index.html"
        if key.endswith("/"):
            key += "index.html"
        s3 = self.runtime.client("s3")
        try:
            obj = s3.get_object(Bucket=bucket, Key=key)
        except s3.exceptions.NoSuchKey:
            # CloudFront adds the response headers policy's headers to errors too.
            return Response(
                "Not found\n", status=404, content_type="text/plain; charset=utf-8", headers=security_headers
            )
        headers = {"Cache-Control": obj.get("CacheControl", "no-cache"), **security_headers}
        content_type = obj.get("ContentType") or mimetypes.guess_type(key)[0] or "application/octet-stream"
        return Response(obj["Body"].read(), status=200, content_type=content_type, headers=headers)

    def _chat(self, request: Request, channel: str) -> Response:
        payload = request.get_json(force=True, silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            return Response("invalid_payload", status=400, content_type="text/plain")
        fault = self.runtime.faults.strike("chat", "PostMessage")
        if fault is not None:
            return _answer(self.runtime.faults.answer(fault, "PostMessage"), request.environ)
        self.runtime.outbox.record(
            channel="chat", to=channel, body=payload["text"], via="webhook", blocks=payload.get("blocks")
        )
        return Response("ok", status=200, content_type="text/plain")


def _answer(injected: Injected, environ: dict[str, Any]) -> Response:
    """The answer as a response; a hang's end closes the connection unanswered instead (the caller's SDK sees the
    call fail as it sees its own timeout)."""
    if injected.drop:
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        return Response(b"", status=504)  # never reaches the caller: writing it fails, which werkzeug ignores
    return Response(injected.body, status=injected.status, headers=injected.headers)


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, default=str), status=status, content_type="application/json")
