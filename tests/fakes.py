"""In-memory fakes for every port in siren.ports: use cases run on them in milliseconds, and each records what it
was asked (a fake pager keeps what it "sent", fake runs what they started and which waits they ended).

The store fakes keep the semantics of the real store (siren.adapters.dynamodb) that the use cases rely on:

- incidents: optimistic versions (``apply`` raises ConcurrentChange when the incident's or the key's version moved
  since it was read), DuplicateDelivery when a raw alert's delivery was applied before (checked first, as the real
  transaction's first item is the alert), the duplicate fast path (``append_duplicate``) for the incidents this
  store saw open or acknowledged, timelines in time order, the outbox of lifecycle events written with each change,
  and the by-status / by-time / by-activity reads (unresolved by status; pages with a channel and escalations as
  activity);
- escalation state: ``hold_token`` conditional on no later attempt, ``supersede_escalation`` only forward (it
  returns the token it replaces), page marks per page task (``record_send`` writes the timeline with them);
- acknowledgement codes: allocation that never hands one live code to two incidents (a code record and an
  incident's binding, each free when absent or expired), renewal of a live code, numbers bound only to a live code
  of the same incident, freeing after a grace, single-use link nonces, one SMS reply a number per window;
- heartbeats, the status page's overrides, maintenance windows and publish lease, action items: as the store
  keeps them (a late ping changes nothing, a missed deadline is marked once, the lease is free, expired or ours).

tests/store_contract.py holds these semantics as checks; the fakes pass them
(tests/unit/test_fakes_keep_the_store_contract.py) and so does the real store
(tests/integration/test_store_contract.py): run it against the split store too.

What only the real store has (tested in tests/integration and tests/local against DynamoDB as moto serves it):
the wire format and its item sizes, TTL deletion, transactions under real concurrency (these fakes are not
thread-safe and have no TransactionConflict), the process-wide open-incident hints shared by every store object,
index projections and pagination, and DynamoDB's own errors. ``conflicts`` makes the next writes of the incident
repository fail with ConcurrentChange, to drive the use cases' retries.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from siren.domain.changes import ServiceChange
from siren.domain.escalation import HeldWait, Run, RunStatus, WaitingAt, execution_name
from siren.domain.heartbeats import HeartbeatState
from siren.domain.incidents import (
    Incident,
    IncidentStatus,
    KeyState,
    LifecycleEvent,
    Outcome,
    TimelineEntry,
    TimelineKind,
)
from siren.domain.messages import EmailMessage
from siren.domain.records import ActionItemRecord, IncidentView, RawAlert
from siren.domain.site import SitePage
from siren.domain.slack_blocks import SlackThread
from siren.domain.status import ComponentOverride, ComponentStatus, Maintenance
from siren.domain.subscriptions import NoticeProgress, Subscriber, SubscriberMail
from siren.ports import (
    BusEvent,
    ConcurrentChange,
    Delivery,
    DuplicateDelivery,
    EventTarget,
    IncidentRef,
    PublishRequests,
    PublishResult,
    QueuedMessage,
    SlackPosted,
    SlackWebError,
)

if TYPE_CHECKING:
    from siren.domain.ack import AckAction
    from siren.domain.site import SiteEntry, SiteObject

# The real store's defaults (siren.adapters.dynamodb): how long a code lives after its last page, and how long a
# resolved incident's code still answers late replies.
ACK_CODE_TTL = timedelta(days=7)
ACK_CODE_GRACE = timedelta(hours=1)
SMS_REPLY_WINDOW = timedelta(minutes=1)
ACTIVE = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)


def _seconds(moment: datetime) -> int:
    """The store keeps expiries as whole epoch seconds (DynamoDB TTL): so do the fakes."""
    return int(moment.timestamp())


def is_activity(entry: TimelineEntry) -> bool:
    """Pages actually sent to a person (they name a channel) and escalations: what reports read by time."""
    paged = entry.kind is TimelineKind.PAGED and bool(entry.data.get("channel"))
    return paged or entry.kind is TimelineKind.ESCALATED


# -- the store's ports --------------------------------------------------------------------------------------------
@dataclass
class FakeIncidentRepository:
    """IncidentRepository: incidents, timelines, dedup keys, raw alerts, and the outbox of lifecycle events."""

    incidents: dict[str, Incident] = field(default_factory=dict)
    timelines: dict[str, list[TimelineEntry]] = field(default_factory=lambda: defaultdict(list))
    keys: dict[str, KeyState] = field(default_factory=dict)
    raw_alerts: dict[tuple[str, str], RawAlert] = field(default_factory=dict)
    outbox: list[LifecycleEvent] = field(default_factory=list)
    applied: list[Outcome] = field(default_factory=list)  # every outcome written, in order
    conflicts: int = 0  # the next this many writes of ``apply`` lose to a concurrent change
    reads: int = 0  # ``get`` calls: a use case that must not read again can be held to it
    _open_hints: dict[str, str] = field(default_factory=dict)

    # -- seeding (what tests write straight to the store, as the real store's bulk_put does) ----------------
    def put(self, incident: Incident, timeline: Sequence[TimelineEntry] = ()) -> Incident:
        self.incidents[incident.id] = incident
        self.timelines[incident.id].extend(timeline)
        return incident

    def forget_hints(self) -> None:
        """Another container: no memory of which incident a key has open (the duplicate fast path reads it)."""
        self._open_hints.clear()

    def events_of(self, detail_type: str) -> list[LifecycleEvent]:
        return [event for event in self.outbox if event.detail_type == detail_type]

    # -- reads ------------------------------------------------------------------------------------------------
    def key_state(self, dedup_key: str) -> KeyState:
        return self.keys.get(dedup_key) or KeyState(dedup_key=dedup_key)

    def get(self, incident_id: str, consistent: bool = True) -> Incident | None:
        self.reads += 1
        return self.incidents.get(incident_id)

    def view(self, incident_id: str) -> IncidentView | None:
        incident = self.incidents.get(incident_id)
        if incident is None:
            return None
        return IncidentView(incident, self.timeline(incident_id))

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        """In time order (entries written together keep the order they were written in)."""
        return sorted(self.timelines.get(incident_id, []), key=lambda entry: entry.at)

    def list_by_status(self, status: IncidentStatus, limit: int = 100) -> list[Incident]:
        if status is IncidentStatus.RESOLVED:
            return self.list_resolved(limit=limit)
        found = [incident for incident in self.incidents.values() if incident.status is status]
        return sorted(found, key=lambda incident: incident.opened_at, reverse=True)[:limit]

    def list_resolved(self, limit: int = 100, months: int = 3, now: datetime | None = None) -> list[Incident]:
        month = (now or datetime.now(UTC)).astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        for _ in range(months - 1):
            month = (month - timedelta(days=1)).replace(day=1)
        found = [i for i in self.incidents.values() if i.status is IncidentStatus.RESOLVED and i.opened_at >= month]
        return sorted(found, key=lambda incident: incident.opened_at, reverse=True)[:limit]

    def iter_opened_between(self, start: datetime, end: datetime) -> Iterator[Incident]:
        found = [incident for incident in self.incidents.values() if start <= incident.opened_at < end]
        yield from sorted(found, key=lambda incident: incident.opened_at)

    def iter_activity(self, start: datetime, end: datetime) -> Iterator[tuple[str, TimelineEntry]]:
        found = [
            (incident_id, entry)
            for incident_id, entries in self.timelines.items()
            for entry in entries
            if is_activity(entry) and start <= entry.at < end
        ]
        yield from sorted(found, key=lambda pair: pair[1].at)

    def get_raw_alert(self, source: str, delivery_id: str) -> RawAlert | None:
        return self.raw_alerts.get((source, delivery_id))

    # -- writes -----------------------------------------------------------------------------------------------
    def record_raw_alert(self, alert: RawAlert) -> bool:
        if (alert.source, alert.delivery_id) in self.raw_alerts:
            return False
        self.raw_alerts[(alert.source, alert.delivery_id)] = alert
        return True

    def apply(self, outcome: Outcome, raw: RawAlert | None, actor_now: datetime | None = None) -> None:
        if raw is not None and (raw.source, raw.delivery_id) in self.raw_alerts:
            raise DuplicateDelivery("this delivery was already applied")
        if self.conflicts:
            self.conflicts -= 1
            raise ConcurrentChange("a concurrent change won (the test said so)")
        if outcome.incident is not None:
            stored = self.incidents.get(outcome.incident.id)
            if outcome.previous is None and stored is not None:
                raise ConcurrentChange(f"{outcome.incident.id} exists already")
            if outcome.previous is not None and (stored is None or stored.version != outcome.previous.version):
                raise ConcurrentChange(f"{outcome.incident.id} changed since it was read")
        if outcome.key_state is not None:
            stored_key = self.keys.get(outcome.key_state.dedup_key)
            expected = outcome.key_state.version - 1
            if (stored_key is None and expected != 0) or (stored_key is not None and stored_key.version != expected):
                raise ConcurrentChange(f"key {outcome.key_state.dedup_key} changed since it was read")
        if raw is not None:
            self.raw_alerts[(raw.source, raw.delivery_id)] = raw
        if outcome.incident is not None:
            self.incidents[outcome.incident.id] = outcome.incident
            self.timelines[outcome.incident.id].extend(outcome.timeline)
            self._remember(outcome.incident)
        if outcome.key_state is not None:
            self.keys[outcome.key_state.dedup_key] = outcome.key_state
        self.outbox.extend(outcome.events)
        self.applied.append(outcome)

    def append_duplicate(self, dedup_key: str, entry: TimelineEntry, raw: RawAlert) -> str | None:
        incident_id = self._open_hints.get(dedup_key)
        if incident_id is None:
            return None
        if (raw.source, raw.delivery_id) in self.raw_alerts:
            raise DuplicateDelivery("this delivery was already applied")
        incident = self.incidents.get(incident_id)
        if incident is None or incident.status not in ACTIVE or incident.dedup_key != dedup_key:
            self._open_hints.pop(dedup_key, None)
            return None
        self.raw_alerts[(raw.source, raw.delivery_id)] = raw
        self.incidents[incident_id] = replace(
            incident, alert_count=incident.alert_count + 1, last_seen_at=entry.at, version=incident.version + 1
        )
        self.timelines[incident_id].append(entry)
        return incident_id

    def add_timeline(self, incident_id: str, entries: list[TimelineEntry]) -> None:
        self.timelines[incident_id].extend(entries)

    def _remember(self, incident: Incident) -> None:
        if incident.status in ACTIVE:
            self._open_hints[incident.dedup_key] = incident.id
        else:
            self._open_hints.pop(incident.dedup_key, None)


@dataclass
class _Wait:
    attempt: int | None = None
    token: str | None = None
    execution: str | None = None
    waiting: WaitingAt | None = None


@dataclass
class FakeEscalationState:
    """EscalationState: the current attempt and its held wait, and each page task's channels already sent."""

    incidents: FakeIncidentRepository  # record_send writes the timeline beside its marks, as the store does
    waits: dict[str, _Wait] = field(default_factory=dict)
    sent: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def sent_channels(self, incident_id: str, page_id: str) -> tuple[str, ...]:
        return self.sent.get((incident_id, page_id), ())

    def record_send(
        self, incident_id: str, entries: list[TimelineEntry], *, page_id: str, sent: tuple[str, ...], now: datetime
    ) -> None:
        self.incidents.add_timeline(incident_id, entries)
        if sent:
            self.sent[(incident_id, page_id)] = tuple(sent)

    def hold_token(
        self, incident_id: str, token: str, execution: str, attempt: int = 1, waiting: WaitingAt | None = None
    ) -> bool:
        wait = self.waits.setdefault(incident_id, _Wait())
        if wait.attempt is not None and wait.attempt > attempt:
            return False
        wait.attempt, wait.token, wait.execution, wait.waiting = attempt, token, execution, waiting
        return True

    def supersede_escalation(self, incident_id: str, attempt: int) -> str | None:
        wait = self.waits.setdefault(incident_id, _Wait())
        if wait.attempt is not None and wait.attempt >= attempt:
            return None
        token = wait.token
        wait.attempt, wait.token, wait.execution, wait.waiting = attempt, None, None, None
        return token

    def current_attempt(self, incident_id: str) -> int:
        wait = self.waits.get(incident_id)
        return wait.attempt or 1 if wait else 1

    def held_token(self, incident_id: str) -> tuple[str, str] | None:
        wait = self.waits.get(incident_id)
        return (wait.token, wait.execution or "") if wait and wait.token else None

    def held_wait(self, incident_id: str) -> HeldWait | None:
        wait = self.waits.get(incident_id)
        return HeldWait(wait.token, wait.execution or "", wait.waiting) if wait and wait.token else None


