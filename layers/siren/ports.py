"""The ports: what the use cases (siren.app) ask of the world, as small Protocols.

The adapters (siren.adapters) implement them against AWS; tests/fakes.py implements them in memory and records
what it was asked. One table holds every noun, but each use case sees only the nouns it needs, so a fake for a
test is small and a use case's dependencies are read off its constructor. The values that cross a port
(Delivery, BusEvent, ...) live here too, so that a use case never imports an adapter to name what it gets back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, Self

from siren.domain.incidents import Incident, IncidentStatus, KeyState, LifecycleEvent, Outcome, TimelineEntry

if TYPE_CHECKING:  # named in annotations only: a function that never pages or publishes does not load them
    from siren.domain.ack import AckAction
    from siren.domain.changes import ServiceChange
    from siren.domain.escalation import HeldWait, Run, WaitingAt
    from siren.domain.heartbeats import HeartbeatState
    from siren.domain.messages import EmailMessage
    from siren.domain.records import ActionItemRecord, IncidentView, RawAlert
    from siren.domain.site import SiteEntry
    from siren.domain.slack_blocks import SlackThread
    from siren.domain.status import ComponentOverride, Maintenance
    from siren.domain.subscriptions import NoticeProgress, Subscriber, SubscriberMail


class ConcurrentChange(RuntimeError):
    """Someone else changed the incident or key first; read again and retry."""


class DuplicateDelivery(RuntimeError):
    """This delivery was already applied (a redelivery): nothing to do."""


class IncidentRepository(Protocol):
    """Incidents, their timelines, dedup keys, raw alerts and the lifecycle events (outbox) written with them."""

    def key_state(self, dedup_key: str) -> KeyState: ...
    def get(self, incident_id: str, consistent: bool = True) -> Incident | None: ...
    def view(self, incident_id: str) -> IncidentView | None: ...
    def list_by_status(self, status: IncidentStatus, limit: int = 100) -> list[Incident]: ...
    def list_resolved(self, limit: int = 100, months: int = 3, now: datetime | None = None) -> list[Incident]: ...
    def iter_opened_between(self, start: datetime, end: datetime) -> Iterator[Incident]: ...
    def iter_activity(self, start: datetime, end: datetime) -> Iterator[tuple[str, TimelineEntry]]: ...
    def get_raw_alert(self, source: str, delivery_id: str) -> RawAlert | None: ...
    def record_raw_alert(self, alert: RawAlert) -> bool: ...
    def apply(self, outcome: Outcome, raw: RawAlert | None, actor_now: datetime | None = None) -> None: ...
    def append_duplicate(self, dedup_key: str, entry: TimelineEntry, raw: RawAlert) -> str | None: ...
    def add_timeline(self, incident_id: str, entries: list[TimelineEntry]) -> None: ...


class EscalationState(Protocol):
    """Which escalation attempt is current, the task token it holds, and which pages were already sent."""

    def sent_channels(self, incident_id: str, page_id: str) -> tuple[str, ...]: ...
    def record_send(
        self, incident_id: str, entries: list[TimelineEntry], *, page_id: str, sent: tuple[str, ...], now: datetime
    ) -> None: ...
    def hold_token(
        self, incident_id: str, token: str, execution: str, attempt: int = 1, waiting: WaitingAt | None = None
    ) -> bool: ...
    def supersede_escalation(self, incident_id: str, attempt: int) -> str | None: ...
    def current_attempt(self, incident_id: str) -> int: ...
    def held_token(self, incident_id: str) -> tuple[str, str] | None: ...
    def held_wait(self, incident_id: str) -> HeldWait | None: ...


class AckCodes(Protocol):
    """Acknowledgement codes and the numbers they were sent to, single-use link nonces, the SMS reply window."""

    def ack_code(
        self, incident_id: str, new_code: Callable[[], str], now: datetime, ttl: timedelta = ..., attempts: int = 20
    ) -> str | None: ...
    def bind_number(self, code: str, incident_id: str, number: str, now: datetime) -> bool: ...
    def free_ack_code(self, incident_id: str, now: datetime, grace: timedelta = ...) -> str | None: ...
    def code_binding(self, code: str, now: datetime | None = None) -> tuple[str, list[str]] | None: ...
    def use_link_nonce(self, nonce: str, incident_id: str, expires_at: datetime, now: datetime) -> bool: ...
    def release_link_nonce(self, nonce: str) -> None: ...
    def claim_sms_reply(self, number: str, now: datetime, window: timedelta = ...) -> bool: ...


class HeartbeatRecords(Protocol):
    """Each heartbeat's first sight, last ping and reported deadlines; the canary's last good run."""

    def heartbeat_states(self) -> dict[str, HeartbeatState]: ...
    def heartbeat_state(self, name: str) -> HeartbeatState: ...
    def heartbeat_seen(self, name: str, now: datetime) -> HeartbeatState: ...
    def record_heartbeat_ping(self, name: str, now: datetime) -> HeartbeatState: ...
    def mark_heartbeat_missed(self, name: str, deadline: datetime) -> None: ...
    def mark_heartbeat_recovered(self, name: str, deadline: datetime) -> None: ...
    def record_canary(self, at: datetime, seconds: float) -> None: ...
    def canary(self) -> tuple[datetime, float] | None: ...


class StatusPageState(Protocol):
    """Component overrides, maintenance windows, and the publisher's request counter and lease."""

    def set_component_status(self, component_id: str, status: str, actor: str, now: datetime) -> None: ...
    def add_maintenance(self, window: Maintenance, actor: str) -> None: ...
    def request_publish(self, now: datetime, touched: Sequence[IncidentRef] = ()) -> str: ...
    def acquire_publish_lease(self, owner: str, now: datetime, lease: timedelta) -> PublishRequests | None: ...
    def release_publish_lease(self, owner: str, published_up_to: str) -> bool: ...
    def status_page_items(self) -> tuple[dict[str, ComponentOverride], list[Maintenance]]: ...


