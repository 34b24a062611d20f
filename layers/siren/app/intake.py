"""The front door: raw deliveries from EventBridge, SNS, CloudWatch's Lambda alarm actions and the webhook become
signals, then incidents.

Refused input never disappears: refused EventBridge and SNS deliveries, and every refused alert of a webhook request,
go to the dead-letter queue with the reason (and a structured log line and an AlertsRefused datapoint); webhook
callers also read each refused alert's index and reason in the answer.

The webhook (see :meth:`Intake.webhook`, routed by :mod:`siren.app.function_url`), in order: POST only (405 with
Allow); the bearer token (401); the path names a format or a heartbeat (404); at most :data:`MAX_WEBHOOK_BODY_BYTES`,
the function URL's own limit (413); at most :data:`REQUESTS_PER_MINUTE` requests a minute per sender, the format and
the source IP (429 with Retry-After); JSON, nested at most 64 deep (400); the format's document (400). Then each
alert is judged on its own: a request whose every alert is refused gets 400 with the refusals; otherwise 202, and
the valid alerts are applied whatever their neighbours. A request of at most :data:`CHUNK_ALERTS` alerts is applied
before the answer, which gives each alert's incident; a larger one is kept as it came (S3) and applied by the
consumer in chunks of :data:`CHUNK_ALERTS`, from Lambda's asynchronous queue (:mod:`siren.adapters.webhook_queue`),
so that a group of thousands of alerts neither times out nor holds its sender; its answer says how many alerts were
queued. Per-alert validity is judged at the door in both cases, so the answer always names every refused alert.
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from siren.app.clock import utc_now
from siren.app.function_url import ANY_PATH, Request, Route, Router
from siren.app.ingest import Ingestor, IngestResult
from siren.domain.parsers import (
    JUDGES_BY_SOURCE,
    decode_json,
    parse_cloudwatch_alarm_action,
    parse_cloudwatch_event,
    parse_cloudwatch_sns_message,
)
from siren.domain.signals import Judgement, ParseError, Refusal, Signal
from siren.observability import logger, metrics
from siren.ports import Chunk, ChunkQueue, DeadLetters, RawBodies, RequestRates

if TYPE_CHECKING:
    from siren.app.heartbeats import Heartbeats


class VendorApi(Protocol):
    """Another vendor's API answered at ``<WebhookUrl><name>/v2/...`` (PagerDuty's Events API v2, Opsgenie's Alert
    API): it authenticates as that vendor does (a routing key in the body, a GenieKey header), not with the webhook's
    bearer token, and answers in the vendor's own shapes. ``rest`` is the path after ``<name>/``."""

    def answer(self, intake: Intake, request: Request, rest: str) -> HttpResponse: ...


# Lambda function URLs take requests of up to 6 MB; the check here holds where the event was built another way.
MAX_WEBHOOK_BODY_BYTES = 6 * 1024 * 1024
# Alerts applied by one invocation: at ~30 ms each against DynamoDB, a chunk takes a few seconds, far inside the
# consumer's timeout, and a request of this size or less is applied before the answer.
CHUNK_ALERTS = 50
# A request's alerts at most: 200 chunks queued at the door in well under a second. A bigger Alertmanager group is
# refused (413) with advice rather than half-queued.
MAX_ALERTS_PER_REQUEST = 10_000
REQUESTS_PER_MINUTE = 600  # per sender (format + source IP): ten a second, far above any real sender's pace
HEARTBEAT_ROUTE = "heartbeat"  # POST <WebhookUrl>heartbeat/<name>


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_lambda(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": {"content-type": "application/json", "cache-control": "no-store", **self.headers},
            "body": json.dumps(self.body),
        }