@dataclass
class _CodeRecord:
    incident_id: str
    expires_at: int
    numbers: list[str] = field(default_factory=list)


@dataclass
class _Binding:
    code: str
    expires_at: int


@dataclass
class FakeAckCodes:
    """AckCodes: code records (code -> incident, numbers) and bindings (incident -> code), each free when absent or
    expired; single-use link nonces; each number's SMS reply window."""

    codes: dict[str, _CodeRecord] = field(default_factory=dict)
    bindings: dict[str, _Binding] = field(default_factory=dict)
    nonces: dict[str, str] = field(default_factory=dict)  # nonce -> incident id
    reply_windows: dict[str, int] = field(default_factory=dict)  # number -> end of its window (epoch seconds)
    released: list[str] = field(default_factory=list)  # nonces given back
    freed: list[str] = field(default_factory=list)  # codes given back by resolved incidents

    def ack_code(
        self,
        incident_id: str,
        new_code: Callable[[], str],
        now: datetime,
        ttl: timedelta = ACK_CODE_TTL,
        attempts: int = 20,
    ) -> str | None:
        now_s, expires = _seconds(now), _seconds(now + ttl)
        current = self._code_of(incident_id, now_s)
        if current is not None and self._renew(incident_id, current, now_s, expires):
            return current
        for _ in range(attempts):
            code = new_code()
            record, binding = self.codes.get(code), self.bindings.get(incident_id)
            binding_free = (
                binding is None or binding.expires_at <= now_s or (current is not None and binding.code == current)
            )
            if not binding_free:  # another step of this incident allocated one first: use theirs
                theirs = self._code_of(incident_id, now_s)
                if theirs is not None:
                    return theirs
                continue
            if record is not None and record.expires_at > now_s:
                continue  # live elsewhere: draw another
            self.codes[code] = _CodeRecord(incident_id, expires)
            self.bindings[incident_id] = _Binding(code, expires)
            return code
        return None

    def _code_of(self, incident_id: str, now_s: int) -> str | None:
        binding = self.bindings.get(incident_id)
        return binding.code if binding and binding.expires_at > now_s else None

    def _renew(self, incident_id: str, code: str, now_s: int, expires: int) -> bool:
        record, binding = self.codes.get(code), self.bindings.get(incident_id)
        if record is None or record.incident_id != incident_id or record.expires_at <= now_s:
            return False
        if binding is None or binding.code != code or binding.expires_at <= now_s:
            return False
        record.expires_at = binding.expires_at = expires
        return True

    def bind_number(self, code: str, incident_id: str, number: str, now: datetime) -> bool:
        record = self.codes.get(code)
        if record is None or record.incident_id != incident_id or record.expires_at <= _seconds(now):
            return False
        record.numbers.append(number)
        return True

    def free_ack_code(self, incident_id: str, now: datetime, grace: timedelta = ACK_CODE_GRACE) -> str | None:
        now_s = _seconds(now)
        code = self._code_of(incident_id, now_s)
        if code is None:
            return None
        record, binding = self.codes.get(code), self.bindings[incident_id]
        if record is not None and record.incident_id == incident_id:
            record.expires_at = binding.expires_at = _seconds(now + grace)
        else:  # the code record is another incident's already (this binding was stale): end the binding alone
            binding.expires_at = now_s
        self.freed.append(code)
        return code

    def code_binding(self, code: str, now: datetime | None = None) -> tuple[str, list[str]] | None:
        record = self.codes.get(code)
        if record is None or record.expires_at <= (now or datetime.now(UTC)).timestamp():
            return None
        return record.incident_id, list(record.numbers)

    def use_link_nonce(self, nonce: str, incident_id: str, expires_at: datetime, now: datetime) -> bool:
        if nonce in self.nonces:
            return False
        self.nonces[nonce] = incident_id
        return True

    def release_link_nonce(self, nonce: str) -> None:
        self.nonces.pop(nonce, None)
        self.released.append(nonce)

    def claim_sms_reply(self, number: str, now: datetime, window: timedelta = SMS_REPLY_WINDOW) -> bool:
        ends = self.reply_windows.get(number)
        if ends is not None and ends > _seconds(now):
            return False
        self.reply_windows[number] = _seconds(now + window)
        return True


