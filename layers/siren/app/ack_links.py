"""Signed acknowledgement links: made for each page, honoured once, by a person's click.

A link (see :mod:`siren.domain.ack`) names the incident, the action, the person it was sent to, an expiry and a
nonce, signed with HMAC-SHA256 by a key kept in Secrets Manager. Opening it (GET) changes nothing: mail
scanners fetch every link in a message before the person does, so the page asks for a click, and the click
(POST) acts. The nonce is spent by a conditional write at that POST: a link works once, also when two clicks
race; if the action then fails, the nonce is given back so that the person can try again. Requests are routed by
:mod:`siren.app.function_url`: GET (and HEAD) confirm, POST acts, any other method is answered 405 with Allow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from siren.app.clock import utc_now
from siren.app.function_url import ANY_PATH, Request, Route, Router
from siren.app.incidents import Incidents
from siren.domain.ack import AckAction, AckLinkClaims, AckLinkError, verify_ack_link
from siren.domain.incidents import Incident, IncidentError, IncidentStatus
from siren.observability import logger
from siren.ports import AckCodes, IncidentRepository
from siren.render.ack_pages import SECURITY_HEADERS, IncidentSummary, confirm_page, done_page, refused_page

# A form post carries six short fields; anything much larger is not ours.
MAX_FORM_BYTES = 4096
_SIGNED_FIELDS = ("i", "a", "u", "e", "n", "s")


@dataclass(frozen=True, slots=True)
class PageResponse:
    status: int
    html: str
    extra_headers: Mapping[str, str] | None = None

    def to_lambda(self) -> dict[str, Any]:
        """The function URL response."""
        return {
            "statusCode": self.status,
            "headers": {**SECURITY_HEADERS, **(self.extra_headers or {})},
            "body": self.html,
        }


_REFUSALS = {
    "missing": (400, "Incomplete link", "This link is incomplete. Open it from the page you received, whole."),
    "malformed": (400, "Invalid link", "This link is not valid."),
    "bad_signature": (403, "Invalid link", "This link is not valid. Open it from the page you received."),
    "expired": (
        410,
        "Link expired",
        "This link has expired. Use the link in the latest page, reply to the SMS with its code, or run siren ack.",
    ),
}


@dataclass(frozen=True, slots=True, eq=False)
class AckLinkEndpoint:
    """Reads incidents in ``repository``, spends and gives back link nonces in ``codes``, acts through
    ``incidents``; ``secret`` is read for each request (cached by the caller's secret reader)."""

    repository: IncidentRepository
    codes: AckCodes
    incidents: Incidents
    secret: Callable[[], bytes]
    _: KW_ONLY
    clock: Callable[[], datetime] = utc_now

    def handle(self, event: Mapping[str, Any]) -> PageResponse:
        """A function URL request (payload format 2.0): GET shows the confirmation, POST acts."""
        return _ACK_LINKS.resolve(self, event)

    def _verified(self, fields: Mapping[str, str]) -> AckLinkClaims | PageResponse:
        try:
            return verify_ack_link(fields, self.secret(), self.clock())
        except AckLinkError as refusal:
            logger.info("ack link refused", extra={"reason": refusal.reason})
            status, heading, message = _REFUSALS.get(refusal.reason, _REFUSALS["malformed"])
            return PageResponse(status, refused_page(heading, message))

    def _confirm(self, request: Request, path: Mapping[str, str]) -> PageResponse:
        fields = request.query()
        claims = self._verified(fields)
        if isinstance(claims, PageResponse):
            return claims
        incident = self.repository.get(claims.incident_id)
        if incident is None:
            return _no_such_incident()
        if _already_done(incident, claims.action):
            return PageResponse(200, done_page(claims.action, claims.user, _summary(incident), changed=False))
        signed = {name: fields[name] for name in _SIGNED_FIELDS}
        return PageResponse(200, confirm_page(claims.action, claims.user, _summary(incident), signed))

    def _act(self, request: Request, path: Mapping[str, str]) -> PageResponse:
        fields = _form(request)
        if fields is None:
            return PageResponse(400, refused_page("Invalid request", "The form could not be read."))
        claims = self._verified(fields)
        if isinstance(claims, PageResponse):
            return claims
        now = self.clock()
        if not self.codes.use_link_nonce(claims.nonce, claims.incident_id, claims.expires_at, now):
            return PageResponse(
                409,
                refused_page(
                    "Link already used",
                    "This link has been used already. Each link works once: use the latest page, reply to the SMS "
                    "with its code, or run siren ack.",
                ),
            )
        before = self.repository.get(claims.incident_id)
        if before is None:
            return _no_such_incident()
        try:
            if claims.action is AckAction.ACK:
                after = self.incidents.acknowledge(claims.incident_id, claims.user, via="link")
            else:
                after = self.incidents.resolve(claims.incident_id, claims.user, note="resolved by signed link")
        except IncidentError as refusal:  # the incident's state does not allow it (e.g. resolved meanwhile)
            return PageResponse(409, refused_page("Not done", str(refusal)))
        except Exception:
            self.codes.release_link_nonce(claims.nonce)
            logger.exception("ack link action failed", extra={"incident_id": claims.incident_id})
            return PageResponse(
                503,
                refused_page(
                    "Not done: please try again",
                    "Siren could not record this just now. Use the link again in a moment.",
                ),
            )
        changed = before.status != after.status
        logger.info(
            "ack link used",
            extra={"incident_id": after.id, "action": str(claims.action), "user": claims.user, "changed": changed},
        )
        return PageResponse(200, done_page(claims.action, claims.user, _summary(after), changed))


def _already_done(incident: Incident, action: AckAction) -> bool:
    if incident.status is IncidentStatus.RESOLVED:
        return True
    return action is AckAction.ACK and incident.status is IncidentStatus.ACKNOWLEDGED


def _summary(incident: Incident) -> IncidentSummary:
    return IncidentSummary(incident.id, incident.severity, incident.service, incident.title, str(incident.status))


def _no_such_incident() -> PageResponse:
    return PageResponse(404, refused_page("No such incident", "This incident no longer exists."))


_ACK_LINKS: Router[AckLinkEndpoint, PageResponse] = Router(
    {"GET": [Route.of(ANY_PATH, AckLinkEndpoint._confirm)], "POST": [Route.of(ANY_PATH, AckLinkEndpoint._act)]},
    lambda request, allow: PageResponse(
        405, refused_page("Not allowed", "Open the link from your page."), {"allow": allow}
    ),
)


def _form(request: Request) -> dict[str, str] | None:
    try:
        raw = request.body()
        if len(raw) > MAX_FORM_BYTES:
            return None
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw)))
    except ValueError:
        return None
