"""The front door: raw deliveries from EventBridge, SNS and the webhook become signals, then incidents.

Refused input never disappears: EventBridge and SNS deliveries go to the dead-letter queue with the reason (and
a structured log line and a metric); webhook callers get a 4xx with a JSON reason. Nothing is half-written: a
webhook batch is fully parsed and checked before its first signal is applied.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from siren.adapters.dead_letters import DeadLetters
from siren.app.ingest import Ingestor, IngestResult
from siren.domain.incidents import check_signal_time
from siren.domain.parsers import PARSERS_BY_SOURCE, decode_json, parse_cloudwatch_event, parse_cloudwatch_sns_message
from siren.domain.signals import ParseError, Signal
from siren.observability import logger, metrics

if TYPE_CHECKING:
    from siren.app.heartbeats import Heartbeats

MAX_WEBHOOK_BODY_BYTES = 256 * 1024
HEARTBEAT_ROUTE = "heartbeat"  # POST <WebhookUrl>heartbeat/<name>


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: Mapping[str, Any]

    def to_lambda(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": {"content-type": "application/json", "cache-control": "no-store"},
            "body": json.dumps(self.body),
        }


class Intake:
    def __init__(
        self,
        ingestor: Ingestor,
        dead_letters: DeadLetters,
        webhook_token: Callable[[], str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        heartbeats: Heartbeats | None = None,
    ) -> None:
        self._ingestor = ingestor
        self._dead_letters = dead_letters
        self._webhook_token = webhook_token
        self._clock = clock
        self._heartbeats = heartbeats

    # -- EventBridge and SNS -----------------------------------------------------------------------------
    def cloudwatch_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        try:
            signal = parse_cloudwatch_event(event)
            return _summary([self._apply(signal, event)])
        except ParseError as error:
            self._refuse(event, "cloudwatch", str(error))
            return {"refused": str(error)}

    def cloudwatch_sns(self, event: Mapping[str, Any]) -> dict[str, Any]:
        results: list[IngestResult] = []
        refused = 0
        records = event.get("Records") if isinstance(event, Mapping) else None
        if not isinstance(records, list):
            self._refuse(event, "cloudwatch-sns", "not an SNS event: Records is missing")
            return {"refused": 1}
        for record in records:
            try:
                sns = record["Sns"]
                signal = parse_cloudwatch_sns_message(sns["Message"], str(sns["MessageId"]))
                results.append(self._apply(signal, {"sns": sns}))
            except (ParseError, KeyError, TypeError) as error:
                refused += 1
                reason = str(error) if isinstance(error, ParseError) else f"not an SNS record: {error!r}"
                self._refuse(record, "cloudwatch-sns", reason)
        return {**_summary(results), "refused": refused}

    def _apply(self, signal: Signal, raw: Mapping[str, Any]) -> IngestResult:
        result = self._ingestor.ingest(signal, raw)
        metrics.add_metric(name=f"Signals_{result.action}", unit=MetricUnit.Count, value=1)
        logger.info(
            "signal applied",
            extra={"source": str(signal.source), "dedup_key": signal.dedup_key, "delivery_id": signal.delivery_id,
                   "action": result.action, "incident_id": result.incident_id, "reason": result.reason},
        )  # fmt: skip
        return result

    def _refuse(self, payload: Any, source: str, reason: str) -> None:
        logger.error("alert refused", extra={"source": source, "reason": reason})
        metrics.add_metric(name="AlertsRefused", unit=MetricUnit.Count, value=1)
        self._dead_letters.keep(payload, source, reason)

    # -- the webhook (Lambda function URL, payload format 2.0) -------------------------------------------
    def webhook(self, event: Mapping[str, Any]) -> dict[str, Any]:
        response = self._webhook(event)
        if 400 <= response.status < 500:
            # A sender that is refused (bad token, malformed, oversized, unknown route) is losing its alerts.
            metrics.add_metric(name="AlertsRefused", unit=MetricUnit.Count, value=1)
        return response.to_lambda()

    def _webhook(self, event: Mapping[str, Any]) -> HttpResponse:
        method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
        if method != "POST":
            return HttpResponse(405, {"error": f"use POST, not {method or 'an unknown method'}"})
        refusal = self._authenticate(event.get("headers") or {})
        if refusal:
            return refusal
        body = event.get("body") or ""
        raw_body = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()
        if len(raw_body) > MAX_WEBHOOK_BODY_BYTES:
            return HttpResponse(413, {"error": f"body is {len(raw_body)} bytes; the limit is {MAX_WEBHOOK_BODY_BYTES}"})
        route, _, source = str(event.get("rawPath", "")).strip("/").rpartition("/")
        if route.rsplit("/", 1)[-1] == HEARTBEAT_ROUTE or source == HEARTBEAT_ROUTE:
            return self._heartbeat_ping(source if route else "")
        parser = PARSERS_BY_SOURCE.get(source)
        if parser is None:
            known = ", ".join(sorted(PARSERS_BY_SOURCE))
            return HttpResponse(404, {"error": f"unknown source {source!r}: POST to /{known.replace(', ', ', /')}"})
        try:
            payload = decode_json(raw_body)
        except ParseError as error:  # malformed, or nested deep enough to exhaust the stack
            return HttpResponse(400, {"error": str(error)})
        now = self._clock()
        try:
            signals = parser(payload, now)
            for signal in signals:
                check_signal_time(signal, now)
        except ParseError as error:
            logger.warning("webhook refused", extra={"source": source, "reason": str(error)})
            metrics.add_metric(name="AlertsRefused", unit=MetricUnit.Count, value=1)
            return HttpResponse(400, {"error": str(error)})
        results = [self._apply(signal, _raw_for(payload, signal, index)) for index, signal in enumerate(signals)]
        return HttpResponse(202, _summary(results))

    def _heartbeat_ping(self, name: str) -> HttpResponse:
        """``POST /heartbeat/<name>``: a job says it ran. The body, if any, is not read."""
        if not name or name == HEARTBEAT_ROUTE:
            return HttpResponse(404, {"error": "no heartbeat named: POST to /heartbeat/<name>"})
        if self._heartbeats is None or not self._heartbeats.known(name):
            return HttpResponse(404, {"error": f"unknown heartbeat {name!r}: heartbeats are declared under "
                                               "`heartbeats:` in siren.yaml"})  # fmt: skip
        view = self._heartbeats.ping(name)
        metrics.add_metric(name="HeartbeatPings", unit=MetricUnit.Count, value=1)
        return HttpResponse(200, view.to_json())

    def _authenticate(self, headers: Mapping[str, str]) -> HttpResponse | None:
        if self._webhook_token is None:
            return HttpResponse(503, {"error": "the webhook has no token configured"})
        supplied = ""
        for name, value in headers.items():
            if name.lower() == "authorization":
                supplied = str(value)
        scheme, _, token = supplied.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return HttpResponse(401, {"error": "missing bearer token: send 'Authorization: Bearer <token>'"})
        if not hmac.compare_digest(token.strip().encode(), self._webhook_token().encode()):
            return HttpResponse(401, {"error": "invalid token"})
        return None


def _raw_for(payload: Any, signal: Signal, index: int) -> Mapping[str, Any]:
    """The part of a webhook body that produced ``signal`` (one alert of a group), kept as its raw payload."""
    if isinstance(payload, dict) and isinstance(payload.get("alerts"), list) and index < len(payload["alerts"]):
        group = {k: v for k, v in payload.items() if k != "alerts"}
        return {"group": group, "alert": payload["alerts"][index]}
    return payload if isinstance(payload, dict) else {"body": payload}


def _summary(results: list[IngestResult]) -> dict[str, Any]:
    return {
        "accepted": len(results),
        "results": [{"dedup_key": r.dedup_key, "action": r.action, "incident_id": r.incident_id} for r in results],
    }