@dataclass
class FakeHeartbeatRecords:
    """HeartbeatRecords: each heartbeat's state, and the canary's last good run (an older one never replaces it)."""

    states: dict[str, HeartbeatState] = field(default_factory=dict)
    last_canary: tuple[datetime, float] | None = None

    def heartbeat_states(self) -> dict[str, HeartbeatState]:
        return dict(self.states)

    def heartbeat_state(self, name: str) -> HeartbeatState:
        return self.states.get(name) or HeartbeatState()

    def heartbeat_seen(self, name: str, now: datetime) -> HeartbeatState:
        state = self.heartbeat_state(name)
        self.states[name] = replace(state, first_seen_at=state.first_seen_at or now)
        return self.states[name]

    def record_heartbeat_ping(self, name: str, now: datetime) -> HeartbeatState:
        state = self.heartbeat_state(name)
        if state.last_ping_at is not None and state.last_ping_at >= now:
            return state  # a late retry of an older ping
        self.states[name] = replace(state, last_ping_at=now, first_seen_at=state.first_seen_at or now)
        return self.states[name]

    def mark_heartbeat_missed(self, name: str, deadline: datetime) -> None:
        state = self.heartbeat_state(name)
        if state.missed_deadline != deadline:
            self.states[name] = replace(state, missed_deadline=deadline, recovered=False)

    def mark_heartbeat_recovered(self, name: str, deadline: datetime) -> None:
        state = self.heartbeat_state(name)
        if state.missed_deadline == deadline:
            self.states[name] = replace(state, recovered=True)

    def record_canary(self, at: datetime, seconds: float) -> None:
        if self.last_canary is None or self.last_canary[0] < at:
            self.last_canary = (at, round(seconds, 3))

    def canary(self) -> tuple[datetime, float] | None:
        return self.last_canary