class ActionItems(Protocol):
    """Postmortem action items, tracked to completion."""

    def add_action_item(self, item: ActionItemRecord) -> None: ...
    def complete_action_item(self, action_id: str, actor: str, now: datetime) -> ActionItemRecord | None: ...
    def action_items(self) -> Iterator[ActionItemRecord]: ...


class ChangeEvents(Protocol):
    """Changes of each service (PagerDuty change events), kept for days: the context of its next incidents."""

    def record(self, change: ServiceChange, now: datetime) -> None: ...
    def recent(
        self, service: str, since: datetime, until: datetime, limit: int = 10
    ) -> list[ServiceChange]: ...  # the latest ``limit`` of the window (both ends included), oldest first


class Subscribers(Protocol):
    """The status page's subscribers (in the table only: the status bucket is public)."""

    def subscriber(self, email: str) -> Subscriber | None: ...
    def put_pending(
        self, subscriber: Subscriber, expires_at: datetime
    ) -> bool: ...  # False, and nothing written, when the address is confirmed already
    def confirm(
        self, email: str, token: str, now: datetime
    ) -> Subscriber | None: ...  # None unless the address's subscription has this token; confirmed once
    def remove(self, email: str, token: str) -> bool: ...  # False unless the address's subscription has this token
    def confirmed(self) -> Iterator[Subscriber]: ...  # by address, ascending
    def notice_progress(self, key: str) -> NoticeProgress | None: ...  # None: this news was never mailed
    def record_notice_progress(self, key: str, progress: NoticeProgress, now: datetime) -> None: ...


class MailRefused(RuntimeError):
    """The mail service refused one message (a bad address, a suppressed one, throttling): the others still go."""


class SubscriberMailer(Protocol):
    """Sends one list mail (with its List-Unsubscribe headers); returns the message id, raises MailRefused."""

    def send(self, mail: SubscriberMail) -> str: ...


# -- values that cross the ports below ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to reach someone. ``to`` of a chat delivery is the webhook's origin only: its path is the
    webhook's secret and must not reach the timeline."""

    channel: str  # sms | voice | email | chat
    to: str
    via: str  # end-user-messaging | sns | ses | webhook
    ok: bool
    message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class BusEvent:
    """One event for Siren's bus (EventBridge): a lifecycle event, or a status-page change."""

    source: str
    detail_type: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What one publish of the status site wrote: only objects whose content changed are written, and only pages
    whose source changed are rendered (``rendered``: pages the site rendered, see siren.domain.site.SitePage)."""

    written: int
    unchanged: int
    bytes_written: int
    rendered: int = 0


@dataclass(frozen=True, slots=True)
class IncidentRef:
    """An incident as a lifecycle event names it: enough to find it on the by-time index."""

    id: str
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class PublishRequests:
    """What a publisher holding the lease publishes up to: the newest request's mark, and the incidents the
    requests said changed (read again even when resolved long ago)."""

    up_to: str
    touched: tuple[IncidentRef, ...] = ()


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A message read from a dead-letter queue; its receipt handle deletes or releases it."""

    queue_url: str
    message_id: str
    body: str
    attributes: Mapping[str, str]  # message attributes (string values): ErrorMessage, RULE_ARN, TARGET_ARN...
    sent_at: datetime | None
    receipt_handle: str


@dataclass(frozen=True, slots=True)
class EventTarget:
    """A rule of the stack that sends matching events to one of the stack's functions."""

    rule: str
    pattern: Mapping[str, Any]
    function_arn: str


