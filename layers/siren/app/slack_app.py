"""The Slack app's requests: the ``/siren`` slash command and the Acknowledge / Resolve buttons of an incident message.

Every request is verified first (siren.app.slack_requests: Slack's signature, a fresh timestamp, not a replay); a
refused one is answered 401 with nothing read of it. Slack sends both kinds form-encoded: a command as fields
(``command``, ``text``, ``user_id``...), an interaction as one ``payload`` field holding JSON.

Who acts: the Siren user whose ``slack`` (siren.yaml ``users[].slack``) is the Slack member who sent the request;
it is that user's id that goes on the timeline, ``via`` Slack. A member mapped to nobody changes nothing and is told
why. Reading (``oncall``, ``status``) is open to every member of the workspace: who is on call is what a channel
asks most, and the signature already says the request comes from the workspace the app is installed in.

Commands: ``ack ID``, ``resolve ID``, ``escalate ID``, ``declare <title> --sev N --service S``,
``update ID <public text>``, ``oncall [schedule]``, ``status``; anything else gets the usage. The words are split as a
shell splits them (``shlex``), so a quoted title stays one title, and the curly quotes Slack's clients type are
taken as plain ones. A change is answered ``in_channel`` (the channel sees who acknowledged), the rest
``ephemeral`` (only the sender sees it). ``update`` keeps the incident's public status (its last public update's;
investigating before the first): a status change is the status page's decision, made with ``siren update``.

Buttons (``block_actions``): ``action_id`` ``acknowledge``, ``resolve`` or ``escalate``, the incident id as ``value``.
Slack does not show the body of an interaction's answer: the message itself is updated in place (``chat.update``) by
the Slack notifier (siren.app.slack_messages) on the lifecycle event the change commits.

Slack's three seconds: every command is answered synchronously, because each is a few store reads and one store
transaction, and at most one Step Functions call after it (an acknowledgement or an escalation ending the held wait;
a declaration starting its escalation). Measured through the embedded local AWS over HTTP with IAM enforced
(``make bench``: ``slack_command_answer_cold_ms``, ``slack_command_answer_warm_ms``; 2026-11-30, 2 shared cores):
warm, the slowest command (escalate) answers in ~150 ms; the first request after a deploy in ~2 s, nearly all of it
the function's own first-request setup (the signing secret read, the store's and the machine's clients), which a
``response_url`` hand-off would not remove (the request must be verified before anything is answered); each
command's own first run adds at most ~0.5 s. So there is no deferred work to get wrong (a lost follow-up would be a
click that silently did nothing). Locally the figure lacks Lambda's own init: if a cold answer ever nears three
seconds on AWS, the remedy is a lighter first request (or provisioned concurrency), not a deferral.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping, Sequence
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
BUTTONS: Final = ("acknowledge", "resolve", "escalate")
DECLARE_USAGE: Final = '`/siren declare "<title>" --sev N --service S` (N: 1 worst .. 5)'
UPDATE_USAGE: Final = "`/siren update ID <public text>` (keeps the incident's public status)"
USAGE: Final = (
    "Usage: `/siren ack ID`, `/siren resolve ID`, `/siren escalate ID` (page the next level now), "
    f"{DECLARE_USAGE}, {UPDATE_USAGE}, `/siren oncall [schedule]`, `/siren status`."
)
# What Slack's clients type for quotes (a Mac or a phone turns "..." into curly ones): shlex needs plain ones.
_PLAIN_QUOTES: Final = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


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
        text = form.get("text", "").translate(_PLAIN_QUOTES).strip()
        verb, _, rest = text.partition(" ")
        verb, rest = verb.lower(), rest.strip()
        try:
            arguments = shlex.split(rest)
        except ValueError:  # an unclosed quote
            return _ephemeral(f"A quote is not closed. {USAGE}")
        if verb == "status" and not arguments:
            return _ephemeral(self._status())
        if verb == "oncall" and len(arguments) <= 1:
            return _ephemeral(self._on_call(arguments[0] if arguments else None))
        if verb in ("ack", "acknowledge", "resolve", "escalate") and len(arguments) == 1:
            action = {"ack": "acknowledge", "acknowledge": "acknowledge"}.get(verb, verb)
            return self._change(member, action, arguments[0])
        if verb == "declare":
            return self._declare(member, arguments)
        if verb == "update":
            incident_id, _, public_text = rest.partition(" ")
            if not incident_id or not public_text.strip():
                return _ephemeral(f"Usage: {UPDATE_USAGE}.")
            return self._update(member, incident_id, public_text.strip())
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
            return self._unmapped(member, action)
        incidents = self.incidents_of()
        try:
            if action == "acknowledge":
                incident = incidents.acknowledge(incident_id, user.id, VIA)
            elif action == "escalate":
                return self._escalate(incidents, incident_id, user)
            else:
                incident = incidents.resolve(incident_id, user.id)
        except IncidentError as error:
            return _ephemeral(f"Nothing was changed: {error}")
        logger.info("slack action", extra={"action": action, "incident_id": incident.id, "actor": user.id})
        done = "acknowledged" if action == "acknowledge" else "resolved"
        return _in_channel(f"{incident.severity} {incident.id} {done} by {user.name}: {incident.title}")

    def _escalate(self, incidents: Incidents, incident_id: str, user: User) -> HttpResponse:
        request = incidents.escalate_now(incident_id, user.id, VIA)
        incident = request.incident
        logger.info(
            "slack action",
            extra={"action": "escalate", "incident_id": incident.id, "actor": user.id, "requested": request.requested},
        )
        if not request.requested:
            return _ephemeral(f"Nothing more was changed: {request.reason}.")
        return _in_channel(
            f"{incident.severity} {incident.id} escalated by {user.name}: the level after {request.from_level} "
            f"is being paged now. {incident.title}"
        )

    def _declare(self, member: str, arguments: Sequence[str]) -> HttpResponse:
        user = self._user(member)
        if user is None:
            return self._unmapped(member, "declare")
        parsed = _declaration(arguments)
        if isinstance(parsed, str):
            return _ephemeral(f"{parsed} Usage: {DECLARE_USAGE}.")
        title, severity, service = parsed
        try:
            result = self.incidents_of().declare(title, severity, service, "", user.id)
        except IncidentError as error:
            return _ephemeral(f"Nothing was declared: {error}")
        logger.info("slack action", extra={"action": "declare", "incident_id": result.incident_id, "actor": user.id})
        return _in_channel(
            f"{severity.upper()} {result.incident_id} declared by {user.name} ({service}): {title}. "
            "Its escalation pages the on-call now."
        )

    def _update(self, member: str, incident_id: str, public_text: str) -> HttpResponse:
        user = self._user(member)
        if user is None:
            return self._unmapped(member, "update")
        try:
            incident = self.incidents_of().post_update(incident_id, public_text, None, user.id)
        except IncidentError as error:
            return _ephemeral(f"Nothing was posted: {error}")
        logger.info("slack action", extra={"action": "update", "incident_id": incident.id, "actor": user.id})
        status = incident.public_updates[-1].status
        return _in_channel(f"Public update on {incident.id} ({status}) by {user.name}: {public_text}")

    @staticmethod
    def _unmapped(member: str, action: str) -> HttpResponse:
        logger.info("slack member not mapped", extra={"slack_member": member, "action": action})
        return _ephemeral(
            f"Nothing was changed: your Slack member id {member or '(none)'} is not given to any Siren user. "
            f"Add `slack: {member or 'U...'}` to your user in siren.yaml."
        )

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


def _declaration(arguments: Sequence[str]) -> tuple[str, str, str] | str:
    """``<title words> --sev N --service S`` (options anywhere, ``--opt=value`` too) as (title, severity, service),
    or what is wrong with it."""
    options: dict[str, str] = {}
    words: list[str] = []
    names = {"--sev": "sev", "--severity": "sev", "--service": "service"}
    remaining = list(arguments)
    while remaining:
        word = remaining.pop(0)
        name, equals, value = word.partition("=")
        if name in names:
            if not equals:
                if not remaining:
                    return f"{name} needs a value."
                value = remaining.pop(0)
            options[names[name]] = value
        elif word.startswith("--"):
            return f"Unknown option {word}."
        else:
            words.append(word)
    title = " ".join(words).strip()
    if not title:
        return "A declared incident needs a title."
    if "sev" not in options or "service" not in options:
        return "Give both --sev and --service."
    severity = options["sev"].strip()
    return title, severity if severity.lower().startswith("sev") else f"SEV{severity}", options["service"].strip()