@dataclass
class FakeStatusPageState:
    """StatusPageState: overrides set by hand, maintenance windows, and the coalescing publisher's request and
    lease (free, expired, or ours already)."""

    overrides: dict[str, ComponentOverride] = field(default_factory=dict)
    maintenances: dict[str, Maintenance] = field(default_factory=dict)
    requested_at: str | None = None
    touched: set[IncidentRef] = field(default_factory=set)
    lease_owner: str | None = None
    lease_until: int | None = None
    requests: int = 0

    def set_component_status(self, component_id: str, status: str, actor: str, now: datetime) -> None:
        if status == "operational":
            self.overrides.pop(component_id, None)
            return
        self.overrides[component_id] = ComponentOverride(component_id, ComponentStatus(status), now)

    def add_maintenance(self, window: Maintenance, actor: str) -> None:
        if window.id in self.maintenances:
            raise ConcurrentChange(f"maintenance {window.id} exists already")
        self.maintenances[window.id] = window

    def request_publish(self, now: datetime, touched: Sequence[IncidentRef] = ()) -> str:
        self.requests += 1
        self.requested_at = f"{now.astimezone(UTC).isoformat()}#{uuid.uuid4().hex[:8]}"
        self.touched.update(touched)
        return self.requested_at

    def acquire_publish_lease(self, owner: str, now: datetime, lease: timedelta) -> PublishRequests | None:
        moment = _seconds(now)
        if self.lease_until is not None and self.lease_until >= moment and self.lease_owner != owner:
            return None
        self.lease_owner, self.lease_until = owner, moment + int(lease.total_seconds())
        return PublishRequests(self.requested_at or "", tuple(sorted(self.touched, key=lambda ref: ref.id)))

    def release_publish_lease(self, owner: str, published_up_to: str) -> bool:
        if self.lease_owner != owner or self.requested_at != published_up_to:
            return False
        self.lease_owner = self.lease_until = None
        self.touched.clear()
        return True

    def status_page_items(self) -> tuple[dict[str, ComponentOverride], list[Maintenance]]:
        return dict(self.overrides), [self.maintenances[key] for key in sorted(self.maintenances)]


