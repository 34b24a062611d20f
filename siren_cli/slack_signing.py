"""Requests signed as Slack signs them: a slash command or a button click, POSTed to Siren's Slack function URL.

Slack's scheme (https://docs.slack.dev/authentication/verifying-requests-from-slack/): the body is form-encoded;
``X-Slack-Request-Timestamp`` is the Unix time of sending; ``X-Slack-Signature`` is ``v0=`` and the hex HMAC-SHA256,
keyed with the app's signing secret, of ``v0:<timestamp>:<body>``. A command is the fields ``command``, ``text``,
``user_id``, ``team_id``...; a click is one ``payload`` field holding the ``block_actions`` JSON.

One place for it, so that ``siren local slack-command`` / ``slack-click``, the tests and the benchmarks send exactly
what Slack sends, through the same verification a real request meets (siren.app.slack_requests). No AWS here: the
caller reads the secret (Secrets Manager) and the URL (the stack's SlackUrl output).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

TEAM: Final = "T0SIRENLOCAL"  # the workspace a local request names (Siren does not read it)
BUTTONS: Final = ("acknowledge", "resolve", "escalate")


def slack_signature(secret: str, body: bytes, timestamp: int | str) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_headers(secret: str, body: bytes, timestamp: int | str) -> dict[str, str]:
    """The two headers Slack adds to ``body`` sent at ``timestamp`` (Unix seconds)."""
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": slack_signature(secret, body, timestamp),
    }


def command_form(command_line: str, member: str, team: str = TEAM) -> dict[str, str]:
    """``/siren oncall primary`` as Slack sends it: the command, and the rest as ``text``."""
    line = command_line.strip()
    if not line.startswith("/"):
        raise ValueError(f'a slash command starts with /, got {command_line!r} (e.g. "/siren oncall")')
    command, _, text = line.partition(" ")
    return {
        "command": command,
        "text": text.strip(),
        "user_id": member,
        "team_id": team,
        # Slack gives every invocation its own trigger_id: the same command sent twice in one second is two
        # different bodies, so the second is not taken for a replay of the first.
        "trigger_id": _trigger_id(),
    }


def _trigger_id() -> str:
    """Shaped as Slack's (``<digits>.<digits>.<hex>``); only its uniqueness matters here."""
    return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def click_form(
    action_id: str, incident_id: str, member: str, team: str = TEAM, action_ts: float | None = None
) -> dict[str, str]:
    """A click on an incident message's button: ``block_actions`` with the incident id as the button's value.

    ``action_ts``: when the button was pressed (Slack's, to the microsecond): two clicks of a double click are two
    different bodies, so the second is not taken for a replay of the first."""
    pressed = time.time() if action_ts is None else action_ts
    payload = {
        "type": "block_actions",
        "team": {"id": team},
        "user": {"id": member},
        "actions": [{"action_id": action_id, "value": incident_id, "type": "button", "action_ts": f"{pressed:.6f}"}],
    }
    return {"payload": json.dumps(payload)}


@dataclass(frozen=True)
class SignedSlack:
    """Sends what Slack sends to ``url``: form bodies signed ``v0`` with ``secret`` at the time ``clock`` says."""

    url: str
    secret: str
    clock: Callable[[], float] = field(default=time.time)
    timeout_seconds: float = 30

    def signed(self, form: Mapping[str, str]) -> tuple[bytes, dict[str, str]]:
        body = urllib.parse.urlencode(form).encode()
        return body, slack_headers(self.secret, body, int(self.clock()))

    def send(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """POST a signed body; Siren's answer as (HTTP status, JSON body). Slack's limit is three seconds; the
        timeout here is longer, so that a slow answer is seen and measured rather than cut."""
        request = urllib.request.Request(  # noqa: S310 - a function URL the caller read from the stack
            self.url,
            data=body,
            method="POST",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def command(self, command_line: str, member: str) -> tuple[int, dict[str, Any]]:
        return self.send(*self.signed(command_form(command_line, member)))

    def click(self, action_id: str, incident_id: str, member: str) -> tuple[int, dict[str, Any]]:
        return self.send(*self.signed(click_form(action_id, incident_id, member)))
