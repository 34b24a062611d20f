"""Typed settings parsed once per invocation environment.

Lambda configuration arrives as environment variables. The embedded local AWS runs many functions in one
process, so it cannot give each its own ``os.environ``; it overlays the function's variables on a context
variable instead, and every read goes through :func:`environment`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Self

_overlay: ContextVar[Mapping[str, str] | None] = ContextVar("siren_environment_overlay", default=None)


class SettingsError(RuntimeError):
    """A required setting is missing or malformed: the function is misconfigured."""


def environment_overlay() -> Mapping[str, str] | None:
    """The running function's own variables when the embedded local AWS runs it, else None."""
    return _overlay.get()


def environment() -> Mapping[str, str]:
    """The environment of the running function: the local runtime's overlay, else the process's."""
    overlay = _overlay.get()
    if overlay is None:
        return os.environ
    return {**os.environ, **overlay}


@contextlib.contextmanager
def function_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Run a block with a function's own environment variables (used by the embedded local AWS)."""
    token = _overlay.set(dict(variables))
    try:
        yield
    finally:
        _overlay.reset(token)


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required but not set")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """What every Siren function needs to find its resources."""

    table_name: str
    event_bus_name: str
    region: str
    raw_alert_ttl_days: int
    config_path: str | None = None
    dead_letter_queue_url: str | None = None
    webhook_token_secret_arn: str | None = None
    # The secret the PagerDuty and Opsgenie integrations' keys are derived from (siren.domain.integration_keys).
    integration_secret_arn: str | None = None
    state_machine_arn: str | None = None
    origination_identity: str | None = None
    email_sender: str = "siren@example.com"
    ack_link_base_url: str | None = None
    ack_link_secret_arn: str | None = None
    chat_webhook_secret_arn: str | None = None
    # The Slack app's signing secret: it verifies that a slash command or button click comes from Slack.
    slack_signing_secret_arn: str | None = None
    # The Slack app's bot token (xoxb-...): the incident message is posted and updated with it.
    slack_bot_token_secret_arn: str | None = None
    # Slack's Web API base URL: unset on AWS (slack-sdk's https://slack.com/api/); the local runtime's Slack fake.
    slack_api_url: str | None = None
    status_bucket_name: str | None = None
    status_page_url: str | None = None
    # The subscriptions function's URL: where confirm and unsubscribe links in subscriber mail point. Unset on that
    # function itself (its own URL would be a cycle in the template): it answers at the URL it was called by.
    # The status publisher reads it too: the page's subscribe form posts there (unset: the page has no form).
    subscriptions_url: str | None = None
    artifacts_bucket_name: str | None = None
    watchdog_region: str | None = None  # where the canary's heartbeat goes (the SirenWatchdog stack)
    stack_name: str | None = None

    @classmethod
    def load(cls) -> Self:
        env = environment()
        ttl_text = env.get("RAW_ALERT_TTL_DAYS", "30")
        try:
            ttl_days = int(ttl_text)
        except ValueError as error:
            raise SettingsError(f"RAW_ALERT_TTL_DAYS must be a whole number of days, got {ttl_text!r}") from error
        return cls(
            table_name=_required(env, "TABLE_NAME"),
            event_bus_name=_required(env, "EVENT_BUS_NAME"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            raw_alert_ttl_days=ttl_days,
            config_path=env.get("SIREN_CONFIG_PATH") or None,
            dead_letter_queue_url=env.get("DEAD_LETTER_QUEUE_URL") or None,
            webhook_token_secret_arn=env.get("WEBHOOK_TOKEN_SECRET_ARN") or None,
            integration_secret_arn=env.get("INTEGRATION_SECRET_ARN") or None,
            state_machine_arn=env.get("ESCALATION_STATE_MACHINE_ARN") or None,
            origination_identity=env.get("ORIGINATION_IDENTITY") or None,
            email_sender=env.get("EMAIL_SENDER") or "siren@example.com",
            ack_link_base_url=env.get("ACK_LINK_BASE_URL") or None,
            ack_link_secret_arn=env.get("ACK_LINK_SECRET_ARN") or None,
            chat_webhook_secret_arn=env.get("CHAT_WEBHOOK_SECRET_ARN") or None,
            slack_signing_secret_arn=env.get("SLACK_SIGNING_SECRET_ARN") or None,
            slack_bot_token_secret_arn=env.get("SLACK_BOT_TOKEN_SECRET_ARN") or None,
            slack_api_url=env.get("SLACK_API_URL") or None,
            status_bucket_name=env.get("STATUS_BUCKET_NAME") or None,
            status_page_url=env.get("STATUS_PAGE_URL") or None,
            subscriptions_url=env.get("SUBSCRIPTIONS_URL") or None,
            artifacts_bucket_name=env.get("ARTIFACTS_BUCKET_NAME") or None,
            watchdog_region=env.get("WATCHDOG_REGION") or None,
            stack_name=env.get("SIREN_STACK_NAME") or None,
        )
