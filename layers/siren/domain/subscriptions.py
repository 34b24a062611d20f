"""Status page subscriptions: customers who asked for an email when a public incident opens, changes or resolves.

Pure: the clock, the randomness and the link secret are passed in.

Double opt-in: a subscription is *pending* until its address follows the signed, expiring confirmation link mailed
to it, so that no one can sign up someone else; only a *confirmed* subscriber gets incident mail. Each subscription
has a random ``token`` of its own, which every link to it carries: subscribing again (a new token) kills the links
of the old subscription, and a link cannot be made for an address without the store's token even by someone who
could forge a signature's inputs. Links are signed with the ack links' HMAC (:func:`siren.domain.ack.sign_fields`)
under versions of their own, so that no kind of link passes as another.

The unsubscribe link does not expire: RFC 8058's one-click unsubscribe must work from a mail of last year.
Consent is kept as the instant the address confirmed (and when it asked), the record a regulator asks for.
"""

from __future__ import annotations

import dataclasses
import enum
import html
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlencode

from siren.domain.ack import fields_signed, sign_fields
from siren.domain.incidents import Incident, LifecycleEventType
from siren.domain.status import DEFAULT_RESOLVED_BODY, Component, Maintenance, PublicStatus, public_incident
from siren.domain.validation import EMAIL

# RFC 5321's limit on a path (254 characters usable as an address).
MAX_EMAIL_LENGTH: Final = 254
# A subscriber picks at most this many components (the page shows fewer); more is a form that was tampered with.
MAX_COMPONENTS: Final = 50
# Long enough for a mail that arrives late or is read the next day; a pending subscription lives as long (the
# store's TTL), so an address that never confirms leaves nothing behind.
CONFIRM_LINK_LIFETIME: Final = timedelta(days=2)
_CONFIRM_VERSION: Final = "siren-subscribe-confirm-v1"
_UNSUBSCRIBE_VERSION: Final = "siren-subscribe-unsubscribe-v1"


class SubscriptionError(ValueError):
    """A request that must not be honoured; ``reason`` is one of bad_email, bad_components, missing,
    bad_signature, expired."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One address. ``components`` empty: every incident; else the incidents touching one of them."""

    email: str  # normalised (normalise_email)
    components: frozenset[str]
    consented_at: datetime  # when the address asked
    token: str  # random, per subscription; carried by its links
    confirmed_at: datetime | None = None  # when the address followed the confirmation link

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    def wants(self, incident_components: Collection[str]) -> bool:
        """Whether an incident touching ``incident_components`` is mailed to this subscriber: an incident that
        names no component concerns the whole service, so every subscriber gets it."""
        return self.confirmed and (
            not self.components or not incident_components or not self.components.isdisjoint(incident_components)
        )


def normalise_email(text: str) -> str:
    """The address as stored and compared: trimmed, NFKC, lower case (mail providers treat the local part without
    case, and two spellings must be one subscription). Raises :class:`SubscriptionError` for anything else than
    one plain address (no display name, no line breaks: the address goes into mail headers)."""
    email = unicodedata.normalize("NFKC", text).strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL.fullmatch(email):
        raise SubscriptionError("bad_email", "not an email address")
    return email


def chosen_components(chosen: Collection[str], known: Collection[str]) -> frozenset[str]:
    """The components a subscriber picked, each one the page knows; raises for any other (a tampered form)."""
    picked = frozenset(chosen)
    unknown = picked - frozenset(known)
    if unknown or len(picked) > MAX_COMPONENTS:
        raise SubscriptionError("bad_components", f"{len(unknown)} unknown component(s)")
    return picked


def new_subscriber(email: str, components: frozenset[str], now: datetime, token: str) -> Subscriber:
    """A pending subscription. ``token``: e.g. ``secrets.token_urlsafe(16)``."""
    if not token:
        raise ValueError("token must not be empty")
    return Subscriber(email, components, now.astimezone(UTC), token)


