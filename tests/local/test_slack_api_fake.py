"""The local Slack Web API (siren_local/slack_api.py) answers slack-sdk's real ``WebClient``, through Siren's adapter
(siren.adapters.slack_web), over HTTP: what the deployed notifier does on the local runtime, without the runtime.

GIVEN the fake behind a local HTTP server and a bot token it accepts, WHEN the adapter posts, updates, makes a
channel, invites and archives, THEN the fake holds the message as it looks now and the outbox has every call; a
wrong token is refused as Slack refuses it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from siren.adapters.slack_web import SlackWebApi
from siren.ports import SlackWebError
from siren_local.outbox import Outbox
from siren_local.slack_api import SlackApiFake

TOKEN = "xoxb-local-test"


@pytest.fixture
def fake() -> Iterator[tuple[SlackApiFake, str]]:
    slack = SlackApiFake(Outbox())
    slack.allow_token(TOKEN)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, answer = slack.handle(self.path.rsplit("/", 1)[-1], dict(self.headers.items()), body)
            encoded = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="slack-fake-test", daemon=True)
    thread.start()
    try:
        yield slack, f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_the_real_web_client_posts_updates_and_threads_through_the_fake(fake):
    slack, url = fake
    web = SlackWebApi(lambda: TOKEN, url)
    assert web.ready()

    posted = web.post_message(
        "C0INCIDENTS", "SEV1 INC-1 open", [{"type": "section", "text": {"type": "mrkdwn", "text": "*x*"}}]
    )
    assert posted.channel == "C0INCIDENTS" and posted.ts.startswith("1700000000.")
    reply = web.post_message("C0INCIDENTS", "acknowledged by Alice", thread_ts=posted.ts)
    assert float(reply.ts) > float(posted.ts)
    web.update_message("C0INCIDENTS", posted.ts, "SEV1 INC-1 acknowledged", [{"type": "divider"}])

    now = slack.message("C0INCIDENTS", posted.ts)
    assert now == {"text": "SEV1 INC-1 acknowledged", "blocks": [{"type": "divider"}], "thread_ts": None, "edited": 1}
    assert [m["text"] for m in slack.messages("C0INCIDENTS", replies_to=posted.ts)] == ["acknowledged by Alice"]
    methods = [(m.channel, m.to, m.extra["method"]) for m in slack.outbox.messages()]
    assert methods == [
        ("slack", "C0INCIDENTS", "chat.postMessage"),
        ("slack", "C0INCIDENTS", "chat.postMessage"),
        ("slack", "C0INCIDENTS", "chat.update"),
    ]


def test_a_channel_is_made_once_members_invited_once_and_archived_once(fake):
    slack, url = fake
    web = SlackWebApi(lambda: TOKEN, url)

    channel = web.create_channel("inc-inc-1")
    assert web.create_channel("inc-inc-1") == channel  # name taken: an earlier attempt's channel is found
    web.invite(channel, ["U07ALICE01"])
    web.invite(channel, ["U07ALICE01"])  # already in: not an error
    web.archive(channel)
    web.archive(channel)  # already archived: not an error

    assert slack.channels()[channel]["members"] == ["U0SIRENBOT", "U07ALICE01"]
    assert slack.channels()[channel]["is_archived"]
    with pytest.raises(SlackWebError, match="is_archived"):
        web.post_message(channel, "too late")


def test_a_token_the_stack_does_not_hold_is_refused_as_slack_refuses_it(fake):
    slack, url = fake
    with pytest.raises(SlackWebError, match="invalid_auth") as refused:
        SlackWebApi(lambda: "xoxb-forged", url).post_message("C0INCIDENTS", "hello")
    assert refused.value.error == "invalid_auth"
    assert not SlackWebApi(lambda: "a-generated-placeholder", url).ready()
    assert slack.messages() == [] and slack.outbox.messages() == []


def test_slacks_refusals_are_raised_with_its_error_code(fake):
    _, url = fake
    web = SlackWebApi(lambda: TOKEN, url)
    with pytest.raises(SlackWebError, match="message_not_found"):
        web.update_message("C0INCIDENTS", "1.000001", "x", [])
    with pytest.raises(SlackWebError, match="channel_not_found"):
        web.invite("C0NOSUCH", ["U1"])
    with pytest.raises(SlackWebError) as network:
        SlackWebApi(lambda: TOKEN, "http://127.0.0.1:9/api/").post_message("C0INCIDENTS", "x")  # nothing listens
    assert network.value.method == "chat.postMessage"
