"""Is this request from Slack, and new? Every slash command and button click of the Slack app passes here first.

Slack signs each request it sends (https://docs.slack.dev/authentication/verifying-requests-from-slack/):
``X-Slack-Signature`` is ``v0=`` and the hex HMAC-SHA256, keyed with the app's signing secret, of
``v0:<X-Slack-Request-Timestamp>:<raw body>``. The check is slack-sdk's ``SignatureVerifier`` (constant-time compare,
timestamp within five minutes of now either way) rather than a hand-written one. What it leaves to the app is a
request replayed inside those five minutes: a captured click would acknowledge again, a captured command run again.
So a signed request is also used up once, as a signed acknowledgement link is, with the store's single-use nonces
(a conditional put: one winner under races), kept until the timestamp is too old to pass anyway.

The function URL has no other credential (auth NONE): nothing of a request is read before this check passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from slack_sdk.signature import Clock, SignatureVerifier

if TYPE_CHECKING:
    from siren.ports import AckCodes

SIGNATURE_HEADER: Final = "x-slack-signature"
TIMESTAMP_HEADER: Final = "x-slack-request-timestamp"
WINDOW: Final = timedelta(minutes=5)  # slack-sdk's, and Slack's advice
NONCE_OWNER: Final = "slack-request"  # what the nonce is recorded against (a link's nonce records its incident)


class _FixedClock(Clock):
    """slack-sdk asks a clock for now; this one answers the use case's clock, so tests can set the time."""

    def __init__(self, now: datetime) -> None:
        self._now = now.timestamp()

    def now(self) -> float:
        return self._now


@dataclass(frozen=True, slots=True)
class SlackRequestVerifier:
    """``signing_secret``: read when a request needs it (Secrets Manager in the stack); ``nonces``: the store's
    single-use nonces; ``clock``: now, in UTC."""

    signing_secret: Callable[[], str]
    nonces: AckCodes
    clock: Callable[[], datetime]

    def refusal(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """None for a request signed by Slack, within the window and not seen before; else why it is refused.

        ``headers``: the request's headers with lower-case names. The reason is for the log, not for the caller: a
        forger learns no more than that the request was refused."""
        timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
        signature = headers.get(SIGNATURE_HEADER, "").strip()
        if not timestamp or not signature:
            return "no Slack signature or timestamp"
        if not timestamp.isdigit():  # slack-sdk would raise on int(): a malformed header is a refusal, not an error
            return "the timestamp is not a number"
        now = self.clock()
        sent = datetime.fromtimestamp(int(timestamp), UTC)
        if abs(now - sent) > WINDOW:
            return "the timestamp is more than five minutes from now"
        verifier = SignatureVerifier(self.signing_secret(), clock=_FixedClock(now))
        if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            return "the signature does not match the body"
        if not self.nonces.use_link_nonce(f"SLACK#{timestamp}#{signature}", NONCE_OWNER, sent + WINDOW, now):
            return "a replay: this signed request was already used"
        return None