@dataclass(frozen=True, slots=True)
class WebhookQueue:
    """Where a large request goes: its body (S3) and its chunks (the consumer's asynchronous queue)."""

    bodies: RawBodies
    chunks: ChunkQueue

    def keep(self, key: str, source: str, raw_body: bytes, received_at: datetime, alerts: int) -> int:
        """Keep the body at ``key`` and queue its chunks of :data:`CHUNK_ALERTS` alerts; returns how many chunks.
        Raises when the body or any chunk was not taken."""

        chunks = [
            Chunk(source, key, received_at.isoformat(), start, min(start + CHUNK_ALERTS, alerts))
            for start in range(0, alerts, CHUNK_ALERTS)
        ]
        self.bodies.put(key, raw_body)
        self.chunks.send(chunks)
        return len(chunks)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``per_minute`` requests a minute from one sender, counted by ``rates``."""

    rates: RequestRates
    per_minute: int = REQUESTS_PER_MINUTE

    def wait(self, sender: str, now: datetime) -> int | None:
        """Counts this request: None while ``sender`` is within the limit, else the seconds until it may send."""
        return self.rates.take(sender, now, self.per_minute, timedelta(minutes=1))


@dataclass(frozen=True, slots=True, eq=False)
class Intake:
    """The front door. Without ``webhook_token`` the webhook refuses every request; without ``queue`` a large
    request is applied before the answer; without ``rate_limit`` no sender is limited."""

    ingestor: Ingestor
    dead_letters: DeadLetters
    _: KW_ONLY
    webhook_token: Callable[[], str] | None = None
    clock: Callable[[], datetime] = utc_now
    heartbeats: Heartbeats | None = None
    queue: WebhookQueue | None = None
    rate_limit: RateLimit | None = None
    vendor_apis: Mapping[str, VendorApi] = field(default_factory=dict)  # by the path's first segment
    # Siren's own alarms are named "<stack>-...": they must never page through Siren (when they fire, this pipeline
    # may be what is broken), whichever way they arrive. The EventBridge rule leaves them out by this same prefix.
    own_alarm_prefix: str | None = None

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

    def cloudwatch_alarm_action(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """An alarm action that invoked the function directly (the ``alarmData`` payload). Siren's own alarms are
        ignored, not applied and not dead-lettered: an operator pointed one here by mistake, and its page goes out
        of band through the operations topic."""
        try:
            signal = parse_cloudwatch_alarm_action(event)
        except ParseError as error:
            self._refuse(event, "cloudwatch-lambda", str(error))
            return {"refused": str(error)}
        alarm_name = signal.hints.alarm_name or ""
        if self.own_alarm_prefix and alarm_name.startswith(self.own_alarm_prefix):
            reason = f"{alarm_name!r} is one of Siren's own alarms ({self.own_alarm_prefix}...): they page out of band"
            logger.warning("own alarm ignored", extra={"alarm_name": alarm_name, "dedup_key": signal.dedup_key})
            return {"ignored": reason}
        return _summary([self._apply(signal, event)])

    def _apply(self, signal: Signal, raw: Mapping[str, Any]) -> IngestResult:
        result = self.ingestor.ingest(signal, raw)
        metrics.add_metric(name=f"Signals_{result.action}", unit=MetricUnit.Count, value=1)
        logger.info(
            "signal applied",
            extra={
                "source": str(signal.source),
                "dedup_key": signal.dedup_key,
                "delivery_id": signal.delivery_id,
                "action": result.action,
                "incident_id": result.incident_id,
                "reason": result.reason,
            },
        )
        return result

    def _refuse(self, payload: Any, source: str, reason: str) -> None:
        logger.error("alert refused", extra={"source": source, "reason": reason})
        metrics.add_metric(name="AlertsRefused", unit=MetricUnit.Count, value=1)
        self.dead_letters.keep(payload, source, reason)

    # -- the webhook (Lambda function URL, payload format 2.0) -------------------------------------------
    def webhook(self, event: Mapping[str, Any]) -> dict[str, Any]:
        request = Request.of(event)
        vendor = _VENDOR_PATH.fullmatch(request.path.strip("/"))
        if vendor is not None and vendor["api"] in self.vendor_apis:
            response = self.vendor_apis[vendor["api"]].answer(self, request, vendor["rest"])
        else:
            response = _WEBHOOK.resolve(self, event)
        if 400 <= response.status < 500 and not response.body.get("refused"):
            # A sender that is refused (bad token, malformed, oversized, unknown route) is losing its alerts.
            # (Refused alerts are counted one by one where they are kept.)
            metrics.add_metric(name="AlertsRefused", unit=MetricUnit.Count, value=1)
        return response.to_lambda()

    def _receive(self, request: Request, path: Mapping[str, str]) -> HttpResponse:
        """``POST /<source>``: a format's document of one or more alerts."""
        source = path["source"]
        judge = JUDGES_BY_SOURCE[source]
        raw_body = request.body()
        if len(raw_body) > MAX_WEBHOOK_BODY_BYTES:
            return HttpResponse(413, {"error": f"body is {len(raw_body)} bytes; the limit is {MAX_WEBHOOK_BODY_BYTES}"})
        now = self.clock()
        throttled = self._throttled(f"{source}:{request.source_ip or 'unknown'}", now)
        if throttled is not None:
            return throttled
        try:
            payload = decode_json(raw_body)
            judged = judge(payload, now, None)
        except ParseError as error:  # not JSON, too deep, or not this format's document at all
            logger.warning("webhook refused", extra={"source": source, "reason": str(error)})
            return HttpResponse(400, {"error": str(error)})
        if judged.total > MAX_ALERTS_PER_REQUEST:
            return HttpResponse(
                413,
                {
                    "error": f"{judged.total} alerts in one request; the limit is "
                    f"{MAX_ALERTS_PER_REQUEST}: split the group (Alertmanager: group_by)"
                },
            )
        refused = [refusal.to_json() for refusal in judged.refused]
        if not judged.accepted:
            self._keep_refused(payload, source, judged.refused)
            return HttpResponse(400, {"error": judged.refused[0].reason, "accepted": 0, "refused": refused})
        if judged.total <= CHUNK_ALERTS or self.queue is None:
            self._keep_refused(payload, source, judged.refused)
            results = [self._apply(signal, _raw_for(payload, index)) for index, signal in judged.accepted]
            return HttpResponse(202, {**_summary(results), "refused": refused})
        queued = self._enqueue(source, raw_body, now, judged, self.queue)
        if queued is None:
            return HttpResponse(503, {"error": "the request could not be queued; send it again"}, {"retry-after": "5"})
        return HttpResponse(202, {"accepted": len(judged.accepted), "refused": refused, "queued": queued})

    def _throttled(self, sender: str, now: datetime) -> HttpResponse | None:
        if self.rate_limit is None:
            return None
        wait = self.rate_limit.wait(sender, now)
        if wait is None:
            return None
        logger.warning("webhook throttled", extra={"sender": sender, "retry_after": wait})
        metrics.add_metric(name="WebhookThrottled", unit=MetricUnit.Count, value=1)
        return HttpResponse(
            429,
            {
                "error": f"more than {self.rate_limit.per_minute} requests a minute from "
                f"{sender}; send again in {wait} s"
            },
            {"retry-after": str(wait)},
        )

    def _enqueue(
        self, source: str, raw_body: bytes, now: datetime, judged: Judgement, queue: WebhookQueue
    ) -> dict[str, Any] | None:
        """Keep the body and queue its chunks; the chunks' alerts are applied (and refused ones kept) by
        :meth:`apply_chunk`. None when the queue would not take them."""
        key = f"webhook/{source}/{now:%Y/%m/%d/%H%M%S}-{uuid.uuid4().hex}.json"
        try:
            chunks = queue.keep(key, source, raw_body, now, judged.total)
        except Exception:  # any failure of S3 or Lambda: the sender must retry, not lose the request
            logger.exception("webhook request not queued", extra={"source": source, "key": key})
            return None
        logger.info(
            "webhook request queued", extra={"source": source, "key": key, "alerts": judged.total, "chunks": chunks}
        )
        return {"request": key, "alerts": judged.total, "chunks": chunks}

    def apply_chunk(self, chunk: Chunk, bodies: RawBodies) -> dict[str, Any]:
        """The consumer: one chunk of a queued request, judged as the door judged it (same body, same receive time):
        its valid alerts applied, its refused ones kept in the dead-letter queue. Raises (and Lambda retries the
        chunk, then keeps it in the DLQ) when the store fails; applying a chunk again is harmless."""
        payload = decode_json(bodies.get(chunk.key))
        judged = JUDGES_BY_SOURCE[chunk.source](
            payload, datetime.fromisoformat(chunk.received_at), range(chunk.start, chunk.stop)
        )
        self._keep_refused(payload, chunk.source, judged.refused)
        results = [self._apply(signal, _raw_for(payload, index)) for index, signal in judged.accepted]
        return {**_summary(results), "refused": [refusal.to_json() for refusal in judged.refused]}

    def _keep_refused(self, payload: Any, source: str, refused: Sequence[Refusal]) -> None:
        for refusal in refused:
            logger.warning("alert refused", extra={"source": source, "index": refusal.index, "reason": refusal.reason})
            metrics.add_metric(name="AlertsRefused", unit=MetricUnit.Count, value=1)
            self.dead_letters.keep({**_raw_for(payload, refusal.index), "index": refusal.index}, source, refusal.reason)

    def _heartbeat_ping(self, request: Request, path: Mapping[str, str]) -> HttpResponse:
        """``POST /heartbeat/<name>``: a job says it ran. The body, if any, is not read."""
        name = path.get("name", "")
        if not name or name == HEARTBEAT_ROUTE:
            return HttpResponse(404, {"error": "no heartbeat named: POST to /heartbeat/<name>"})
        if self.heartbeats is None or not self.heartbeats.known(name):
            return HttpResponse(
                404, {"error": f"unknown heartbeat {name!r}: heartbeats are declared under `heartbeats:` in siren.yaml"}
            )
        view = self.heartbeats.ping(name)
        metrics.add_metric(name="HeartbeatPings", unit=MetricUnit.Count, value=1)
        return HttpResponse(200, view.to_json())

    def _unknown_source(self, request: Request, path: Mapping[str, str]) -> HttpResponse:
        source = request.path.strip("/").rpartition("/")[2]
        known = ", ".join(sorted(JUDGES_BY_SOURCE))
        return HttpResponse(404, {"error": f"unknown source {source!r}: POST to /{known.replace(', ', ', /')}"})

    def _authenticate(self, request: Request) -> HttpResponse | None:
        if self.webhook_token is None:
            return HttpResponse(503, {"error": "the webhook has no token configured"})
        scheme, _, token = request.header("authorization").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return HttpResponse(401, {"error": "missing bearer token: send 'Authorization: Bearer <token>'"})
        if not hmac.compare_digest(token.strip().encode(), self.webhook_token().encode()):
            return HttpResponse(401, {"error": "invalid token"})
        return None


