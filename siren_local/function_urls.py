"""Lambda function URLs, served by the runtime itself.

moto 5.2.5 skips ``AWS::Lambda::Url`` in CloudFormation, and the URL its API hands out
(``https://<id>.lambda-url.<region>.on.aws``) leads nowhere. Here:

- every function URL config, created through the API or the template, gets a local URL instead:
  ``http://127.0.0.1:<port>/_siren/function-url/<url-id>/`` over HTTP, and the placeholder
  ``in-process:///_siren/function-url/<url-id>/`` in-process (call it with ``LocalAws.call_function_url``);
- :class:`LambdaUrl` creates the config for ``AWS::Lambda::Url``: ``Fn::GetAtt [Url, FunctionUrl]`` is that URL;
- :func:`serve` answers a request to it (any method, any sub-path, query string, headers, body): the function
  runs synchronously in the in-process Lambda runtime with Lambda's function URL event (payload format 2.0),
  and its result becomes the HTTP response as Lambda maps it (``statusCode``/``headers``/``body``/
  ``isBase64Encoded``/``cookies``; anything else is a 200 with the JSON of the result; a function error is a
  502). A request over Lambda's 6 MB payload limit gets a 413 without invoking the function.

Not enforced locally: ``AWS_IAM`` signatures (such URLs are served as if ``NONE``), CORS (no preflight
answers), response streaming (``RESPONSE_STREAM`` responds buffered).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from moto.awslambda import models as lambda_models

from siren_local.cloudformation import LocalResource
from siren_local.http_messages import CONTROL_PREFIX, FUNCTION_URL_ROUTE, HttpRequest, HttpResponse
from siren_local.lambda_runtime import active_runtime
from siren_local.patching import require_moto

log = logging.getLogger("siren.local.function_urls")

# Lambda's synchronous invocation limits: 6 MiB for the request (the event), 6 MiB + 100 bytes for the response.
REQUEST_LIMIT_BYTES = 6 * 1024 * 1024
RESPONSE_LIMIT_BYTES = REQUEST_LIMIT_BYTES + 100
_TEXT_TYPES = (
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/x-yaml",
    "application/yaml",
    "application/graphql",
)


# -- URLs ----------------------------------------------------------------------------------------------------
_lock = threading.Lock()
_base = "in-process://"
_configs: dict[str, Any] = {}  # url id -> moto FunctionUrlConfig


def url_for(url_id: str) -> str:
    return f"{_base}{CONTROL_PREFIX}{FUNCTION_URL_ROUTE}{url_id}/"


# The URL AWS gives a function URL, which a function reads back from its request's domainName to make links.
_AWS_FUNCTION_URL = re.compile(r"https://(?P<url_id>[0-9a-z]+)\.lambda-url\.[0-9a-z-]+\.on\.aws/")


def served_locally(text: str) -> str:
    """``text`` with every AWS function URL in it (a link a function made from its request's domain, as AWS names
    it) pointed at where this runtime serves that function URL: the AWS name leads nowhere locally."""
    return _AWS_FUNCTION_URL.sub(lambda found: url_for(found["url_id"]), text)


def split_url(url: str) -> tuple[str, str, str]:
    """``(url id, path, query)`` of a local function URL (either transport's form), or ValueError."""
    marker = f"{CONTROL_PREFIX}{FUNCTION_URL_ROUTE}"
    if marker not in url:
        raise ValueError(f"{url!r} is not a local function URL (no {marker} in it)")
    rest = url.split(marker, 1)[1]
    rest, _, query = rest.partition("?")
    url_id, _, path = rest.partition("/")
    return url_id, "/" + path, query


def _live_config(url_id: str) -> tuple[Any, Any] | None:
    """The function URL config ``url_id`` names and its function, if both still exist."""
    from moto.awslambda.utils import get_backend

    with _lock:
        config = _configs.get(url_id)
    if config is None:
        return None
    function = config.function
    try:
        current = get_backend(function.account_id, function.region).get_function(function.function_name)
    except Exception:
        return None
    return (config, current) if getattr(current, "url_config", None) is config else None


# -- request -> event -> response ---------------------------------------------------------------------------
def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+json", "+xml"))


def request_event(config: Any, url_id: str, request: HttpRequest, request_id: str, now: float) -> dict[str, Any]:
    """Lambda's function URL event (payload format version 2.0) for ``request``."""
    function = config.function
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}")
    domain = f"{url_id}.lambda-url.{function.region}.on.aws"
    moment = datetime.fromtimestamp(now, UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path or "/",
        "rawQueryString": request.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.query:
        parameters: dict[str, str] = {}
        for key, value in parse_qsl(request.query, keep_blank_values=True):
            parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
        event["queryStringParameters"] = parameters
    event["requestContext"] = {
        # AuthType NONE: Lambda reports the caller as "anonymous"; AWS_IAM: the caller's account (the owner here).
        "accountId": "anonymous" if config.config.get("AuthType", "NONE") == "NONE" else function.account_id,
        "apiId": url_id,
        "domainName": domain,
        "domainPrefix": url_id,
        "http": {
            "method": request.method.upper(),
            "path": request.path or "/",
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if request.body:
        if _is_text(headers.get("content-type")):
            try:
                event["body"] = request.body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(request.body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def _message(status: int, message: str, request_id: str) -> HttpResponse:
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
    return HttpResponse(status, headers, json.dumps({"Message": message}).encode())


def http_response(payload: str, errored: bool, request_id: str) -> HttpResponse:
    """The HTTP response Lambda makes of a function's result (``payload``, the JSON the function returned)."""
    if errored or len(payload.encode()) > RESPONSE_LIMIT_BYTES:
        return _message(502, "Internal Server Error", request_id)
    result = json.loads(payload)
    if not isinstance(result, dict) or "statusCode" not in result:
        # Lambda infers the response: 200, JSON, the function's result as the body.
        headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
        return HttpResponse(200, headers, payload.encode())
    try:
        status = int(result["statusCode"])
        if not 100 <= status <= 599:
            raise ValueError(status)
        body = result.get("body")
        if body is None:
            content = b""
        elif isinstance(body, str):
            content = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        else:
            content = json.dumps(body).encode()
        response_headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        response_headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or []]
    except (ValueError, TypeError, AttributeError) as error:
        log.warning("function URL response is malformed: %s", error)
        return _message(502, "Internal Server Error", request_id)
    response_headers.append(("x-amzn-RequestId", request_id))
    return HttpResponse(status, response_headers, content)


def serve(url_id: str, request: HttpRequest) -> HttpResponse:
    """Answer a request to the function URL ``url_id`` as Lambda does."""
    request_id = str(uuid.uuid4())
    found = _live_config(url_id)
    if found is None:
        return _message(403, "Forbidden", request_id)
    config, function = found
    too_large = f"Request must be smaller than {REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation"
    # The limit is on the event Lambda builds (headers and a base64 body count); the raw body is checked first.
    if len(request.body) > REQUEST_LIMIT_BYTES:
        return _message(413, too_large, request_id)
    event = request_event(config, url_id, request, request_id, time.time())
    if len(json.dumps(event).encode()) > REQUEST_LIMIT_BYTES:
        return _message(413, too_large, request_id)
    payload, errored = active_runtime().invoke(function, event)
    return http_response(payload, errored, request_id)


# -- CloudFormation -----------------------------------------------------------------------------------------
class LambdaUrl(LocalResource):
    """``AWS::Lambda::Url``: a function URL config in moto's Lambda backend, served locally."""

    TYPE = "AWS::Lambda::Url"
    ATTRIBUTES = ("FunctionArn", "FunctionUrl")
    CONFIG_KEYS: ClassVar[tuple[str, ...]] = ("AuthType", "Cors", "InvokeMode")

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        from moto.awslambda.utils import get_backend

        if properties.get("Qualifier"):
            log.warning("function URL of %s: Qualifier is ignored locally", properties["TargetFunctionArn"])
        config = {key: properties[key] for key in cls.CONFIG_KEYS if key in properties}
        url_config = get_backend(account_id, region).create_function_url_config(properties["TargetFunctionArn"], config)
        function_arn = url_config.function.function_arn
        return cls(function_arn, properties, {"FunctionArn": function_arn, "FunctionUrl": url_config.url})

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        from moto.awslambda.utils import get_backend

        target = cloudformation_json.get("Properties", {}).get("TargetFunctionArn")
        if target:
            get_backend(account_id, region_name).delete_function_url_config(target)


# -- installing ----------------------------------------------------------------------------------------------
_original_config_init = lambda_models.FunctionUrlConfig.__init__


def _config_init(self: Any, function: Any, config: dict[str, Any]) -> None:
    _original_config_init(self, function, config)
    # moto's URL is https://<32 hex>.lambda-url.<region>.on.aws: keep its id, serve it here.
    url_id = str(self.url).split("//", 1)[-1].split(".", 1)[0]
    if not re.fullmatch(r"[0-9a-z]{8,64}", url_id):
        url_id = uuid.uuid4().hex
    self.siren_url_id = url_id
    self.url = url_for(url_id)
    with _lock:
        _configs[url_id] = self


def install(base_url: str) -> None:
    """Serve function URLs under ``base_url`` (the runtime's endpoint, or ``in-process://``)."""
    global _base
    require_moto("function URL", lambda_models.FunctionUrlConfig, "__init__")
    require_moto("function URL", lambda_models.LambdaFunction, "create_url_config")
    require_moto(
        "function URL", lambda_models.LambdaBackend, "create_function_url_config", "delete_function_url_config"
    )
    with _lock:
        _base = base_url
        _configs.clear()
    setattr(lambda_models.FunctionUrlConfig, "__init__", _config_init)  # noqa: B010