# -- signed links -----------------------------------------------------------------------------------------------
class LinkAction(enum.StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"


@dataclass(frozen=True, slots=True)
class LinkClaims:
    action: LinkAction
    email: str
    token: str


def _joined(base_url: str, query: Mapping[str, str]) -> str:
    return f"{base_url}{'&' if '?' in base_url else '?'}{urlencode(query)}"


def confirm_link(base_url: str, subscriber: Subscriber, now: datetime, secret: bytes) -> str:
    """``base_url?a=confirm&m=<email>&t=<token>&e=<unix seconds>&s=<signature>``, valid CONFIRM_LINK_LIFETIME."""
    expires = str(int((now + CONFIRM_LINK_LIFETIME).timestamp()))
    signature = sign_fields(secret, _CONFIRM_VERSION, [subscriber.email, subscriber.token, expires])
    query = {"a": LinkAction.CONFIRM.value, "m": subscriber.email, "t": subscriber.token, "e": expires}
    return _joined(base_url, {**query, "s": signature})


def unsubscribe_link(base_url: str, subscriber: Subscriber, secret: bytes) -> str:
    """``base_url?a=unsubscribe&m=<email>&t=<token>&s=<signature>``: no expiry (RFC 8058 links live in old mail)."""
    signature = sign_fields(secret, _UNSUBSCRIBE_VERSION, [subscriber.email, subscriber.token])
    query = {"a": LinkAction.UNSUBSCRIBE.value, "m": subscriber.email, "t": subscriber.token}
    return _joined(base_url, {**query, "s": signature})


def verify_link(query: Mapping[str, str], secret: bytes, now: datetime) -> LinkClaims:
    """The claims of a genuine link (unexpired, for a confirmation); raises :class:`SubscriptionError`. Whether
    the token is still the subscription's is the caller's check against the store."""
    action = query.get("a", "")
    if action not in {item.value for item in LinkAction}:
        raise SubscriptionError("missing", "no action")
    names = ("m", "t", "e", "s") if action == LinkAction.CONFIRM else ("m", "t", "s")
    if any(not query.get(name) for name in names):
        raise SubscriptionError("missing", "a field is missing")
    email, token, signature = query["m"], query["t"], query["s"]
    if action == LinkAction.CONFIRM:
        expires = query["e"]
        if not fields_signed(secret, _CONFIRM_VERSION, [email, token, expires], signature):
            raise SubscriptionError("bad_signature")
        if not expires.isdigit() or now >= datetime.fromtimestamp(int(expires), tz=UTC):
            raise SubscriptionError("expired")
    elif not fields_signed(secret, _UNSUBSCRIBE_VERSION, [email, token], signature):
        raise SubscriptionError("bad_signature")
    return LinkClaims(LinkAction(action), email, token)


# -- what is mailed -------------------------------------------------------------------------------------------
class Notice(enum.StrEnum):
    """Why subscribers get a mail (the incident's public life, and maintenance)."""

    OPENED = "opened"  # the incident became public
    UPDATED = "updated"  # a public update was posted
    RESOLVED = "resolved"
    MAINTENANCE = "maintenance"  # a maintenance window was scheduled


@dataclass(frozen=True, slots=True)
class PublicNews:
    """What a notice says, all of it public already (the status page shows the same): no internal field of an
    incident reaches a subscriber's mail through this."""

    notice: Notice
    title: str
    body: str
    components: frozenset[str]
    public: bool  # False: an internal incident; nothing is mailed
    page_url: str
    # Which news this is, the same for every delivery of it (see :func:`news_key`): a redelivered event, or two
    # events that tell the same news, mail it once.
    key: str


@dataclass(frozen=True, slots=True)
class NoticeProgress:
    """How far the mailing of one piece of news got: subscribers are mailed in address order, so a delivery that
    failed half-way (a throttled mail service, a timeout) is resumed after ``through`` by its retry."""

    done: bool
    through: str | None  # the last address mailed (or refused), None before the first


def recipients(news: PublicNews, subscribers: Collection[Subscriber]) -> list[Subscriber]:
    """The confirmed subscribers this news is mailed to: none for an incident that is not public."""
    if not news.public:
        return []
    return [subscriber for subscriber in subscribers if subscriber.wants(news.components)]


# -- the mails ------------------------------------------------------------------------------------------------
ONE_CLICK: Final = "List-Unsubscribe=One-Click"  # RFC 8058's List-Unsubscribe-Post value (and the POST's body)
_SUBJECT_LIMIT: Final = 150


@dataclass(frozen=True, slots=True)
class SubscriberMail:
    """One mail to one subscriber: its parts and the headers that make it a list mail (RFC 2369, RFC 8058)."""

    to: str
    subject: str
    text: str
    html: str
    headers: tuple[tuple[str, str], ...]


def _one_line(text: str, limit: int = _SUBJECT_LIMIT) -> str:
    """No control character (a header must stay one header), spaces folded, cut to ``limit``."""
    line = " ".join("".join(" " if unicodedata.category(c).startswith("C") else c for c in text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _list_headers(unsubscribe_url: str) -> tuple[tuple[str, str], ...]:
    return (("List-Unsubscribe", f"<{unsubscribe_url}>"), ("List-Unsubscribe-Post", ONE_CLICK))


def confirmation_mail(page_name: str, subscriber: Subscriber, confirm_url: str, unsubscribe_url: str) -> SubscriberMail:
    """The only mail an unconfirmed address ever gets."""
    name = _one_line(page_name, 80)
    subject = _one_line(f"Confirm your subscription to {name} status updates")
    text = (
        f"Someone, hopefully you, asked for email updates from the {name} status page.\n\n"
        f"Confirm (the link is valid for {CONFIRM_LINK_LIFETIME.days} days):\n{confirm_url}\n\n"
        f"Not you? Ignore this mail: nothing more will be sent.\n"
        f"Unsubscribe: {unsubscribe_url}\n"
    )
    body = (
        f"<p>Someone, hopefully you, asked for email updates from the {_esc(name)} status page.</p>"
        f'<p><a href="{_esc(confirm_url)}">Confirm the subscription</a> (valid for {CONFIRM_LINK_LIFETIME.days} '
        f"days).</p><p>Not you? Ignore this mail: nothing more will be sent.</p>"
        f'<p><a href="{_esc(unsubscribe_url)}">Unsubscribe</a></p>'
    )
    return SubscriberMail(subscriber.email, subject, text, body, _list_headers(unsubscribe_url))


_NOTICE_WORDS: Final = {
    Notice.OPENED: "Incident",
    Notice.UPDATED: "Update",
    Notice.RESOLVED: "Resolved",
    Notice.MAINTENANCE: "Scheduled maintenance",
}


def news_mail(page_name: str, news: PublicNews, subscriber: Subscriber, unsubscribe_url: str) -> SubscriberMail:
    """A notice to a confirmed subscriber; every string but the links' own (built by urlencode) is escaped."""
    name = _one_line(page_name, 80)
    title = _one_line(news.title)
    subject = _one_line(f"[{name}] {_NOTICE_WORDS[news.notice]}: {title}")
    text = (
        f"{_NOTICE_WORDS[news.notice]}: {title}\n\n{news.body}\n\n"
        f"Status page: {news.page_url}\n\n"
        f"You get this because you subscribed to {name} status updates.\nUnsubscribe: {unsubscribe_url}\n"
    )
    paragraphs = "".join(f"<p>{_esc(part)}</p>" for part in news.body.split("\n\n") if part.strip())
    body = (
        f"<h1>{_esc(_NOTICE_WORDS[news.notice])}: {_esc(title)}</h1>{paragraphs}"
        f'<p><a href="{_esc(news.page_url)}">Status page</a></p>'
        f"<p>You get this because you subscribed to {_esc(name)} status updates. "
        f'<a href="{_esc(unsubscribe_url)}">Unsubscribe</a></p>'
    )
    return SubscriberMail(subscriber.email, subject, text, body, _list_headers(unsubscribe_url))


# -- from an incident's lifecycle to what subscribers are told ------------------------------------------------
# The lifecycle events that can be news (acknowledging, for one, never is): the others are skipped unread.
NEWS_EVENTS: Final = frozenset(
    {
        LifecycleEventType.OPENED,
        LifecycleEventType.UPDATED,
        LifecycleEventType.SEVERITY_CHANGED,
        LifecycleEventType.RESOLVED,
        LifecycleEventType.STATUS_CHANGED,  # maintenance scheduled (the event names the window)
    }
)


def incident_news(
    detail_type: str,
    detail: Mapping[str, object],
    incident: Incident,
    *,
    components: Sequence[Component],
    impact: Mapping[str, str],
    page_url: str,
) -> PublicNews | None:
    """What subscribers are told of this lifecycle event, or None: nothing, when the incident is not public (see
    :func:`siren.domain.status.public_incident`: the status page's own rule) or when the event tells customers
    nothing new. Built from the incident's public face only: its public title and what people wrote for customers,
    never its internal title, alerts or responders (the event's own detail carries those, so it is read only for
    which change this is).

    - opened: when the incident is public at its opening (its severity affects a component), or becomes public
      later (its first public update, or a severity change that makes it affect a component);
    - updated: each public update after that (resolved when the update says so);
    - resolved: when the incident is resolved and no public update has said so already (that one was mailed).

    The incident is the store's now, so the update told is its latest, and the news's key names it: a redelivered
    event (EventBridge delivers at least once) tells news already mailed, which the notifier skips by its key.
    """
    now_public = public_incident(incident, components, impact)
    if now_public is None:
        return None
    notes = incident.public_updates
    latest = now_public.updates[0]  # newest first

    def news(notice: Notice, body: str) -> PublicNews:
        key = news_key(incident.id, notice, len(notes))
        return PublicNews(notice, now_public.title, body, frozenset(now_public.component_ids), True, page_url, key)

    if detail_type == LifecycleEventType.OPENED:
        return news(Notice.OPENED, latest.body)
    if detail_type == LifecycleEventType.UPDATED and detail.get("change") == "public_update" and notes:
        before = public_incident(dataclasses.replace(incident, public_updates=notes[:-1]), components, impact)
        if before is None:
            return news(Notice.OPENED, notes[-1].body)
        resolved = notes[-1].status == PublicStatus.RESOLVED
        return news(Notice.RESOLVED if resolved else Notice.UPDATED, notes[-1].body)
    if detail_type == LifecycleEventType.SEVERITY_CHANGED and isinstance(detail.get("previous_severity"), str):
        previous = dataclasses.replace(incident, severity=str(detail["previous_severity"]))
        if public_incident(previous, components, impact) is None:
            return news(Notice.OPENED, latest.body)
        return None
    if detail_type == LifecycleEventType.RESOLVED:
        if notes and notes[-1].status == PublicStatus.RESOLVED:
            return None  # a person's resolved update said so, and was mailed then
        return news(Notice.RESOLVED, DEFAULT_RESOLVED_BODY)
    return None


def maintenance_news(window: Maintenance, page_url: str) -> PublicNews:
    """A scheduled maintenance window, as the status page shows it (its title, components, times and body)."""
    start, end = (moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") for moment in (window.starts_at, window.ends_at))
    when = f"From {start} to {end} UTC."
    body = f"{when}\n\n{window.body}" if window.body.strip() else when
    key = news_key(window.id, Notice.MAINTENANCE)
    return PublicNews(Notice.MAINTENANCE, window.title, body, frozenset(window.component_ids), True, page_url, key)


def news_key(subject_id: str, notice: Notice, public_updates: int = 0) -> str:
    """The identity of one piece of news: an incident opens and resolves once, its updates are counted (the n-th
    public update is the same news however many events announce it), a maintenance window is scheduled once."""
    if notice is Notice.UPDATED:
        return f"{subject_id}:{notice.value}:{public_updates}"
    return f"{subject_id}:{notice.value}"