# Another vendor's API: <WebhookUrl>pagerduty/v2/enqueue, <WebhookUrl>opsgenie/v2/alerts/... (see VendorApi).
_VENDOR_PATH = re.compile(r"(?P<api>pagerduty|opsgenie)/(?P<rest>v2(?:/.*)?)", re.DOTALL)
# Paths are matched without their outer slashes, by their last segments: a prefix before them is not read.
_HEARTBEAT_PATH = rf"(?:.*/)?{HEARTBEAT_ROUTE}(?:/(?P<name>[^/]+))?"
_SOURCE_PATH = rf"(?:.*/)?(?P<source>{'|'.join(re.escape(source) for source in sorted(JUDGES_BY_SOURCE))})"
_WEBHOOK: Router[Intake, HttpResponse] = Router(
    {
        "POST": [
            Route.of(_HEARTBEAT_PATH, Intake._heartbeat_ping),
            Route.of(_SOURCE_PATH, Intake._receive),
            Route.of(ANY_PATH, Intake._unknown_source),
        ]
    },
    lambda request, allow: HttpResponse(
        405, {"error": f"use POST, not {request.method or 'an unknown method'}"}, {"allow": allow}
    ),
    guard=Intake._authenticate,
)


def _raw_for(payload: Any, index: int) -> Mapping[str, Any]:
    """The part of a webhook body that the alert at ``index`` came from (one alert of a group, with the group's own
    fields), kept as its raw payload."""
    if isinstance(payload, dict) and isinstance(payload.get("alerts"), list) and index < len(payload["alerts"]):
        group = {k: v for k, v in payload.items() if k != "alerts"}
        return {"group": group, "alert": payload["alerts"][index]}
    return payload if isinstance(payload, dict) else {"body": payload}


def _summary(results: list[IngestResult]) -> dict[str, Any]:
    return {
        "accepted": len(results),
        "results": [
            {"dedup_key": r.dedup_key, "action": r.action, "incident_id": r.incident_id}
            | ({"note": r.note} if r.note else {})
            for r in results
        ],
    }
