"""A local Slack Web API: the methods Siren's incident message uses, answered as Slack answers them, at
``POST /_siren/slack/api/<method>`` (the runtime gives deployed functions ``SLACK_API_URL`` pointing there, so the
real slack-sdk ``WebClient`` talks to it).

Methods: ``chat.postMessage``, ``chat.update``, ``conversations.create``, ``conversations.invite``,
``conversations.archive``, ``conversations.list``; anything else is ``unknown_method``. Shapes follow Slack's
reference (https://docs.slack.dev/reference/methods/): HTTP 200 with ``{"ok": false, "error": ...}`` for a refusal,
``ts`` as ``"<seconds>.<6 digits>"``, unique and increasing. A call without ``Authorization: Bearer <token>`` is
``not_authed``, with a token the runtime did not put in the stack's bot token secret (``LocalAws.connect_slack``)
``invalid_auth``: the token path (Secrets Manager -> WebClient) is exercised, not bypassed.

Every accepted call is recorded in the runtime's outbox on channel ``slack`` (``via`` ``slack-api``, ``method``
naming the call), so ``siren local outbox`` shows them beside the chat webhook's posts (channel ``chat``). The fake
keeps each message as it looks now (text, blocks, thread) for tests: :meth:`SlackApiFake.message`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from siren_local.outbox import Outbox

FIRST_SECOND: Final = 1_700_000_000
BOT_USER: Final = "U0SIRENBOT"
_CHANNEL_NAME: Final = re.compile(r"[a-z0-9_-]{1,80}")


class _Refused(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class SlackApiFake:
    outbox: Outbox
    tokens: set[str] = field(default_factory=set)
    _messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> Slack's channel object
    _sequence: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow_token(self, token: str) -> None:
        with self._lock:
            self.tokens.add(token)

    # -- what tests read -----------------------------------------------------------------------------------
    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as it looks now: ``text``, ``blocks``, ``thread_ts``, ``edited`` (how many updates)."""
        with self._lock:
            found = self._messages.get((channel, ts))
            return _copy(found) if found is not None else None

    def messages(self, channel: str | None = None, *, replies_to: str | None = None) -> list[dict[str, Any]]:
        """Messages in posting order, each with ``channel`` and ``ts``: top-level ones, or the replies to a ts."""
        with self._lock:
            found = [
                {"channel": c, "ts": ts, **m}
                for (c, ts), m in self._messages.items()
                if (channel is None or c == channel) and m.get("thread_ts") == replies_to
            ]
        return [_copy(message) for message in found]

    def channels(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {channel_id: _copy(channel) for channel_id, channel in self._channels.items()}

    # -- the API ------------------------------------------------------------------------------------------
    def handle(self, method: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """The HTTP status and JSON answer of ``POST <base>/<method>``."""
        lowered = {name.lower(): value for name, value in headers.items()}
        arguments = _arguments(lowered.get("content-type", ""), body)
        authorization = lowered.get("authorization", "")
        token = authorization[len("Bearer ") :].strip() if authorization.startswith("Bearer ") else ""
        token = token or str(arguments.pop("token", ""))
        if not token:
            return 200, {"ok": False, "error": "not_authed"}
        handler = _METHODS.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}
        with self._lock:
            if token not in self.tokens:
                return 200, {"ok": False, "error": "invalid_auth"}
            try:
                answer = handler(self, arguments)
            except _Refused as refused:
                return 200, {"ok": False, "error": refused.error}
        return 200, {"ok": True, **answer}

    def _next_ts(self) -> str:
        self._sequence += 1
        return f"{FIRST_SECOND + self._sequence // 1_000_000}.{self._sequence % 1_000_000:06d}"

    def _record(self, method: str, channel: str, text: str, **extra: Any) -> None:
        self.outbox.record(channel="slack", to=channel, body=text, via="slack-api", method=method, **extra)

    def _channel(self, arguments: Mapping[str, Any], *, open_only: bool = True) -> str:
        channel = str(arguments.get("channel") or "")
        if not channel:
            raise _Refused("channel_not_found")
        known = self._channels.get(channel)
        if known is not None and known["is_archived"] and open_only:
            raise _Refused("is_archived")
        return channel  # a channel the fake did not create is the configured one: it exists in the workspace

    def _post_message(self, arguments: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(arguments)
        text, blocks = str(arguments.get("text") or ""), _blocks(arguments.get("blocks"))
        if not text and not blocks:
            raise _Refused("no_text")
        thread_ts = str(arguments["thread_ts"]) if arguments.get("thread_ts") else None
        if thread_ts is not None and (channel, thread_ts) not in self._messages:
            raise _Refused("thread_not_found")
        ts = self._next_ts()
        self._messages[(channel, ts)] = {"text": text, "blocks": blocks, "thread_ts": thread_ts, "edited": 0}
        self._record("chat.postMessage", channel, text, ts=ts, thread_ts=thread_ts, blocks=blocks or None)
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": text,
            "ts": ts,
            "user": BOT_USER,
        }
        if blocks:
            message["blocks"] = blocks
        if thread_ts:
            message["thread_ts"] = thread_ts
        return {"channel": channel, "ts": ts, "message": message}

    def _update(self, arguments: dict[str, Any]) -> dict[str, Any]:
        channel, ts = self._channel(arguments), str(arguments.get("ts") or "")
        current = self._messages.get((channel, ts))
        if current is None:
            raise _Refused("message_not_found")
        text = str(arguments.get("text") or current["text"])
        blocks = _blocks(arguments.get("blocks")) if "blocks" in arguments else current["blocks"]
        current.update(text=text, blocks=blocks, edited=current["edited"] + 1)
        self._record("chat.update", channel, text, ts=ts, blocks=blocks or None)
        return {"channel": channel, "ts": ts, "text": text, "message": {"text": text, "user": BOT_USER}}

    def _create(self, arguments: dict[str, Any]) -> dict[str, Any]:
        name = str(arguments.get("name") or "")
        if not _CHANNEL_NAME.fullmatch(name):
            raise _Refused("invalid_name_specials" if name else "invalid_name_required")
        if any(c["name"] == name for c in self._channels.values()):
            raise _Refused("name_taken")
        channel_id = f"C0LOCAL{len(self._channels) + 1:04d}"
        self._channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_channel": True,
            "is_private": str(arguments.get("is_private")).lower() == "true",
            "is_archived": False,
            "creator": BOT_USER,
            "members": [BOT_USER],
        }
        self._record("conversations.create", channel_id, f"created #{name}", name=name)
        return {"channel": _shown(self._channels[channel_id])}

    def _invite(self, arguments: dict[str, Any]) -> dict[str, Any]:
        channel = self._known(arguments)
        users = [u for u in str(arguments.get("users") or "").split(",") if u]
        if not users:
            raise _Refused("no_user")
        members = channel["members"]
        new = [user for user in users if user not in members]
        if not new:
            raise _Refused("already_in_channel")
        members.extend(new)
        self._record("conversations.invite", channel["id"], f"invited {', '.join(new)}", users=new)
        return {"channel": _shown(channel)}

    def _archive(self, arguments: dict[str, Any]) -> dict[str, Any]:
        channel = self._known(arguments, open_only=False)
        if channel["is_archived"]:
            raise _Refused("already_archived")
        channel["is_archived"] = True
        self._record("conversations.archive", channel["id"], f"archived #{channel['name']}")
        return {}

    def _list(self, arguments: dict[str, Any]) -> dict[str, Any]:
        exclude_archived = str(arguments.get("exclude_archived")).lower() in ("true", "1")
        found = [_shown(c) for c in self._channels.values() if not (exclude_archived and c["is_archived"])]
        return {"channels": found, "response_metadata": {"next_cursor": ""}}

    def _known(self, arguments: Mapping[str, Any], *, open_only: bool = True) -> dict[str, Any]:
        channel = self._channels.get(self._channel(arguments, open_only=open_only))
        if channel is None:
            raise _Refused("channel_not_found")
        return channel


