"""Opsgenie's Alert API, answered at ``<WebhookUrl>opsgenie/v2/...``: a sender of Opsgenie (Alertmanager's
``opsgenie_configs``, Grafana's Opsgenie contact point, Zabbix's media type, scripts) moves to Siren by changing its
API URL to ``<WebhookUrl>opsgenie/`` and its key to the integration's (``siren integrations keys``).

Routes (``rest`` is the path after ``opsgenie/``, see siren.app.intake.VendorApi):

- ``POST v2/alerts``: create (the body: siren.domain.parsers.opsgenie); 202.
- ``POST v2/alerts/<identifier>/acknowledge|close|notes`` with ``?identifierType=id|alias`` (default ``id``, as
  Opsgenie's): ``id`` is Siren's incident id, ``alias`` the alias the same integration created the alert with.
  Acknowledge and close are the incident use case's (``via="opsgenie-alert-api"``), with the body's ``user`` as the
  actor when given, else ``opsgenie:<integration>``; notes go on the timeline. 202.
- ``GET|POST|PUT|PATCH v2/heartbeats/<name>/ping``: the heartbeat of siren.yaml named so; 202.

Answers follow Opsgenie's response format and codes (https://docs.opsgenie.com/docs/response): every body has
``took`` (seconds, a float) and ``requestId`` (also in the X-Request-ID header); success is 202 ``{"result":
"Request will be processed"}`` (for a ping ``"PONG - Heartbeat received"``); 400 for a body that is not JSON
("Syntax Error only"); 401 for a missing or unknown key ("apiKey is invalid"); 422 ``{"message": "Request body is not
processable. Please check the errors.", "errors": {<field>: <problem>}}`` for a body that is JSON but not valid; 429
when one key sends more than the webhook's per-minute limit; 404 for an unknown path.

Where Siren departs from Opsgenie, and why: Opsgenie processes alert actions asynchronously, so an action on an
alert that does not exist is answered 202 and fails later, in its logs. Siren applies the action before it answers,
so it says so at once: 404 ``{"message": "Alert does not exist"}`` for an unknown id, or an alias with no open incident
(acknowledge, notes). Close is the exception: closing an alias with nothing open, or an incident already resolved, is
202, because that is the state the sender asks for and Alertmanager sends its resolve again after a person resolved
the incident in Siren (a 404 there would count as a failed notification on every repeat). Likewise Opsgenie answers
a ping to an unknown heartbeat with PONG (it checks later); Siren's heartbeats are declared in siren.yaml, and an
unknown name is answered 404 so that a misspelt one is seen the day it is set up.

A refused create (422) writes nothing but the dead-letter queue's copy, with the reason, as every refused alert.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from siren.app.intake import MAX_WEBHOOK_BODY_BYTES, HttpResponse
from siren.domain.incidents import IncidentError, IncidentStatus
from siren.domain.integration_keys import integration_for_key
from siren.domain.parsers import decode_json
from siren.domain.parsers.opsgenie import FieldError, dedup_key, parse_action, parse_create
from siren.domain.policy import OPSGENIE, Integration, SirenConfig
from siren.domain.signals import ParseError
from siren.observability import logger

if TYPE_CHECKING:
    from siren.app.function_url import Request
    from siren.app.incidents import Incidents
    from siren.app.intake import Intake

VIA: Final = "opsgenie-alert-api"
NOTE_MAX: Final = 2000  # siren.app.incidents' limit for a note: a longer Opsgenie note (25,000) is cut to it
ACCEPTED: Final = "Request will be processed"
PONG: Final = "PONG - Heartbeat received"
UNPROCESSABLE: Final = "Request body is not processable. Please check the errors."
ACTIONS: Final = ("acknowledge", "close", "notes")
PING_METHODS: Final = ("GET", "POST", "PUT", "PATCH")  # Opsgenie takes a ping by any of them

_CREATE = re.compile(r"v2/alerts/?")
_ACTION = re.compile(rf"v2/alerts/(?P<identifier>[^/]+)/(?P<action>{'|'.join(ACTIONS)})/?")
_PING = re.compile(r"v2/heartbeats/(?P<name>[^/]+)/ping/?")


@dataclass(frozen=True, slots=True, eq=False)
class OpsgenieApi:
    """``secret``: the stack's integration secret, read when a request needs it; ``incidents``: the incident use case
    (with the escalation shortcut) that acknowledge, close and notes go through, built on the first such request (a
    webhook that only takes alerts never builds it: a shorter cold start)."""

    secret: Callable[[], bytes]
    config: SirenConfig
    incidents_of: Callable[[], Incidents]
    new_request_id: Callable[[], str] = lambda: str(uuid.uuid4())

    def answer(self, intake: Intake, request: Request, rest: str) -> HttpResponse:
        reply = _Reply(self.new_request_id(), time.perf_counter())
        integration = self._authenticated(request)
        if integration is None:
            # Before the path, as the webhook's token: a caller without a key learns nothing of the routes.
            return reply(401, message="Could not authenticate")
        if intake.rate_limit is not None:
            wait = intake.rate_limit.wait(f"opsgenie:{integration.name}", intake.clock())
            if wait is not None:
                logger.warning("opsgenie api throttled", extra={"integration": integration.name, "retry_after": wait})
                return reply(
                    429,
                    {"retry-after": str(wait)},
                    message=f"You are making too many requests: more than {intake.rate_limit.per_minute} a minute "
                    f"with this key; send again in {wait} s.",
                )
        method = "GET" if request.method == "HEAD" else request.method
        path = rest.strip("/")
        if (ping := _PING.fullmatch(path)) is not None:
            if method not in PING_METHODS:
                return reply(405, {"allow": ", ".join(PING_METHODS)}, message=f"Method {method} is not allowed.")
            return self._ping(intake, unquote(ping["name"]), reply)
        create, action = _CREATE.fullmatch(path), _ACTION.fullmatch(path)
        if create is None and action is None:
            return reply(
                404,
                message=f"No handler found for {method} /{path}: Siren answers v2/alerts, "
                f"v2/alerts/<identifier>/{'|'.join(ACTIONS)} and v2/heartbeats/<name>/ping.",
            )
        if method != "POST":
            return reply(405, {"allow": "POST"}, message=f"Method {method} is not allowed.")
        body = request.body()
        if len(body) > MAX_WEBHOOK_BODY_BYTES:
            return reply(413, message=f"Request body is {len(body)} bytes; the limit is {MAX_WEBHOOK_BODY_BYTES}.")
        try:
            payload = decode_json(body) if body.strip() else None
        except ParseError as error:
            return reply(400, message=f"Request body is not valid JSON: {error}")
        if action is not None:
            return self._act(
                intake,
                request,
                reply,
                integration=integration,
                identifier=unquote(action["identifier"]),
                action=action["action"],
                payload=payload,
            )
        return self._create(intake, integration, payload, reply)

    def _authenticated(self, request: Request) -> Integration | None:
        scheme, _, key = request.header("authorization").strip().partition(" ")
        if scheme.lower() != "geniekey" or not key.strip():
            return None
        return integration_for_key(self.secret(), OPSGENIE, self.config.integrations.opsgenie, key)

    def _create(self, intake: Intake, integration: Integration, payload: Any, reply: _Reply) -> HttpResponse:
        try:
            signal = parse_create(
                payload, integration, self.config.integrations.opsgenie_priorities, reply.request_id, intake.clock()
            )
        except FieldError as error:
            logger.warning("opsgenie alert refused", extra={"integration": integration.name, "reason": str(error)})
            intake.dead_letters.keep(payload if isinstance(payload, dict) else {"body": payload}, OPSGENIE, str(error))
            return reply(422, message=UNPROCESSABLE, errors={error.field: str(error)})
        intake._apply(signal, payload)  # the front door's one way to apply a signal (logged, counted)
        return reply(202, result=ACCEPTED)

    def _act(
        self,
        intake: Intake,
        request: Request,
        reply: _Reply,
        *,
        integration: Integration,
        identifier: str,
        action: str,
        payload: Any,
    ) -> HttpResponse:
        kind = request.query().get("identifierType", "id") or "id"
        if kind not in ("id", "alias"):
            return reply(
                422, message=UNPROCESSABLE, errors={"identifierType": "Siren answers identifierType id or alias."}
            )
        try:
            body = parse_action(payload, note_required=action == "notes")
        except FieldError as error:
            return reply(422, message=UNPROCESSABLE, errors={error.field: str(error)})
        actor = body.user or f"opsgenie:{integration.name}"
        incidents = self.incidents_of()
        store = incidents.incidents
        if kind == "alias":
            incident_id = store.key_state(dedup_key(integration.name, identifier)).open_incident_id
        else:
            incident_id = identifier
        incident = store.get(incident_id) if incident_id else None
        if incident is None or (incident.status is IncidentStatus.RESOLVED and action != "close"):
            if action == "close":  # nothing open under that alias: closed already, which is what was asked
                return reply(202, result=ACCEPTED)
            return reply(404, message="Alert does not exist")
        try:
            if action == "acknowledge":
                incidents.acknowledge(incident.id, actor, VIA)
            elif action == "close":
                if incident.status is not IncidentStatus.RESOLVED:
                    incidents.resolve(incident.id, actor, _cut(body.note))
            else:
                incidents.add_note(incident.id, _cut(body.note) or "", actor)
        except IncidentError as error:  # e.g. a note that is all whitespace: the sender's to fix
            return reply(422, message=UNPROCESSABLE, errors={"note" if action == "notes" else "identifier": str(error)})
        logger.info(
            "opsgenie alert action",
            extra={"integration": integration.name, "action": action, "incident_id": incident.id, "actor": actor},
        )
        return reply(202, result=ACCEPTED)

    def _ping(self, intake: Intake, name: str, reply: _Reply) -> HttpResponse:
        if intake.heartbeats is None or not intake.heartbeats.known(name):
            return reply(404, message=f"Heartbeat with name [{name}] does not exist (declare it in siren.yaml).")
        intake.heartbeats.ping(name)
        return reply(202, result=PONG)


def _cut(note: str | None) -> str | None:
    return note if note is None or len(note) <= NOTE_MAX else note[: NOTE_MAX - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Reply:
    """One request's answers, in Opsgenie's shape: ``took`` and ``requestId`` on every one."""

    request_id: str
    started: float

    def __call__(self, status: int, headers: Mapping[str, str] | None = None, **body: Any) -> HttpResponse:
        took = round(time.perf_counter() - self.started, 3)
        return HttpResponse(
            status,
            {**body, "took": took, "requestId": self.request_id},
            {"x-request-id": self.request_id, "x-response-time": str(took), **(headers or {})},
        )