@dataclass
class FakeActionItems:
    """ActionItems: added once, completed once (completing again changes nothing), listed by id."""

    items: dict[str, ActionItemRecord] = field(default_factory=dict)

    def add_action_item(self, item: ActionItemRecord) -> None:
        if item.id in self.items:
            raise ConcurrentChange(f"action item {item.id} exists already")
        self.items[item.id] = item

    def complete_action_item(self, action_id: str, actor: str, now: datetime) -> ActionItemRecord | None:
        item = self.items.get(action_id)
        if item is None:
            return None
        if item.done_at is None:
            self.items[action_id] = item = replace(item, done_at=now.astimezone(UTC), done_by=actor)
        return item

    def action_items(self) -> Iterator[ActionItemRecord]:
        yield from (self.items[key] for key in sorted(self.items))


@dataclass
class FakeChangeEvents:
    """ChangeEvents: one change per (service, instant, id), as the table's key; ``recorded`` keeps every call and
    ``reads`` every window asked for (a test counts the Queries a page costs)."""

    changes: dict[tuple[str, datetime, str], ServiceChange] = field(default_factory=dict)
    recorded: list[ServiceChange] = field(default_factory=list)
    reads: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    def record(self, change: ServiceChange, now: datetime) -> None:
        self.recorded.append(change)
        self.changes[(change.service, change.at.astimezone(UTC), change.id)] = change

    def recent(self, service: str, since: datetime, until: datetime, limit: int = 10) -> list[ServiceChange]:
        self.reads.append((service, since, until))
        found = sorted(
            (key, change)
            for key, change in ((k[1:], c) for k, c in self.changes.items() if k[0] == service)
            if since <= key[0] <= until
        )
        return [change for _, change in found][-limit:] if limit > 0 else []


@dataclass
class FakeSubscribers:
    """Subscribers by address, as the table keeps them (a pending one's expiry is kept, not enforced: the table's
    TTL is not either, to the minute); ``puts`` counts the writes tried."""

    by_email: dict[str, Subscriber] = field(default_factory=dict)
    expiries: dict[str, datetime] = field(default_factory=dict)
    notices: dict[str, NoticeProgress] = field(default_factory=dict)
    puts: int = 0

    def subscriber(self, email: str) -> Subscriber | None:
        return self.by_email.get(email)

    def put_pending(self, subscriber: Subscriber, expires_at: datetime) -> bool:
        self.puts += 1
        current = self.by_email.get(subscriber.email)
        if current is not None and current.confirmed:
            return False
        self.by_email[subscriber.email] = replace(subscriber, confirmed_at=None)
        self.expiries[subscriber.email] = expires_at
        return True

    def confirm(self, email: str, token: str, now: datetime) -> Subscriber | None:
        current = self.by_email.get(email)
        if current is None or current.token != token:
            return None
        if not current.confirmed:
            self.by_email[email] = current = replace(current, confirmed_at=now.astimezone(UTC))
            self.expiries.pop(email, None)
        return current

    def remove(self, email: str, token: str) -> bool:
        current = self.by_email.get(email)
        if current is None or current.token != token:
            return False
        del self.by_email[email]
        self.expiries.pop(email, None)
        return True

    def confirmed(self) -> Iterator[Subscriber]:
        yield from (self.by_email[email] for email in sorted(self.by_email) if self.by_email[email].confirmed)

    def notice_progress(self, key: str) -> NoticeProgress | None:
        return self.notices.get(key)

    def record_notice_progress(self, key: str, progress: NoticeProgress, now: datetime) -> None:
        self.notices[key] = progress


@dataclass
class FakeSubscriberMailer:
    """SubscriberMailer: keeps every mail sent; an address in ``refusing`` is refused (MailRefused)."""

    refusing: set[str] = field(default_factory=set)
    sent: list[SubscriberMail] = field(default_factory=list)

    def send(self, mail: SubscriberMail) -> str:
        from siren.ports import MailRefused

        if mail.to in self.refusing:
            raise MailRefused(mail.to)
        self.sent.append(mail)
        return f"m-{len(self.sent)}"

    def to(self, email: str) -> list[SubscriberMail]:
        return [mail for mail in self.sent if mail.to == email]


@dataclass
class FakeSlackThreads:
    """Each incident's Slack message record, with the table's conditions: a claim is one winner, a save needs the
    version it read."""

    by_incident: dict[str, SlackThread] = field(default_factory=dict)

    def slack_thread(self, incident_id: str) -> SlackThread | None:
        return self.by_incident.get(incident_id)

    def claim_slack_thread(self, incident_id: str, now: datetime, lease: timedelta) -> SlackThread | None:
        current = self.by_incident.get(incident_id)
        if current is not None and (current.posted or current.claimed_at > now - lease):
            return None
        claim = SlackThread(incident_id, now, version=1 if current is None else current.version + 1)
        self.by_incident[incident_id] = claim
        return claim

    def save_slack_thread(self, thread: SlackThread) -> SlackThread | None:
        current = self.by_incident.get(thread.incident_id)
        if current is None or current.version != thread.version:
            return None
        saved = replace(thread, version=thread.version + 1)
        self.by_incident[thread.incident_id] = saved
        return saved