_METHODS: Final[Mapping[str, Callable[[SlackApiFake, dict[str, Any]], dict[str, Any]]]] = {
    "chat.postMessage": SlackApiFake._post_message,
    "chat.update": SlackApiFake._update,
    "conversations.create": SlackApiFake._create,
    "conversations.invite": SlackApiFake._invite,
    "conversations.archive": SlackApiFake._archive,
    "conversations.list": SlackApiFake._list,
}


def _arguments(content_type: str, body: bytes) -> dict[str, Any]:
    """slack-sdk sends JSON for the methods with blocks, a form for the others."""
    text = body.decode("utf-8", "replace")
    if content_type.startswith("application/json"):
        parsed = json.loads(text or "{}")
        return dict(parsed) if isinstance(parsed, dict) else {}
    return dict(parse_qsl(text, keep_blank_values=True))


def _blocks(given: Any) -> list[Any]:
    if isinstance(given, str):  # a form sends them as JSON text
        given = json.loads(given or "[]")
    return list(given) if isinstance(given, list) else []


def _copy(value: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy a test can keep: later calls do not change it."""
    copied: dict[str, Any] = json.loads(json.dumps(value))
    return copied


def _shown(channel: Mapping[str, Any]) -> dict[str, Any]:
    """The channel object Slack answers with (members are not part of it)."""
    return {key: value for key, value in channel.items() if key != "members"}
