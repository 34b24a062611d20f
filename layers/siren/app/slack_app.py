"""The Slack app's requests: the ``/siren`` slash command and the Acknowledge / Resolve buttons of an incident message.

Every request is verified first (siren.app.slack_requests: Slack's signature, a fresh timestamp, not a replay); a
refused one is answered 401 with nothing read of it. Slack sends both kinds form-encoded: a command as fields
(``command``, ``text``, ``user_id``...), an interaction as one ``payload`` field holding JSON.

Who acts: the Siren user whose ``slack`` (siren.yaml ``users[].slack``) is the Slack member who sent the request;
it is that user's id that goes on the timeline, ``via`` Slack. A member mapped to nobody changes nothing and is told
why. Reading (``oncall``, ``status``) is open to every member of the workspace: who is on call is what a channel
asks most, and the signature already says the request comes from the workspace the app is installed in.

Commands (all answered at once, well inside Slack's three seconds: each is one read or one write of the store):
``ack ID``, ``resolve ID``, ``oncall [schedule]``, ``status``; anything else gets the usage. A change is answered
``in_channel`` (the channel sees who acknowledged), the rest ``ephemeral`` (only the sender sees it).

Buttons (``block_actions``): ``action_id`` ``acknowledge`` or ``resolve``, the incident id as ``value``. Slack does not
show the body of an interaction's answer: the message's update (``chat.update``) is the Web API slice's to do.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

from siren.app.intake import HttpResponse
from siren.domain.incidents import IncidentError
from siren.domain.oncall import on_call
from siren.domain.policy.users import User, user_for_slack
from siren.observability import logger

if TYPE_CHECKING:
    from siren.app.function_url import Request
    from siren.app.incidents import Incidents
    from siren.app.slack_requests import SlackRequestVerifier
    from siren.domain.policy import SirenConfig

VIA: Final = "slack"
MAX_BODY_BYTES: Final = (
    64 * 1024
)  # a block_actions payload carries the message: a few KB; anything larger is not Slack's
BUTTONS: Final = ("acknowledge", "resolve")
USAGE: Final = "Usage: `/siren ack ID`, `/siren resolve ID`, `/siren oncall [schedule]`, `/siren status`."


def _ephemeral(text: str) -> HttpResponse:
    return HttpResponse(200, {"response_type": "ephemeral", "text": text})


def _in_channel(text: str) -> HttpResponse:
    return HttpResponse(200, {"response_type": "in_channel", "text": text})


@dataclass(frozen=True, slots=True, eq=False)
class SlackApp:
    """``incidents_of``: the incident use case (with the escalation shortcut, so an acknowledgement ends the wait at
    once), built on the first request that needs it."""

    verifier: SlackRequestVerifier
    config: SirenConfig
    incidents_of: Callable[[], Incidents]
    clock: Callable[[], datetime]

    def answer(self, request: Request) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(405, {"error": "Slack sends POST"}, {"allow": "POST"})
        try:
            body = request.body()
        except ValueError:
            return HttpResponse(400, {"error": "the body is not valid base64"})
        if len(body) > MAX_BODY_BYTES:
            return HttpResponse(413, {"error": f"the body is over {MAX_BODY_BYTES} bytes"})
        headers = {str(name).lower(): str(value) for name, value in (request.event.get("headers") or {}).items()}
        refusal = self.verifier.refusal(body, headers)
        if refusal is not None:
            logger.warning("slack request refused", extra={"reason": refusal, "source_ip": request.source_ip})
            return HttpResponse(401, {"error": "not a verified request from Slack"})
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if "payload" in form:
            try:
                payload = json.loads(form["payload"])
            except ValueError:
                return HttpResponse(400, {"error": "the payload is not JSON"})
            return self._interaction(payload if isinstance(payload, dict) else {})
        if "command" in form:
            return self._command(form)
        return HttpResponse(400, {"error": "neither a slash command nor an interaction"})

    def _command(self, form: Mapping[str, str]) -> HttpResponse:
        member = form.get("user_id", "")
        words = form.get("text", "").split()
        verb, arguments = (words[0].lower(), words[1:]) if words else ("", [])
        if verb == "status" and not arguments:
            return _ephemeral(self._status())
        if verb == "oncall" and len(arguments) <= 1:
            return _ephemeral(self._on_call(arguments[0] if arguments else None))
        if verb in ("ack", "acknowledge", "resolve") and len(arguments) == 1:
            return self._change(member, "resolve" if verb == "resolve" else "acknowledge", arguments[0])
        return _ephemeral(USAGE)

    def _interaction(self, payload: Mapping[str, Any]) -> HttpResponse:
        member = str((payload.get("user") or {}).get("id") or "")
        actions = payload.get("actions") or []
        action = actions[0] if payload.get("type") == "block_actions" and actions else {}
        action_id, incident_id = str(action.get("action_id") or ""), str(action.get("value") or "")
        if action_id not in BUTTONS or not incident_id:
            return _ephemeral(f"Siren answers the buttons {' and '.join(BUTTONS)} with an incident id.")
        return self._change(member, action_id, incident_id)

    def _change(self, member: str, action: str, incident_id: str) -> HttpResponse:
        user = self._user(member)
        if user is None:
            logger.info("slack member not mapped", extra={"slack_member": member, "action": action})
            return _ephemeral(
                f"Nothing was changed: your Slack member id {member or '(none)'} is not given to any Siren user. "
                f"Add `slack: {member or 'U...'}` to your user in siren.yaml."
            )
        incidents = self.incidents_of()
        try:
            if action == "acknowledge":
                incident = incidents.acknowledge(incident_id, user.id, VIA)
            else:
                incident = incidents.resolve(incident_id, user.id)
        except IncidentError as error:
            return _ephemeral(f"Nothing was changed: {error}")
        logger.info("slack action", extra={"action": action, "incident_id": incident.id, "actor": user.id})
        done = "acknowledged" if action == "acknowledge" else "resolved"
        return _in_channel(f"{incident.severity} {incident.id} {done} by {user.name}: {incident.title}")

    def _user(self, member: str) -> User | None:
        return user_for_slack(self.config.users, member) if member else None

    def _status(self) -> str:
        open_incidents = self.incidents_of().list(limit=20)
        if not open_incidents:
            return "No open incidents."
        lines = [f"`{i.id}` {i.severity} {i.status.value}: {i.title}" for i in open_incidents]
        return "Open incidents, newest first:\n" + "\n".join(lines)

    def _on_call(self, schedule_name: str | None) -> str:
        schedules = self.config.schedules
        if schedule_name is not None and schedule_name not in schedules:
            return f"No schedule {schedule_name}: the schedules are {', '.join(schedules) or 'none'}."
        now = self.clock()
        lines = []
        for name in [schedule_name] if schedule_name is not None else list(schedules):
            user_id = on_call(schedules[name], now)
            user = self.config.users.get(user_id) if user_id else None
            who = "nobody" if user_id is None else (user.name if user else user_id)
            mention = f" (<@{user.slack}>)" if user is not None and user.slack else ""
            lines.append(f"{name}: {who}{mention}")
        return "On call now:\n" + "\n".join(lines) if lines else "No schedules in siren.yaml."