@dataclass
class FakeSlackWeb:
    """Slack's Web API as a fake workspace: messages by (channel, ts) as they look now, every call recorded, and
    ``failing`` methods raise SlackWebError as the adapter does."""

    token_set: bool = True
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> name, members, archived
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    _ts: int = 0

    def _call(self, method: str, **arguments: Any) -> None:
        self.calls.append((method, arguments))
        if method in self.failing:
            raise SlackWebError(method, "ratelimited", retry_after=30)

    def called(self, method: str) -> list[dict[str, Any]]:
        return [arguments for name, arguments in self.calls if name == method]

    def ready(self) -> bool:
        return self.token_set

    def post_message(
        self, channel: str, text: str, blocks: Sequence[Mapping[str, Any]] = (), thread_ts: str | None = None
    ) -> SlackPosted:
        self._call("chat.postMessage", channel=channel, text=text, blocks=list(blocks), thread_ts=thread_ts)
        self._ts += 1
        ts = f"1700000000.{self._ts:06d}"
        self.messages[(channel, ts)] = {"text": text, "blocks": list(blocks), "thread_ts": thread_ts}
        return SlackPosted(channel, ts)

    def update_message(self, channel: str, ts: str, text: str, blocks: Sequence[Mapping[str, Any]]) -> None:
        self._call("chat.update", channel=channel, ts=ts, text=text, blocks=list(blocks))
        self.messages[(channel, ts)] = {**self.messages[(channel, ts)], "text": text, "blocks": list(blocks)}

    def create_channel(self, name: str) -> str:
        self._call("conversations.create", name=name)
        found = next((cid for cid, c in self.channels.items() if c["name"] == name), None)
        if found is None:
            found = f"C{len(self.channels) + 100:08d}"
            self.channels[found] = {"name": name, "members": [], "archived": False}
        return found

    def invite(self, channel: str, members: Sequence[str]) -> None:
        self._call("conversations.invite", channel=channel, users=list(members))
        joined = self.channels[channel]["members"]
        joined.extend(m for m in members if m not in joined)

    def archive(self, channel: str) -> None:
        self._call("conversations.archive", channel=channel)
        self.channels[channel]["archived"] = True

    def top_level_in(self, channel: str) -> list[dict[str, Any]]:
        """The channel's messages that are not thread replies, as they look now."""
        return [m for (c, _), m in self.messages.items() if c == channel and m["thread_ts"] is None]

    def replies(self, ts: str) -> list[str]:
        return [m["text"] for m in self.messages.values() if m["thread_ts"] == ts]


@dataclass
class FakeStore:
    """The store's ports, one fake per noun, sharing the timeline as the one table does."""

    incidents: FakeIncidentRepository = field(default_factory=FakeIncidentRepository)
    codes: FakeAckCodes = field(default_factory=FakeAckCodes)
    heartbeats: FakeHeartbeatRecords = field(default_factory=FakeHeartbeatRecords)
    status_page: FakeStatusPageState = field(default_factory=FakeStatusPageState)
    action_items: FakeActionItems = field(default_factory=FakeActionItems)
    changes: FakeChangeEvents = field(default_factory=FakeChangeEvents)
    subscribers: FakeSubscribers = field(default_factory=FakeSubscribers)
    slack_threads: FakeSlackThreads = field(default_factory=FakeSlackThreads)
    escalations: FakeEscalationState = field(init=False)

    def __post_init__(self) -> None:
        self.escalations = FakeEscalationState(self.incidents)


# -- paging ---------------------------------------------------------------------------------------------------
VIA = {"sms": "end-user-messaging", "voice": "end-user-messaging", "email": "ses", "chat": "webhook"}


@dataclass
class FakePager:
    """Pager: keeps what it sent as (channel, to, body). A channel in ``failing`` fails; an SMS whose End User
    Messaging attempt fails (``failing`` holds "end-user-messaging") falls back to SNS, as the real pager does."""

    failing: set[str] = field(default_factory=set)
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    checked: list[tuple[str, str]] = field(default_factory=list)  # the canary's dry runs: (to, text)
    emails: list[EmailMessage] = field(default_factory=list)

    def _deliver(self, channel: str, to: str, body: str, via: str) -> Delivery:
        self.sent.append((channel, to, body))
        ok = channel not in self.failing and via not in self.failing
        return Delivery(
            channel, to, via, ok, message_id=f"m-{len(self.sent)}" if ok else None, error=None if ok else "down"
        )

    def to(self, number_or_address: str, channel: str | None = None) -> list[str]:
        """The bodies sent to ``number_or_address`` (on ``channel``), in order."""
        return [body for sent_on, to, body in self.sent if to == number_or_address and channel in (None, sent_on)]

    def send_sms(self, to: str, text: str) -> list[Delivery]:
        first = self._deliver("sms", to, text, VIA["sms"])
        if first.ok or "end-user-messaging" not in self.failing:
            return [first]
        return [first, self._deliver("sms", to, text, "sns")]

    def check_sms(self, to: str, text: str) -> Delivery:
        self.checked.append((to, text))
        ok = "sms" not in self.failing and "end-user-messaging" not in self.failing
        return Delivery("sms", to, VIA["sms"], ok, error=None if ok else "down")

    def send_voice(self, to: str, ssml: str) -> Delivery:
        return self._deliver("voice", to, ssml, VIA["voice"])

    def send_email(self, to: str, message: EmailMessage, sender: str) -> Delivery:
        self.emails.append(message)
        return self._deliver("email", to, message.text, VIA["email"])

    def send_chat(self, webhook_url: str, payload: Mapping[str, Any]) -> Delivery:
        return self._deliver("chat", "hooks.example.com", str(payload.get("text")), VIA["chat"])


