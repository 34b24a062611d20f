"""PagerDuty's Events API v2, answered at ``<WebhookUrl>pagerduty/v2/enqueue``: a sender pointed at PagerDuty moves
to Siren by changing its URL, and keeps its routing key's shape, its events and its error handling.

The answers are PagerDuty's (https://developer.pagerduty.com/docs/events-api-v2/overview/, "Response Codes & Retry
Logic": 202, 400, 429, 5xx, nothing else), so that each client's retry logic stays right:

- 202 ``{"status": "success", "message": "Event processed", "dedup_key": ...}``: taken (a trigger without a key
  gets a generated one, which the sender keeps to resolve it).
- 400 ``{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}``: not taken, do not
  retry; each error names its field. An unknown routing key is a 400 too, ``errors: ["Invalid routing key"]``:
  PagerDuty documents no 401 or 403 for this API and answers a key of no integration that way (senders log
  "400 ... Invalid routing key"); a key of the wrong shape gets PagerDuty's own words for it ("Length of
  'routing_key' is incorrect (should be 32 characters)").
- 429 (with Retry-After): more than the webhook's per-sender rate from one integration; retry later.
- 5xx: the store failed; retry (the event's content hash makes a retry apply once).

Nothing is written for a refused event. An invalid event that came with a valid routing key is a lost alert of a
known sender: it goes to the dead-letter queue with its errors (its routing key left out: a credential is not kept
at rest), as the webhook's refused alerts do. A refusal before that (no JSON, an unknown key) is only logged and
counted: anyone can send one. Every refusal is counted once as AlertsRefused (by :meth:`Intake.webhook`).

Change events (``/v2/change/enqueue``) are validated, stored as changes of the integration's service
(siren.ports.ChangeEvents, kept for days) and answered 202: the service's next incident shows those of the hour
before it on its timeline and in its page email (siren.app.escalation).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from siren.app.function_url import Request
from siren.app.intake import HttpResponse, Intake
from siren.domain.changes import ChangeLink, service_change
from siren.domain.incidents import IncidentError
from siren.domain.integration_keys import integration_for_key
from siren.domain.parsers import decode_json
from siren.domain.parsers.pagerduty import (
    MAX_EVENT_BYTES,
    AlertEvent,
    InvalidEvent,
    alert_signal,
    read_alert_event,
    read_change_event,
    routing_key_of,
)
from siren.domain.policy.integrations import PAGERDUTY, Integration, Integrations
from siren.domain.signals import ParseError
from siren.observability import logger

if TYPE_CHECKING:
    from siren.app.incidents import Incidents
    from siren.ports import ChangeEvents

ALERT_PATH: Final = "v2/enqueue"
CHANGE_PATH: Final = "v2/change/enqueue"
ACKNOWLEDGED_VIA: Final = "pagerduty-events-api"


@dataclass(frozen=True, slots=True, eq=False)
class PagerDutyEventsApi:
    """The Events API v2 for the integrations of siren.yaml (``integrations.pagerduty``).

    ``secret`` reads the stack's integration secret (the routing keys are derived from it); ``incidents`` builds
    the use case an acknowledge goes through (on the first acknowledge: a trigger does not pay for it);
    ``new_key`` makes the key of a trigger sent without one (PagerDuty's is a UUID too); ``changes`` builds the
    store of change events (on the first one; None: change events are answered but not kept)."""

    integrations: Integrations
    secret: Callable[[], bytes]
    incidents: Callable[[], Incidents]
    new_key: Callable[[], str] = lambda: uuid.uuid4().hex
    changes: Callable[[], ChangeEvents] | None = None

    def answer(self, intake: Intake, request: Request, rest: str) -> HttpResponse:
        path = rest.strip("/")
        if path not in (ALERT_PATH, CHANGE_PATH):
            return HttpResponse(
                404,
                {"status": "invalid request", "message": f"no such path: POST to pagerduty/{ALERT_PATH}"},
            )
        if request.method != "POST":
            return HttpResponse(
                405, {"status": "invalid request", "message": f"use POST, not {request.method}"}, {"allow": "POST"}
            )
        try:
            raw_body = request.body()
            if len(raw_body) > MAX_EVENT_BYTES:
                raise InvalidEvent([f"the event is {len(raw_body)} bytes; the limit is {MAX_EVENT_BYTES}"])
            body = decode_json(raw_body)
            integration = self._integration(routing_key_of(body))
        except (InvalidEvent, ParseError, ValueError) as error:
            return _invalid(error, "event refused")
        if integration is None:
            logger.warning("pagerduty event refused: invalid routing key", extra={"source_ip": request.source_ip})
            return _invalid(InvalidEvent(["Invalid routing key"]), None)
        now = intake.clock()
        throttled = intake._throttled(f"{PAGERDUTY}:{integration.name}", now)
        if throttled is not None:
            return HttpResponse(
                429,
                {"status": "throttle event", "message": throttled.body.get("error", "too many events")},
                throttled.headers,
            )
        kept = {"integration": integration.name, **{k: v for k, v in body.items() if k != "routing_key"}}
        try:
            if path == CHANGE_PATH:
                return self._change(body, integration, now)
            event = read_alert_event(body)
        except InvalidEvent as error:
            intake.dead_letters.keep(kept, PAGERDUTY, str(error))
            return _invalid(error, "event refused", integration.name)
        if event.action == "acknowledge":
            return self._acknowledge(event, integration)
        return self._apply(intake, event, integration, kept, now)

    def _integration(self, routing_key: str) -> Integration | None:
        return integration_for_key(self.secret(), PAGERDUTY, self.integrations.pagerduty, routing_key)

    def _apply(
        self, intake: Intake, event: AlertEvent, integration: Integration, kept: dict[str, Any], now: datetime
    ) -> HttpResponse:
        """A trigger or a resolve: a signal, applied as every source's (the service's on_recovery holds)."""
        dedup_key = event.dedup_key or self.new_key()
        severity = self.integrations.pagerduty_severities.get(event.severity) if event.severity else None
        signal = alert_signal(
            event, integration.name, integration.service, severity=severity, dedup_key=dedup_key, received_at=now
        )
        intake._apply(signal, kept)
        return _processed(dedup_key)

    def _acknowledge(self, event: AlertEvent, integration: Integration) -> HttpResponse:
        """The open incident of the key, acknowledged. PagerDuty answers 202 whether or not an alert of that key is
        open (an acknowledge of none is dropped), and so does this."""
        dedup_key = event.dedup_key or ""
        actor = f"{PAGERDUTY}:{integration.name}"
        facts = {"integration": integration.name, "dedup_key": dedup_key}
        incidents = self.incidents()
        incident_id = incidents.incidents.key_state(f"{PAGERDUTY}:{integration.name}:{dedup_key}").open_incident_id
        if incident_id is None:
            logger.info("pagerduty acknowledge dropped: no open incident has this key", extra=facts)
            return _processed(dedup_key)
        try:
            incidents.acknowledge(incident_id, actor=actor, via=ACKNOWLEDGED_VIA)
        except IncidentError as error:  # resolved in between, say: as PagerDuty, the acknowledge is dropped
            logger.info("pagerduty acknowledge dropped", extra={**facts, "reason": str(error)})
            return _processed(dedup_key)
        logger.info("pagerduty acknowledge applied", extra={**facts, "incident_id": incident_id})
        return _processed(dedup_key)

    def _change(self, body: Any, integration: Integration, now: datetime) -> HttpResponse:
        """A change event, stored as a change of the integration's service at its timestamp (default: now). A store
        failure raises (a 5xx: the sender retries; the same event with its timestamp is then the same change)."""
        event = read_change_event(body)
        change = service_change(
            integration.service,
            event.timestamp or now,
            event.summary,
            source=event.source,
            integration=integration.name,
            custom_details=event.custom_details,
            links=[ChangeLink(link.href, link.text) for link in event.links],
        )
        if self.changes is not None:
            self.changes().record(change, now)
        logger.info(
            "pagerduty change event recorded" if self.changes is not None else "pagerduty change event not kept",
            extra={"integration": integration.name, "service": integration.service, "change_id": change.id},
        )
        return HttpResponse(202, {"status": "success", "message": "Change event processed"})


def _processed(dedup_key: str) -> HttpResponse:
    return HttpResponse(202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key})


def _invalid(error: Exception, log: str | None, integration: str | None = None) -> HttpResponse:
    errors = list(error.errors) if isinstance(error, InvalidEvent) else [str(error)]
    if log is not None:
        logger.warning(f"pagerduty {log}", extra={"integration": integration, "errors": errors})
    return HttpResponse(400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})
