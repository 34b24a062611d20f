"""The composition root for Lambda: settings -> adapters -> use cases, built once per container.

Built once: each builder of a use case is cached on the function's :class:`~siren.settings.Settings` (a frozen
dataclass, so the embedded local AWS, which runs many functions in one process, gets one per function's settings);
:func:`forget_built` drops them. The deployed configuration is read without siren.config's validators (it was
validated at synth: see :meth:`SirenConfig.from_json`).

Each function imports only what its own use case needs (imports sit inside the builders): an ingest function
does not pay the cold start of the paging channels, and a paging function not that of the parsers.

The use cases ask for ports (siren.ports), one per noun; the builders below hand each the real adapter, and the
return type of each port's builder makes mypy prove that the adapter satisfies its port. Tests wire the same use
cases with tests/fakes.py and pass them to the handlers (each handler takes an optional ``dependencies``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from siren.domain.policy import SirenConfig
from siren.settings import Settings, SettingsError, environment

if TYPE_CHECKING:
    from siren.app.ack_link_signer import LinkSigner
    from siren.app.ack_links import AckLinkEndpoint
    from siren.app.canary import CanaryRecorder
    from siren.app.escalation import Escalation
    from siren.app.escalation_events import EscalationEvents, EscalationShortcut
    from siren.app.heartbeats import Heartbeats
    from siren.app.incidents import Incidents
    from siren.app.intake import Intake, VendorApi
    from siren.app.reconcile import Reconciler
    from siren.app.reports import Reports
    from siren.app.slack_app import SlackApp
    from siren.app.slack_messages import SlackMessages
    from siren.app.sms_replies import SmsReplies
    from siren.app.status_page import StatusPage
    from siren.app.subscription_links import SubscriptionEndpoint
    from siren.app.subscriptions import SubscriberNotices, SubscriptionService
    from siren.ports import (
        AckCodes,
        ActionItems,
        AlertPoster,
        ChangeEvents,
        EscalationRuns,
        EscalationState,
        EscalationWaits,
        EventBus,
        HeartbeatRecords,
        IncidentRepository,
        Mailer,
        Pager,
        StatusPageState,
        StatusSite,
        Watchdog,
    )


def forget_built() -> None:
    """Drop everything this process built and cached: use cases, deployed config, bound models and AWS clients.

    A Lambda container never needs this: its endpoint and settings are fixed for its life. A process that outlives
    an endpoint does (the embedded local AWS, stopped and started again on another port, calls it on stop):
    otherwise its caches keep every old endpoint's clients and models (a botocore session of several MB each)
    and would point the next runtime's functions at a server that is gone.
    """
    from siren import clients
    from siren.adapters import dynamodb, secrets, webhook_queue

    for cached in (_intake, _deployed_config, clients.cached_client, clients.cached_paging_client):
        cached.cache_clear()
    for built in _BUILT:
        built.clear()
    dynamodb.forget()
    secrets.forget()
    webhook_queue.forget()


Built = TypeVar("Built")
# What each builder cached with @once_per_settings keeps, by the settings it was built with.
_BUILT: list[dict[Settings, Any]] = []


def once_per_settings(build: Callable[[], Built]) -> Callable[[], Built]:
    """``build`` once per distinct :class:`Settings` (the function's environment): a container's first invocation
    wires its use case and the others reuse it. Tests give handlers their ``dependencies`` and never get here."""
    built: dict[Settings, Built] = {}
    _BUILT.append(built)

    @functools.wraps(build)
    def cached() -> Built:
        settings = Settings.load()
        if settings not in built:
            built[settings] = build()
        return built[settings]

    return cached


@functools.cache
def _deployed_config(path: str) -> SirenConfig:
    try:
        return SirenConfig.from_json(json.loads(Path(path).read_text()))
    except FileNotFoundError:
        raise SettingsError(f"SIREN_CONFIG_PATH {path} does not exist (is the config layer attached?)") from None


def deployed_config(settings: Settings) -> SirenConfig:
    if not settings.config_path:
        raise SettingsError("environment variable SIREN_CONFIG_PATH is required but not set")
    return _deployed_config(settings.config_path)


# -- the store's ports: one table serves every noun, one repository per noun (siren.adapters.dynamodb) ----------
# Each imports its own module: PynamoDB's models are bound to the table on first use, per process.
def incident_repository(settings: Settings) -> IncidentRepository:
    from siren.adapters.dynamodb.incidents import DynamoIncidents

    return DynamoIncidents(settings.table_name, timedelta(days=settings.raw_alert_ttl_days))


def escalation_state(settings: Settings) -> EscalationState:
    from siren.adapters.dynamodb.escalations import DynamoEscalations

    return DynamoEscalations(settings.table_name)


def ack_codes(settings: Settings) -> AckCodes:
    from siren.adapters.dynamodb.ack_codes import DynamoAckCodes

    return DynamoAckCodes(settings.table_name)


def heartbeat_records(settings: Settings) -> HeartbeatRecords:
    from siren.adapters.dynamodb.heartbeats import DynamoHeartbeats

    return DynamoHeartbeats(settings.table_name)


def status_page_state(settings: Settings) -> StatusPageState:
    from siren.adapters.dynamodb.status_page import DynamoStatusPage

    return DynamoStatusPage(settings.table_name)


def change_events(settings: Settings) -> ChangeEvents:
    from siren.adapters.dynamodb.changes import DynamoChangeEvents

    return DynamoChangeEvents(settings.table_name)


def action_items(settings: Settings) -> ActionItems:
    from siren.adapters.dynamodb.action_items import DynamoActionItems

    return DynamoActionItems(settings.table_name)


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """The webhook's queue and rate limit (the front door and the chunk consumer; unset elsewhere)."""

    body_bucket: str | None = None  # WEBHOOK_BODY_BUCKET: raw bodies of queued requests
    chunk_function: str | None = None  # WEBHOOK_CHUNK_FUNCTION: the consumer of their chunks
    requests_per_minute: int | None = None  # WEBHOOK_REQUESTS_PER_MINUTE: per sender; unset: no limit

    @classmethod
    def load(cls) -> WebhookSettings:
        env = environment()
        rate = env.get("WEBHOOK_REQUESTS_PER_MINUTE", "").strip()
        if rate and (not rate.isdigit() or int(rate) < 1):
            raise SettingsError(f"WEBHOOK_REQUESTS_PER_MINUTE must be a whole number above 0, got {rate!r}")
        return cls(
            env.get("WEBHOOK_BODY_BUCKET") or None,
            env.get("WEBHOOK_CHUNK_FUNCTION") or None,
            int(rate) if rate else None,
        )


def intake() -> Intake:
    return _intake(Settings.load(), WebhookSettings.load())


@functools.cache
def _intake(settings: Settings, webhook: WebhookSettings) -> Intake:
    from siren.adapters.dead_letters import DeadLetters
    from siren.adapters.rate_limits import RequestRates
    from siren.adapters.secrets import secret_string
    from siren.adapters.webhook_queue import ChunkQueue, RawBodies
    from siren.app.heartbeats import Heartbeats
    from siren.app.ingest import Ingestor
    from siren.app.intake import Intake, RateLimit, WebhookQueue

    token_arn = settings.webhook_token_secret_arn
    ingestor = Ingestor(incident_repository(settings), deployed_config(settings), after_commit=shortcut(settings))
    queue = None
    if webhook.body_bucket and webhook.chunk_function:
        queue = WebhookQueue(RawBodies(webhook.body_bucket), ChunkQueue(webhook.chunk_function))
    rate_limit = None
    if webhook.requests_per_minute:
        rate_limit = RateLimit(RequestRates(settings.table_name), webhook.requests_per_minute)
    return Intake(
        ingestor,
        DeadLetters(settings.dead_letter_queue_url),
        vendor_apis=vendor_apis(settings),
        webhook_token=(lambda: secret_string(token_arn)) if token_arn else None,
        heartbeats=Heartbeats(heartbeat_records(settings), deployed_config(settings), ingestor),
        queue=queue,
        rate_limit=rate_limit,
        own_alarm_prefix=f"{settings.stack_name}-" if settings.stack_name else None,
    )


def integration_secret(settings: Settings) -> Callable[[], bytes] | None:
    """The secret the integrations' keys are derived from, read when a request needs it (cached for minutes)."""
    arn = settings.integration_secret_arn
    if not arn:
        return None

    def read() -> bytes:
        from siren.adapters.secrets import secret_string

        return secret_string(arn).encode()

    return read


def vendor_apis(settings: Settings) -> dict[str, VendorApi]:
    """PagerDuty's and Opsgenie's APIs, where the function has the integration secret (the webhook does), by the
    first segment of their path."""
    secret = integration_secret(settings)
    if secret is None:
        return {}
    from siren.app.opsgenie_api import OpsgenieApi
    from siren.app.pagerduty_api import PagerDutyEventsApi

    return {
        # The change store is made on the first change event: an alert does not load its item kind.
        "pagerduty": PagerDutyEventsApi(
            deployed_config(settings).integrations,
            secret,
            incidents,
            changes=functools.cache(lambda: change_events(settings)),
        ),
        "opsgenie": OpsgenieApi(secret, deployed_config(settings), incidents),
    }


def webhook_chunk(event: Any) -> dict[str, Any]:
    """The chunk consumer: one chunk of a queued webhook request (see siren.adapters.webhook_queue)."""
    from siren.adapters.webhook_queue import RawBodies
    from siren.ports import Chunk

    bucket = WebhookSettings.load().body_bucket
    if not bucket:
        raise SettingsError("environment variable WEBHOOK_BODY_BUCKET is required but not set")
    return intake().apply_chunk(Chunk.from_json(event), RawBodies(bucket))


@once_per_settings
def heartbeats() -> Heartbeats:
    """The heartbeat check (the every-minute schedule); pings come in through :func:`intake`."""
    from siren.app.heartbeats import Heartbeats
    from siren.app.ingest import Ingestor

    settings = Settings.load()
    config = deployed_config(settings)
    ingestor = Ingestor(incident_repository(settings), config, after_commit=shortcut(settings))
    return Heartbeats(heartbeat_records(settings), config, ingestor)


@once_per_settings
def incidents() -> Incidents:
    from siren.app.incidents import Incidents

    settings = Settings.load()
    fast_path = shortcut(settings)
    return Incidents(
        incident_repository(settings), deployed_config(settings), after_commit=fast_path, escalation=fast_path
    )


def shortcut(settings: Settings) -> EscalationShortcut | None:
    """The escalation shortcut (start at once, end a wait at once, escalate now) where the function knows the
    machine."""
    from siren.adapters.escalations import StepFunctionsRuns
    from siren.app.escalation_events import EscalationShortcut

    if not settings.state_machine_arn:
        return None
    return EscalationShortcut(escalation_state(settings), StepFunctionsRuns(settings.state_machine_arn))


@once_per_settings
def escalation() -> Escalation:
    from siren.app.escalation import Escalation, PagingSettings

    settings = Settings.load()
    paging = PagingSettings(
        email_sender=settings.email_sender, links=link_signer(settings), chat_webhook_url=chat_webhook_url(settings)
    )
    return Escalation(
        incidents=incident_repository(settings),
        escalations=escalation_state(settings),
        codes=ack_codes(settings),
        pager=pager(settings),
        waits=escalation_waits(),
        config=deployed_config(settings),
        settings=paging,
        canary=canary_recorder(settings),
        changes=change_events(settings),
    )


@once_per_settings
def escalation_events() -> EscalationEvents:
    """Starting and ending escalations on lifecycle events (the lifecycle function)."""
    from siren.app.escalation_events import EscalationEvents

    settings = Settings.load()
    return EscalationEvents(
        incidents=incident_repository(settings),
        escalations=escalation_state(settings),
        codes=ack_codes(settings),
        runs=escalation_runs(),
    )


@once_per_settings
def sms_replies() -> SmsReplies:
    """Two-way SMS: replies to pages (the inbound-SMS function)."""
    from siren.app.sms_replies import SmsReplies

    settings = Settings.load()
    return SmsReplies(
        incidents=incident_repository(settings),
        codes=ack_codes(settings),
        changes=incidents(),
        config=deployed_config(settings),
        pager=pager(settings),
    )


def canary_recorder(settings: Settings) -> CanaryRecorder:
    from siren.app.canary import CanaryRecorder

    def resolve(incident_id: str, actor: str, note: str | None) -> object:
        # Wired when a canary incident is resolved, not with every paging function (incident changes import the
        # ingest use case and its parsers).
        return incidents().resolve(incident_id, actor, note)

    return CanaryRecorder(heartbeat_records(settings), resolve, watchdog(settings))


def watchdog(settings: Settings) -> Watchdog:
    from siren.adapters.canary import WatchdogBeacon

    return WatchdogBeacon(settings.watchdog_region, settings.stack_name)


def alert_poster() -> AlertPoster:
    from siren.adapters.canary import post_alert

    return post_alert


def send_canary(post: AlertPoster | None = None) -> dict[str, Any]:
    """The canary's alert through the webhook (the every-heartbeat_minutes schedule); ``post``: how it is sent
    (a test's fake; by default, an HTTPS POST to the webhook)."""
    from siren.adapters.secrets import secret_string
    from siren.app.canary import send_canary as send

    # Not Settings.load(): the canary has no table or bus, only the front door and its token.
    env = environment()
    webhook_url, token_arn = env.get("WEBHOOK_URL"), env.get("WEBHOOK_TOKEN_SECRET_ARN")
    if not webhook_url or not token_arn:
        raise SettingsError("WEBHOOK_URL and WEBHOOK_TOKEN_SECRET_ARN are required by the canary")
    return send(webhook_url, lambda: secret_string(token_arn), datetime.now(UTC), post or alert_poster())


@once_per_settings
def escalation_runs() -> EscalationRuns:
    """The escalation state machine's runs (Step Functions); its ARN is read when this is built."""
    from siren.adapters.escalations import StepFunctionsRuns

    return StepFunctionsRuns(state_machine_arn())


@once_per_settings
def escalation_waits() -> EscalationWaits:
    """Ending a wait needs its task token only: paging goes on even where the machine's ARN is not set."""
    from siren.adapters.escalations import StepFunctionsRuns

    return StepFunctionsRuns(Settings.load().state_machine_arn or "")


@once_per_settings
def reconciler() -> Reconciler:
    from siren.app.reconcile import Reconciler

    settings = Settings.load()
    return Reconciler(
        incident_repository(settings), escalation_state(settings), escalation_runs(), lambda: datetime.now(UTC)
    )


def chat_webhook_url(settings: Settings) -> Callable[[], str | None] | None:
    """The chat webhook URL from its secret ({"url": ...}), read when a page is sent (cached for minutes)."""
    secret_arn = settings.chat_webhook_secret_arn
    if not secret_arn:
        return None

    def read() -> str | None:
        from siren.adapters.secrets import secret_string

        url = json.loads(secret_string(secret_arn)).get("url")
        return str(url) if url else None

    return read


def link_signer(settings: Settings) -> LinkSigner | None:
    """Signed ack links when the stack provides their endpoint and key (it does; a bare setup may not)."""
    from siren.app.ack_link_signer import LinkSigner

    base_url = settings.ack_link_base_url
    # The embedded runtime's in-process transport has no HTTP server: its function URLs are not links.
    if not (base_url and base_url.startswith(("https://", "http://")) and settings.ack_link_secret_arn):
        return None
    return LinkSigner(base_url, ack_link_key(settings.ack_link_secret_arn))


def ack_link_key(secret_arn: str) -> Callable[[], bytes]:
    from siren.adapters.secrets import secret_string

    return lambda: secret_string(secret_arn).encode()


@once_per_settings
def ack_link_endpoint() -> AckLinkEndpoint:
    from siren.app.ack_links import AckLinkEndpoint

    settings = Settings.load()
    if not settings.ack_link_secret_arn:
        raise SettingsError("environment variable ACK_LINK_SECRET_ARN is required but not set")
    return AckLinkEndpoint(
        incident_repository(settings), ack_codes(settings), incidents(), ack_link_key(settings.ack_link_secret_arn)
    )


@once_per_settings
def slack_app() -> SlackApp:
    """The Slack app's requests (function URL): verified with the signing secret, read from Secrets Manager when a
    request needs it; the incident use case (with the escalation shortcut: an acknowledgement from Slack ends the
    escalation's wait at once) is built on the first change or status, not for a refused request."""
    from siren.adapters.secrets import secret_string
    from siren.app.clock import utc_now
    from siren.app.slack_app import SlackApp
    from siren.app.slack_requests import SlackRequestVerifier

    settings = Settings.load()
    secret_arn = settings.slack_signing_secret_arn
    if not secret_arn:
        raise SettingsError("environment variable SLACK_SIGNING_SECRET_ARN is required but not set")
    verifier = SlackRequestVerifier(lambda: secret_string(secret_arn), ack_codes(settings), utc_now)
    return SlackApp(verifier, deployed_config(settings), incidents, utc_now)


@once_per_settings
def slack_messages() -> SlackMessages:
    """The incident message in Slack (lifecycle events): posted and kept up to date with the bot token, read from
    Secrets Manager when a message is sent (cached per container, as every secret); its record in the table."""
    from siren.adapters.dynamodb.slack_threads import DynamoSlackThreads
    from siren.adapters.secrets import secret_string
    from siren.adapters.slack_web import SlackWebApi
    from siren.app.clock import utc_now
    from siren.app.slack_messages import SlackMessages

    settings = Settings.load()
    token_arn = settings.slack_bot_token_secret_arn
    if not token_arn:
        raise SettingsError("environment variable SLACK_BOT_TOKEN_SECRET_ARN is required but not set")
    return SlackMessages(
        incident_repository(settings),
        DynamoSlackThreads(settings.table_name),
        SlackWebApi(lambda: secret_string(token_arn), settings.slack_api_url),
        deployed_config(settings),
        utc_now,
    )


@once_per_settings
def status_page() -> StatusPage:
    from siren.app.status_page import StatusPage

    settings = Settings.load()
    return StatusPage(
        incident_repository(settings),
        status_page_state(settings),
        deployed_config(settings),
        settings.status_page_url or "",
        subscriptions_url=settings.subscriptions_url or "",
    )


@once_per_settings
def status_bucket() -> StatusSite:
    from siren.adapters.status_bucket import StatusBucket

    name = Settings.load().status_bucket_name
    if not name:
        raise SettingsError("environment variable STATUS_BUCKET_NAME is required but not set")
    return StatusBucket(name)


@once_per_settings
def reports() -> Reports:
    from siren.app.reports import Reports

    settings = Settings.load()
    return Reports(incident_repository(settings), action_items(settings), deployed_config(settings))


@once_per_settings
def report_mailer() -> Mailer:
    from siren.adapters.report_mail import ReportMail

    return ReportMail()


def pager(settings: Settings) -> Pager:
    from siren.adapters.channels import Pager as ChannelPager

    return ChannelPager(settings.origination_identity)


def state_machine_arn() -> str:
    arn = Settings.load().state_machine_arn
    if not arn:
        raise SettingsError("environment variable ESCALATION_STATE_MACHINE_ARN is required but not set")
    return arn


@once_per_settings
def event_bus() -> EventBus:
    from siren.adapters.bus import EventBus as EventBridgeBus

    return EventBridgeBus(Settings.load().event_bus_name)


@dataclass(frozen=True, slots=True)
class ScheduledReports:
    """What the report function needs: the use case, the mailer, and who the report is from and in which zone."""

    reports: Reports
    mailer: Mailer
    sender: str
    time_zone: str


@once_per_settings
def scheduled_reports() -> ScheduledReports:
    settings = Settings.load()
    config = deployed_config(settings)
    return ScheduledReports(reports(), report_mailer(), settings.email_sender, config.reports.time_zone)


@dataclass(frozen=True, slots=True)
class StatusPublishing:
    """What the status function needs: the use case and the site it publishes to."""

    page: StatusPage
    site: StatusSite


@once_per_settings
def status_publishing() -> StatusPublishing:
    return StatusPublishing(status_page(), status_bucket())


@once_per_settings
def subscriptions() -> SubscriptionService:
    """Status page subscriptions: the table's subscribers and request counts, SES v2 from the page email sender,
    links signed with the ack links' key; the page's name and components from the deployed configuration."""
    from siren.adapters.dynamodb.subscribers import DynamoSubscribers
    from siren.adapters.rate_limits import RequestRates
    from siren.adapters.subscriber_mail import SesSubscriberMailer
    from siren.app.subscriptions import SubscriptionService, SubscriptionSettings

    settings = Settings.load()
    if not settings.ack_link_secret_arn:
        raise SettingsError("environment variable ACK_LINK_SECRET_ARN is required but not set")
    page = deployed_config(settings).status_page
    return SubscriptionService(
        subscribers=DynamoSubscribers(settings.table_name),
        mailer=SesSubscriberMailer(settings.email_sender),
        rates=RequestRates(settings.table_name),
        secret=ack_link_key(settings.ack_link_secret_arn),
        settings=SubscriptionSettings(
            page_name=page.name,
            link_base_url=settings.subscriptions_url or "",
            components=frozenset(page.components),
        ),
    )


@once_per_settings
def subscription_endpoint() -> SubscriptionEndpoint:
    from siren.app.subscription_links import SubscriptionEndpoint

    return SubscriptionEndpoint(subscriptions())


@once_per_settings
def subscriber_notices() -> SubscriberNotices:
    """Lifecycle events to subscriber mail: links point at SUBSCRIPTIONS_URL (required here: this function has no
    request to learn it from)."""
    from siren.app.subscriptions import SubscriberNotices
    from siren.domain.status import Component

    settings = Settings.load()
    if not settings.subscriptions_url:
        raise SettingsError("environment variable SUBSCRIPTIONS_URL is required but not set")
    page = deployed_config(settings).status_page
    return SubscriberNotices(
        incident_repository(settings),
        subscriptions(),
        # as siren.app.status_page.components_of, without the status page's renderer (Jinja2) this function never uses
        [Component(cid, c.name, c.description, c.group, c.services) for cid, c in page.components.items()],
        page.impact,
        settings.status_page_url or "",
        status_page_state(settings),
    )