@dataclass
class FakeAckLinks:
    """AckLinks: readable, unsigned links; keeps what it made."""

    made: list[tuple[str, str, str]] = field(default_factory=list)

    def link(self, incident_id: str, action: AckAction, user: str, now: datetime) -> str:
        self.made.append((incident_id, str(action), user))
        return f"https://ack.example.com/?i={incident_id}&a={action}&u={user}"


@dataclass
class FakeEscalationRuns:
    """EscalationRuns (and EscalationWaits): the machine's runs by name, what was started and stopped, and the
    waits ended (a wait ends once; a wait ``held`` by a run finishes that run, as the real machine's does)."""

    runs: dict[str, RunStatus] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)  # run names, in order
    stopped: list[str] = field(default_factory=list)  # run names, in order
    causes: dict[str, str] = field(default_factory=dict)  # run name -> why it was stopped
    waits_ended: list[str] = field(default_factory=list)  # task tokens, in order
    reasons: dict[str, str] = field(default_factory=dict)  # task token -> why its wait ended
    held: dict[str, str] = field(default_factory=dict)  # task token -> the run whose wait holds it
    waits_escalated: list[str] = field(default_factory=list)  # task tokens ended early by "escalate now", in order

    def running(self) -> list[str]:
        return [name for name, status in self.runs.items() if status is RunStatus.RUNNING]

    def latest(self, incident_id: str, attempt: int) -> Run | None:
        latest: Run | None = None
        repair = 0
        while (name := execution_name(incident_id, attempt, repair)) in self.runs:
            latest, repair = Run(name, self.runs[name]), repair + 1
        return latest

    def start(self, incident_id: str, attempt: int, name: str) -> bool:
        if name in self.runs:
            return False  # a run of that name exists: Step Functions refuses it
        self.runs[name] = RunStatus.RUNNING
        self.started.append(name)
        return True

    def stop(self, name: str, cause: str) -> bool:
        if self.runs.get(name) is not RunStatus.RUNNING:
            return False
        self.runs[name] = RunStatus.ABORTED
        self.stopped.append(name)
        self.causes[name] = cause
        return True

    def end_wait(self, token: str, why: str) -> bool:
        if token in self.reasons:
            return False
        self.waits_ended.append(token)
        self.reasons[token] = why
        if token in self.held:
            self.runs[self.held[token]] = RunStatus.SUCCEEDED
        return True

    def escalate_wait(self, token: str, requested_by: str) -> bool:
        """The wait ends once, like any other; its run goes on to the next level (it stays running)."""
        if token in self.reasons:
            return False
        self.waits_escalated.append(token)
        self.reasons[token] = f"escalate now, asked by {requested_by}"
        return True


# -- the canary ---------------------------------------------------------------------------------------------
@dataclass
class FakeCanary:
    heartbeats: list[tuple[datetime, float]] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)

    def heartbeat(self, at: datetime, end_to_end_seconds: float) -> None:
        self.heartbeats.append((at, end_to_end_seconds))

    def resolve(self, incident_id: str) -> None:
        self.resolved.append(incident_id)


@dataclass
class FakeWatchdog:
    beats: int = 0

    def beat(self) -> bool:
        self.beats += 1
        return True