# -- paging ----------------------------------------------------------------------------------------------------
class Pager(Protocol):
    """Every channel a page goes out on. A failed send is a Delivery with ``ok`` False, never an exception: the
    escalation records it and falls back (voice to SMS; End User Messaging SMS to SNS inside the pager)."""

    def send_sms(self, to: str, text: str) -> list[Delivery]: ...
    def check_sms(self, to: str, text: str) -> Delivery: ...
    def send_voice(self, to: str, ssml: str) -> Delivery: ...
    def send_email(self, to: str, message: EmailMessage, sender: str) -> Delivery: ...
    def send_chat(self, webhook_url: str, payload: Mapping[str, Any]) -> Delivery: ...


class AckLinks(Protocol):
    """Signed acknowledgement links for pages (the ack-link endpoint verifies them)."""

    def link(self, incident_id: str, action: AckAction, user: str, now: datetime) -> str: ...


class EscalationWaits(Protocol):
    """Ending a run's wait for acknowledgement (its held task token), so the run stops at once."""

    def end_wait(self, token: str, why: str) -> bool: ...
    def escalate_wait(self, token: str, requested_by: str) -> bool:
        """End the wait so that the next level is paged now (the machine's next Step runs); False when it is over."""
        ...


class EscalateNow(Protocol):
    """Escalate now: which level the incident's escalation waits at (the store's record of its held wait), and
    ending that wait early once the request is committed, so the machine pages the next level at once."""

    def held_wait(self, incident_id: str) -> HeldWait | None: ...
    def escalate_now(self, incident_id: str, waiting: WaitingAt, requested_by: str) -> bool: ...


class AfterCommit(Protocol):
    """What follows a committed change at once, before its relayed lifecycle events arrive (the escalation
    shortcut: app/escalation_events.py). Never raises: the relay is the guarantee."""

    def after_commit(self, events: Sequence[LifecycleEvent]) -> list[str]: ...


class EscalationRuns(EscalationWaits, Protocol):
    """The escalation state machine's runs: which are running, the latest of an attempt, starting and stopping."""

    def running(self) -> list[str]: ...
    def latest(self, incident_id: str, attempt: int) -> Run | None: ...
    def start(self, incident_id: str, attempt: int, name: str) -> bool: ...
    def stop(self, name: str, cause: str) -> bool: ...


# -- the canary --------------------------------------------------------------------------------------------------
class Canary(Protocol):
    """What the escalation's first step does for a canary incident besides the dry run: record, then resolve."""

    def heartbeat(self, at: datetime, end_to_end_seconds: float) -> None: ...
    def resolve(self, incident_id: str) -> None: ...


class Watchdog(Protocol):
    """The canary's heartbeat in another region, where the watchdog alarms when it stops."""

    def beat(self) -> bool: ...


class AlertPoster(Protocol):
    """Posts an alert to Siren's own webhook, as a sender would (raises when the front door refuses it)."""

    def __call__(self, webhook_url: str, token: str, body: dict[str, Any]) -> dict[str, Any]: ...


# -- out to people and the world -----------------------------------------------------------------------------
class Mailer(Protocol):
    """Sends a rendered report; returns the message id."""

    def send_report(self, sender: str, recipients: list[str], subject: str, text: str, html: str) -> str: ...


class Artifacts(Protocol):
    """Keeps a document (a postmortem draft); returns where it is (an S3 URI)."""

    def put_markdown(self, key: str, body: str) -> str: ...


class StatusSite(Protocol):
    """The published status site: its objects written (only what changed), and one read back.

    ``publish`` takes the objects in stages: the objects of one stage may be written in any order (together), and
    none of a stage before every object of the stages before it is written, so that a reader following a link
    never finds it missing."""

    def publish(self, stages: Sequence[Sequence[SiteEntry]]) -> PublishResult: ...
    def read(self, key: str) -> bytes | None: ...


class EventBus(Protocol):
    """Siren's bus: puts every event or raises (the caller's retry redelivers them)."""

    def put(self, events: Sequence[BusEvent]) -> int: ...


# -- dead letters (``siren dlq``) --------------------------------------------------------------------------------
class DeadLetterQueues(Protocol):
    """The queues' messages: counted, read without consuming, taken (hidden) and then deleted or released."""

    def waiting(self, queue_url: str) -> int: ...
    def peek(self, queue_url: str) -> list[QueuedMessage]: ...
    def take(self, queue_url: str) -> list[QueuedMessage]: ...
    def delete(self, message: QueuedMessage) -> None: ...
    def release(self, message: QueuedMessage) -> None: ...


