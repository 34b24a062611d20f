"""How each AWS service says it failed, on the wire: the answers a fault stands in for the service's own (fault
injection, faults.py), and what an in-process hook makes of them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ReadTimeoutError

DYNAMODB_PREFIX = "com.amazonaws.dynamodb.v20120810#"
SNS_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"
SES_XMLNS = "http://ses.amazonaws.com/doc/2010-12-01/"

# The header of an answer that must not be sent: the connection is closed instead (a hang's end). It never leaves
# the runtime: the middleware and the in-process hooks act on it.
DROP_HEADER = "x-siren-drop-connection"


@dataclass(frozen=True)
class Injected:
    """An HTTP answer standing in for the service's: what the middleware or the in-process hook returns."""

    status: int
    headers: dict[str, str]
    body: str

    @property
    def drop(self) -> bool:
        return DROP_HEADER in self.headers


def in_process_answer(status: int, headers: dict[str, str], body: str, url: str) -> tuple[int, dict[str, str], str]:
    """What an in-process hook hands moto's stubber: the answer, or, for a hang's end, the SDK's read timeout."""
    if DROP_HEADER in headers:
        raise ReadTimeoutError(endpoint_url=url)
    return status, headers, body


def dropped_connection() -> Injected:
    """No answer at all: the connection is closed unanswered (a hang's end)."""
    return Injected(504, {DROP_HEADER: "1", "Content-Type": "text/plain"}, "")


def partial_put_events(failed: list[bool]) -> Injected:
    """EventBridge's PutEvents answer with the entries ``failed`` marks failed (a 200, as EventBridge answers)."""
    results = [
        {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal Failure (injected)"}
        if failed_one
        else {"EventId": str(uuid.uuid4())}
        for failed_one in failed
    ]
    return json_answer(200, "1.1", None, {"FailedEntryCount": sum(failed), "Entries": results})


def service_failure(kind: str, throttle: bool, operation: str, request: Any, detail: str) -> Injected | None:
    """The service's internal error (or, ``throttle``, its throttling answer) for a call of ``operation``; None for
    a kind of target that has no HTTP answer."""
    if kind == "sms-voice":
        code = "ThrottlingException" if throttle else "InternalServerException"
        return json_answer(400 if throttle else 500, "1.0", code, {"message": f"{code}: {detail}"})
    if kind == "events":
        code = "ThrottlingException" if throttle else "InternalException"
        return json_answer(400 if throttle else 500, "1.1", code, {"message": f"{code}: {detail}"})
    if kind == "dynamodb":
        return dynamodb_answer(throttle, operation, request, detail)
    if kind == "sns":
        code = "Throttling" if throttle else "InternalError"
        return query_failure(SNS_XMLNS, throttle, code, "Rate exceeded" if throttle else f"Internal error: {detail}")
    if kind == "ses":
        if isinstance(request, dict) and request.get("__query__"):  # SES v1 (query protocol)
            code = "Throttling" if throttle else "InternalFailure"
            return query_failure(SES_XMLNS, throttle, code, "Maximum sending rate exceeded." if throttle else detail)
        code = "TooManyRequestsException" if throttle else "InternalFailure"
        status = 429 if throttle else 500
        message = "Maximum sending rate exceeded." if throttle else f"InternalFailure: {detail}"
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
        headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return Injected(status, headers, json.dumps({"message": message}))
    if kind == "chat":
        if throttle:  # Slack's incoming webhooks: 429 with Retry-After
            return Injected(429, {"Content-Type": "text/plain", "Retry-After": "1"}, "rate_limited")
        return Injected(500, {"Content-Type": "text/plain"}, "rollup_error")
    return None


def json_answer(status: int, version: str, code: str | None, body: dict[str, Any]) -> Injected:
    headers = {"Content-Type": f"application/x-amz-json-{version}", "x-amzn-RequestId": str(uuid.uuid4())}
    if code is not None:
        headers["x-amzn-ErrorType"] = code
        body = {"__type": code, **body}
    return Injected(status, headers, json.dumps(body))


def dynamodb_answer(throttle: bool, operation: str, request: Any, detail: str) -> Injected:
    if not throttle:
        code = "InternalServerError"
        return json_answer(500, "1.0", DYNAMODB_PREFIX + code, {"message": f"Internal server error ({detail})"})
    if operation in ("TransactWriteItems", "TransactGetItems"):
        # A throttled transaction is cancelled, with a reason per item (what DynamoDB answers; botocore does not
        # retry it, the caller must).
        items = (request or {}).get("TransactItems") or [{}]
        reasons = [
            {
                "Code": "ThrottlingError",
                "Message": "Throughput exceeds the current capacity of your table or "
                "index. DynamoDB is automatically scaling your table or index so please try again shortly.",
            }
            for _ in items
        ]
        message = (
            "Transaction cancelled, please refer cancellation reasons for specific reasons ["
            + ", ".join("ThrottlingError" for _ in items)
            + "]"
        )
        return json_answer(
            400,
            "1.0",
            DYNAMODB_PREFIX + "TransactionCanceledException",
            {"message": message, "CancellationReasons": reasons},
        )
    code = "ProvisionedThroughputExceededException"
    message = (
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your "
        "provisioning level with the UpdateTable API."
    )
    return json_answer(400, "1.0", DYNAMODB_PREFIX + code, {"message": message})


def query_failure(xmlns: str, throttle: bool, code: str, message: str) -> Injected:
    """A query-protocol service's failure: throttling is the sender's fault (400), anything else the server's."""
    return query_answer(xmlns, 400 if throttle else 500, code, "Sender" if throttle else "Server", message)


def query_answer(xmlns: str, status: int, code: str, kind: str, message: str) -> Injected:
    request_id = str(uuid.uuid4())
    error = f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{_xml_escape(message)}</Message></Error>"
    body = f'<ErrorResponse xmlns="{xmlns}">{error}<RequestId>{request_id}</RequestId></ErrorResponse>'
    return Injected(status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