@dataclass
class FakeAlertPoster:
    posted: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=lambda: {"action": "opened"})

    def __call__(self, webhook_url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        self.posted.append((webhook_url, token, body))
        return self.answer


# -- out to people and the world ------------------------------------------------------------------------------
@dataclass
class FakeMailer:
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send_report(self, sender: str, recipients: list[str], subject: str, text: str, html: str) -> str:
        self.sent.append({"sender": sender, "recipients": recipients, "subject": subject, "text": text, "html": html})
        return f"message-{len(self.sent)}"


@dataclass
class FakeArtifacts:
    stored: dict[str, str] = field(default_factory=dict)

    def put_markdown(self, key: str, body: str) -> str:
        self.stored[key] = body
        return f"s3://artifacts/{key}"


@dataclass
class FakeStatusSite:
    """StatusSite: the published objects by key; a publish writes only what changed and renders a page only when
    its source changed, as the bucket does (``rendered_keys``: the pages each publish rendered)."""

    objects: dict[str, SiteObject] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    publishes: int = 0
    rendered_keys: list[list[str]] = field(default_factory=list)

    def publish(self, stages: Sequence[Sequence[SiteEntry]]) -> PublishResult:
        self.publishes += 1
        written = unchanged = size = 0
        rendered: list[str] = []
        for entry in (entry for stage in stages for entry in stage):
            if isinstance(entry, SitePage):
                if entry.key in self.objects and self.sources.get(entry.key) == entry.source:
                    unchanged += 1
                    continue
                obj = entry.render()
                rendered.append(entry.key)
                self.sources[entry.key] = entry.source
            else:
                obj = entry
            if self.objects.get(obj.key) == obj:
                unchanged += 1
                continue
            self.objects[obj.key] = obj
            written, size = written + 1, size + len(obj.body)
        self.rendered_keys.append(rendered)
        return PublishResult(written, unchanged, size, len(rendered))

    def read(self, key: str) -> bytes | None:
        obj = self.objects.get(key)
        return obj.body if obj else None


@dataclass
class FakeEventBus:
    """EventBus: keeps what was put; ``failing`` makes every put raise (EventBridge unreachable)."""

    published: list[BusEvent] = field(default_factory=list)
    failing: bool = False

    def put(self, events: Sequence[BusEvent]) -> int:
        if self.failing:
            raise RuntimeError("EventBridge PutEvents: service unavailable")
        self.published.extend(events)
        return len(events)


# -- dead letters -------------------------------------------------------------------------------------------
@dataclass
class FakeDeadLetters:
    """DeadLetters: what the front door kept, with its source and the reason it was refused."""

    kept: list[tuple[Any, str, str]] = field(default_factory=list)

    def keep(self, payload: Any, source: str, reason: str) -> None:
        self.kept.append((payload, source, reason))


@dataclass
class FakeRequestRates:
    """RequestRates: counts every request taken; past ``limit_reached_after`` requests, the sender waits
    ``retry_after`` seconds."""

    limit_reached_after: int
    retry_after: int = 42
    taken: list[str] = field(default_factory=list)

    def take(self, sender: str, now: datetime, limit: int, window: timedelta) -> int | None:
        self.taken.append(sender)
        return self.retry_after if len(self.taken) > self.limit_reached_after else None


@dataclass
class FakeDeadLetterQueues:
    """DeadLetterQueues: messages by queue URL; taken ones are hidden until deleted or released."""

    messages: dict[str, list[QueuedMessage]] = field(default_factory=lambda: defaultdict(list))
    hidden: set[str] = field(default_factory=set)
    deleted: list[str] = field(default_factory=list)

    def waiting(self, queue_url: str) -> int:
        return len(self.messages[queue_url])

    def peek(self, queue_url: str) -> list[QueuedMessage]:
        return [m for m in self.messages[queue_url] if m.message_id not in self.hidden]

    def take(self, queue_url: str) -> list[QueuedMessage]:
        taken = self.peek(queue_url)
        self.hidden.update(m.message_id for m in taken)
        return taken

    def delete(self, message: QueuedMessage) -> None:
        self.messages[message.queue_url] = [m for m in self.messages[message.queue_url] if m != message]
        self.hidden.discard(message.message_id)
        self.deleted.append(message.message_id)

    def release(self, message: QueuedMessage) -> None:
        self.hidden.discard(message.message_id)


@dataclass
class FakeStackWiring:
    queue_urls: dict[str, str] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)
    targets: list[EventTarget] = field(default_factory=list)
    subscribers: dict[str, list[str]] = field(default_factory=dict)  # topic ARN -> function ARNs

    def queues(self) -> dict[str, str]:
        return dict(self.queue_urls)

    def owns_function(self, arn: str) -> bool:
        return arn in self.functions

    def event_targets(self, bus_names: Sequence[str]) -> list[EventTarget]:
        return list(self.targets)

    def topic_functions(self, topic_arn: str) -> list[str]:
        return list(self.subscribers.get(topic_arn, []))


@dataclass
class FakeOutbox:
    events: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    def written_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return [event for at, event in self.events if start <= at < end]


@dataclass
class FakeInvoker:
    invoked: list[tuple[str, Any]] = field(default_factory=list)

    def invoke_async(self, function_arn: str, event: Any) -> None:
        self.invoked.append((function_arn, event))


if TYPE_CHECKING:  # mypy proves each fake satisfies its port (run it on tests/fakes.py)
    from siren import ports

    _store = FakeStore()
    _incidents: ports.IncidentRepository = _store.incidents
    _escalations: ports.EscalationState = _store.escalations
    _codes: ports.AckCodes = _store.codes
    _heartbeats: ports.HeartbeatRecords = _store.heartbeats
    _status_page: ports.StatusPageState = _store.status_page
    _action_items: ports.ActionItems = _store.action_items
    _pager: ports.Pager = FakePager()
    _links: ports.AckLinks = FakeAckLinks()
    _runs: ports.EscalationRuns = FakeEscalationRuns()
    _canary: ports.Canary = FakeCanary()
    _watchdog: ports.Watchdog = FakeWatchdog()
    _poster: ports.AlertPoster = FakeAlertPoster()
    _mailer: ports.Mailer = FakeMailer()
    _artifacts: ports.Artifacts = FakeArtifacts()
    _site: ports.StatusSite = FakeStatusSite()
    _bus: ports.EventBus = FakeEventBus()
    _queues: ports.DeadLetterQueues = FakeDeadLetterQueues()
    _wiring: ports.StackWiring = FakeStackWiring()
    _outbox: ports.Outbox = FakeOutbox()
    _invoker: ports.Invoker = FakeInvoker()