class StackWiring(Protocol):
    """What the deployed stack holds: its dead-letter queues, its functions and how events reach them."""

    def queues(self) -> dict[str, str]: ...
    def owns_function(self, arn: str) -> bool: ...
    def event_targets(self, bus_names: Sequence[str]) -> list[EventTarget]: ...
    def topic_functions(self, topic_arn: str) -> list[str]: ...


class Outbox(Protocol):
    """The lifecycle events written with each change, by when they were written."""

    def written_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]: ...


class Invoker(Protocol):
    """Invokes one of the stack's functions asynchronously."""

    def invoke_async(self, function_arn: str, event: Any) -> None: ...


class ChunkMessageError(ValueError):
    """A consumer event that is not a chunk message (say, an event replayed to the wrong function)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Alerts ``start`` to ``stop`` (exclusive) of the request whose body is ``key``, received at ``received_at``
    on the webhook path ``source`` (alertmanager, grafana, generic, canary)."""

    source: str
    key: str
    received_at: str  # ISO 8601: the chunk is judged as the whole request was, at the door
    start: int
    stop: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": "webhook_chunk", **asdict(self)}

    @classmethod
    def from_json(cls, event: Any) -> Self:
        if not isinstance(event, Mapping) or event.get("kind") != "webhook_chunk":
            raise ChunkMessageError(f"not a webhook chunk message: {str(event)[:200]}")
        try:
            chunk = cls(
                str(event["source"]),
                str(event["key"]),
                str(event["received_at"]),
                int(event["start"]),
                int(event["stop"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ChunkMessageError(f"a webhook chunk message without a valid {error}") from None
        if not 0 <= chunk.start < chunk.stop:
            raise ChunkMessageError(f"a webhook chunk message with an empty range {chunk.start}..{chunk.stop}")
        return chunk


class DeadLetters(Protocol):
    """Where refused input is kept, with the reason, for a person to read and redrive."""

    def keep(self, payload: Any, source: str, reason: str) -> None: ...


class RawBodies(Protocol):
    """Webhook request bodies kept as they came, by key, until their chunks are applied."""

    def put(self, key: str, body: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...


class ChunkQueue(Protocol):
    """The consumer's queue of chunks; raises when any chunk could not be queued."""

    def send(self, chunks: Sequence[Chunk]) -> None: ...


class RequestRates(Protocol):
    """Counts a sender's requests: None while within ``limit`` a ``window``, else the seconds to wait."""

    def take(self, sender: str, now: datetime, limit: int, window: timedelta) -> int | None: ...


class SlackThreads(Protocol):
    """Where each incident's Slack message is (siren.domain.slack_blocks.SlackThread): one record per incident."""

    def slack_thread(self, incident_id: str) -> SlackThread | None: ...
    def claim_slack_thread(self, incident_id: str, now: datetime, lease: timedelta) -> SlackThread | None:
        """The new record when this caller may post the incident's message (no record yet, or a claim older than
        ``lease`` that never got its message's ts); None when another caller holds it or it is posted."""
        ...

    def save_slack_thread(self, thread: SlackThread) -> SlackThread | None:
        """``thread`` written as the next version when the stored one is still ``thread.version`` (else None)."""
        ...


class SlackWebError(RuntimeError):
    """A Slack Web API call failed (``ok: false``, rate limited, or the network): raised, so that the event is
    retried and, in the end, dead-lettered. ``error``: Slack's error code (``channel_not_found``...) or the
    exception's name; ``retry_after``: the seconds Slack asked to wait when it rate limited the call."""

    def __init__(self, method: str, error: str, retry_after: int | None = None) -> None:
        super().__init__(f"Slack {method} failed: {error}" + (f" (retry after {retry_after}s)" if retry_after else ""))
        self.method = method
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SlackPosted:
    channel: str  # the channel's id (Slack answers with it whatever the request named)
    ts: str  # the message's timestamp: its id within the channel


class SlackWeb(Protocol):
    """Slack's Web API with the bot token. Every method raises SlackWebError when Slack says no."""

    def ready(self) -> bool:
        """False while the bot token is still the stack's generated placeholder (not a Slack ``xoxb-`` token)."""
        ...

    def post_message(
        self, channel: str, text: str, blocks: Sequence[Mapping[str, Any]] = (), thread_ts: str | None = None
    ) -> SlackPosted: ...
    def update_message(self, channel: str, ts: str, text: str, blocks: Sequence[Mapping[str, Any]]) -> None: ...
    def create_channel(self, name: str) -> str:
        """The id of the public channel ``name``: created, or the one a previous attempt created (name taken)."""
        ...

    def invite(self, channel: str, members: Sequence[str]) -> None:
        """Members already in the channel are not an error."""
        ...

    def archive(self, channel: str) -> None:
        """A channel archived already is not an error."""
        ...
