"""Slack's Web API (siren.ports.SlackWeb) through slack-sdk's ``WebClient``, with the bot token from Secrets Manager.

The client is made once per container and token (the token is read through siren.adapters.secrets, cached a few
minutes, so a replaced token is picked up). ``base_url``: ``SLACK_API_URL`` when set (the embedded local AWS points
it at its Slack fake), else slack-sdk's default, https://slack.com/api/.

Failures are raised, never swallowed: Slack's ``ok: false`` (slack-sdk's SlackApiError, a 429 ``ratelimited`` with
its ``Retry-After`` among them) and the network's errors become :class:`siren.ports.SlackWebError`, logged with
Slack's error code, so the event is retried and then dead-lettered. slack-sdk's default retry (one retry of a
connection error) is kept; a rate limit is not waited out inside a Lambda invocation, EventBridge's retry waits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from siren.observability import logger
from siren.ports import SlackPosted, SlackWebError

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from slack_sdk.web import SlackResponse

BOT_TOKEN_PREFIX: Final = "xoxb-"  # noqa: S105 - the prefix of every Slack bot token, not a secret
TIMEOUT_SECONDS: Final = 10  # well inside the function's timeout: a hung Slack is an error, retried later


class SlackWebApi:
    def __init__(self, token: Callable[[], str], base_url: str | None = None) -> None:
        self._token = token
        self._base_url = base_url
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def ready(self) -> bool:
        return self._token().strip().startswith(BOT_TOKEN_PREFIX)

    def _client(self) -> WebClient:
        from slack_sdk import WebClient

        token = self._token().strip()
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                self._clients.clear()  # a replaced token: the old client is not used again
                options: dict[str, Any] = {"token": token, "timeout": TIMEOUT_SECONDS}
                if self._base_url:
                    options["base_url"] = self._base_url
                client = self._clients[token] = WebClient(**options)
            return client

    def _call(
        self, method: str, call: Callable[[WebClient], SlackResponse], done_already: frozenset[str] = frozenset()
    ) -> SlackResponse | None:
        """Slack's answer; None when Slack said no with one of the errors ``done_already`` (the call's effect is
        there already: a member in the channel, a channel archived, a name taken)."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            return call(self._client())
        except SlackApiError as failure:
            response = failure.response
            error = str(response.get("error") or f"http {response.status_code}")
            if error in done_already:
                return None
            retry_after = _retry_after(response.headers)
            logger.error(
                "slack web api call refused",
                extra={"method": method, "error": error, "status": response.status_code, "retry_after": retry_after},
            )
            raise SlackWebError(method, error, retry_after) from failure
        except (SlackClientError, OSError) as failure:  # the network (URLError is an OSError), or the SDK's own
            logger.error("slack web api call failed", extra={"method": method, "error": repr(failure)})
            raise SlackWebError(method, type(failure).__name__) from failure

    def post_message(
        self, channel: str, text: str, blocks: Sequence[Mapping[str, Any]] = (), thread_ts: str | None = None
    ) -> SlackPosted:
        response = self._call(
            "chat.postMessage",
            lambda client: client.chat_postMessage(
                channel=channel, text=text, blocks=[dict(block) for block in blocks] or None, thread_ts=thread_ts
            ),
        )
        assert response is not None  # no error of chat.postMessage is "done already"
        return SlackPosted(str(response["channel"]), str(response["ts"]))

    def update_message(self, channel: str, ts: str, text: str, blocks: Sequence[Mapping[str, Any]]) -> None:
        self._call(
            "chat.update",
            lambda client: client.chat_update(channel=channel, ts=ts, text=text, blocks=[dict(b) for b in blocks]),
        )

    def create_channel(self, name: str) -> str:
        created = self._call(
            "conversations.create", lambda client: client.conversations_create(name=name), frozenset({"name_taken"})
        )
        if created is not None:
            return str(created["channel"]["id"])
        # Taken: an earlier attempt made it and did not live to record it (or a person did): use it.
        found = self._channel_named(name)
        if found is None:
            raise SlackWebError("conversations.create", "name_taken")
        return found

    def _channel_named(self, name: str) -> str | None:
        cursor: str | None = None
        while True:
            page = self._call(
                "conversations.list",
                lambda client, cursor=cursor: client.conversations_list(  # type: ignore[misc]
                    cursor=cursor, exclude_archived=True, types="public_channel", limit=1000
                ),
            )
            assert page is not None
            for channel in page.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return None

    def invite(self, channel: str, members: Sequence[str]) -> None:
        self._call(
            "conversations.invite",
            lambda client: client.conversations_invite(channel=channel, users=list(members), force=True),
            frozenset({"already_in_channel"}),
        )

    def archive(self, channel: str) -> None:
        self._call(
            "conversations.archive",
            lambda client: client.conversations_archive(channel=channel),
            frozenset({"already_archived"}),
        )


def _retry_after(headers: Mapping[str, Any] | None) -> int | None:
    for name, value in (headers or {}).items():
        if str(name).lower() == "retry-after":
            text = value[0] if isinstance(value, list) and value else value
            return int(text) if str(text).isdigit() else None
    return None
