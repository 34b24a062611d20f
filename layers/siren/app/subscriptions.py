"""Status page subscriptions: subscribe (double opt-in), confirm, unsubscribe (one click), and the mails of a
public incident's life to the confirmed subscribers.

Answers never tell whether an address is subscribed: subscribing an address that is confirmed already sends
nothing and answers as a new subscription does, so the form cannot be used to learn who subscribed. Every request
to subscribe is counted per source address and per email address (the RequestRates port, the webhooks' own), so
the form cannot be used to mail-bomb someone with confirmations.
"""

from __future__ import annotations

import dataclasses
import enum
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from siren.app.clock import utc_now
from siren.domain.incidents import EVENT_SOURCE, LifecycleEventType
from siren.domain.status import Component
from siren.domain.subscriptions import (
    CONFIRM_LINK_LIFETIME,
    NEWS_EVENTS,
    LinkAction,
    LinkClaims,
    NoticeProgress,
    PublicNews,
    SubscriptionError,
    chosen_components,
    confirm_link,
    confirmation_mail,
    incident_news,
    maintenance_news,
    new_subscriber,
    news_mail,
    normalise_email,
    recipients,
    unsubscribe_link,
    verify_link,
)
from siren.ports import (
    IncidentRepository,
    MailRefused,
    RequestRates,
    StatusPageState,
    SubscriberMailer,
    Subscribers,
)


class Answer(enum.StrEnum):
    CHECK_YOUR_INBOX = "check_your_inbox"  # also for an address confirmed already (see the module docstring)
    BAD_REQUEST = "bad_request"  # not an address, or components the page does not have
    TOO_MANY = "too_many"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"  # also when there was nothing to unsubscribe: the address gets no more mail
    LINK_REFUSED = "link_refused"  # forged, expired, or the subscription it was for is gone or replaced


@dataclass(frozen=True, slots=True)
class SubscriptionSettings:
    page_name: str
    link_base_url: str  # the subscriptions function's URL: confirm and unsubscribe links point at it
    components: frozenset[str]  # the page's component ids
    per_address: int = 3  # confirmation mails an address can be sent a window
    per_source: int = 20  # requests a source IP can make a window
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Notified:
    sent: int
    refused: list[str] = field(default_factory=list)  # the addresses the mail service refused
    already_mailed: bool = False  # the news was mailed by an earlier delivery: nothing was sent


# Progress of a mailing is recorded this often (one write): a delivery that dies repeats at most this many mails.
PROGRESS_EVERY = 25


class SubscriptionService:
    def __init__(
        self,
        *,
        subscribers: Subscribers,
        mailer: SubscriberMailer,
        rates: RequestRates,
        secret: Callable[[], bytes],
        settings: SubscriptionSettings,
        new_token: Callable[[], str] = lambda: secrets.token_urlsafe(16),
    ) -> None:
        self._subscribers = subscribers
        self._mailer = mailer
        self._rates = rates
        self._secret = secret
        self._settings = settings
        self._new_token = new_token

    @property
    def settings(self) -> SubscriptionSettings:
        return self._settings

    def linking_to(self, base_url: str) -> SubscriptionService:
        """This service, with links to ``base_url`` unless it has a link base of its own: the subscriptions function
        learns its own URL from the request (its settings cannot name it, see siren.settings)."""
        if self._settings.link_base_url:
            return self
        return SubscriptionService(
            subscribers=self._subscribers,
            mailer=self._mailer,
            rates=self._rates,
            secret=self._secret,
            settings=dataclasses.replace(self._settings, link_base_url=base_url),
            new_token=self._new_token,
        )

    def subscribe(self, typed_email: str, components: Collection[str], source_ip: str, now: datetime) -> Answer:
        settings = self._settings
        if self._rates.take(f"subscribe-ip#{source_ip}", now, settings.per_source, settings.window) is not None:
            return Answer.TOO_MANY
        try:
            email = normalise_email(typed_email)
            chosen = chosen_components(components, settings.components)
        except SubscriptionError:
            return Answer.BAD_REQUEST
        if self._rates.take(f"subscribe-email#{email}", now, settings.per_address, settings.window) is not None:
            return Answer.TOO_MANY
        subscriber = new_subscriber(email, chosen, now, self._new_token())
        if not self._subscribers.put_pending(subscriber, now + CONFIRM_LINK_LIFETIME):
            return Answer.CHECK_YOUR_INBOX  # confirmed already: no second subscription, and no tell
        secret = self._secret()
        mail = confirmation_mail(
            settings.page_name,
            subscriber,
            confirm_link(settings.link_base_url, subscriber, now, secret),
            unsubscribe_link(settings.link_base_url, subscriber, secret),
        )
        try:
            self._mailer.send(mail)
        except MailRefused:
            return Answer.BAD_REQUEST  # an address the mail service will not deliver to
        return Answer.CHECK_YOUR_INBOX

    def confirm(self, query: Mapping[str, str], now: datetime) -> Answer:
        claims = self._claims(query, now, LinkAction.CONFIRM)
        if claims is None:
            return Answer.LINK_REFUSED
        confirmed = self._subscribers.confirm(claims.email, claims.token, now)
        return Answer.LINK_REFUSED if confirmed is None else Answer.CONFIRMED

    def unsubscribe(self, query: Mapping[str, str], now: datetime) -> Answer:
        """The one-click POST (RFC 8058) and the body link's form both end here."""
        claims = self._claims(query, now, LinkAction.UNSUBSCRIBE)
        if claims is None:
            return Answer.LINK_REFUSED
        self._subscribers.remove(claims.email, claims.token)  # False: gone already, or resubscribed since
        return Answer.UNSUBSCRIBED

    def _claims(self, query: Mapping[str, str], now: datetime, action: LinkAction) -> LinkClaims | None:
        """The link's signed claims when it is genuine, unexpired and made for ``action``; else None."""
        try:
            claims = verify_link(query, self._secret(), now)
        except SubscriptionError:
            return None
        return claims if claims.action is action else None

    def notify(self, news: PublicNews, now: datetime) -> Notified:
        """One mail to each confirmed subscriber the news concerns; none for an incident that is not public.

        Once per news (its key): a delivery of news mailed already sends nothing, and one that failed half-way
        resumes after the last address it reached (progress is recorded every ``PROGRESS_EVERY`` mails, so a
        crash repeats at most that many). Two deliveries of the same news at the same instant can both mail: the
        progress record is not a lock, since a lock left by a crashed delivery would hold back its own retry."""
        progress = self._subscribers.notice_progress(news.key)
        if progress is not None and progress.done:
            return Notified(0, already_mailed=True)
        through = progress.through if progress is not None else None
        secret = self._secret()
        sent, refused, since_recorded = 0, [], 0
        for subscriber in recipients(news, list(self._subscribers.confirmed()) if news.public else []):
            if through is not None and subscriber.email <= through:
                continue  # mailed by the delivery this one retries
            link = unsubscribe_link(self._settings.link_base_url, subscriber, secret)
            try:
                self._mailer.send(news_mail(self._settings.page_name, news, subscriber, link))
                sent += 1
            except MailRefused:
                refused.append(subscriber.email)
            through, since_recorded = subscriber.email, since_recorded + 1
            if since_recorded == PROGRESS_EVERY:
                self._subscribers.record_notice_progress(news.key, NoticeProgress(False, through), now)
                since_recorded = 0
        self._subscribers.record_notice_progress(news.key, NoticeProgress(True, through), now)
        return Notified(sent, refused)


@dataclass(frozen=True, slots=True, eq=False)
class SubscriberNotices:
    """Lifecycle events -> subscriber mail: the incident read from the store, its public face mapped to the news
    (:func:`siren.domain.subscriptions.incident_news`), and the news mailed to whom it concerns."""

    incidents: IncidentRepository
    subscriptions: SubscriptionService
    components: Sequence[Component]
    impact: Mapping[str, str]
    page_url: str
    page_state: StatusPageState
    clock: Callable[[], datetime] = utc_now

    def on_event(self, event: Mapping[str, Any]) -> Notified | None:
        """None when the event tells subscribers nothing (not about an incident, not public, nothing new)."""
        detail = event.get("detail")
        detail_type = str(event.get("detail-type", ""))
        if event.get("source") != EVENT_SOURCE or detail_type not in NEWS_EVENTS or not isinstance(detail, Mapping):
            return None
        if detail_type == LifecycleEventType.STATUS_CHANGED:
            return self._maintenance(detail.get("maintenance_id"))
        incident_id = detail.get("incident_id")
        incident = self.incidents.get(incident_id) if isinstance(incident_id, str) else None
        if incident is None:
            return None
        news = incident_news(
            detail_type,
            detail,
            incident,
            components=self.components,
            impact=self.impact,
            page_url=self.page_url,
        )
        return None if news is None else self.subscriptions.notify(news, self.clock())

    def _maintenance(self, maintenance_id: object) -> Notified | None:
        """A status page change that names a maintenance window (``siren maintenance add``); a hand-set component
        status names none, and is not mailed."""
        if not isinstance(maintenance_id, str):
            return None
        _, windows = self.page_state.status_page_items()
        window = next((w for w in windows if w.id == maintenance_id), None)
        if window is None:
            return None
        return self.subscriptions.notify(maintenance_news(window, self.page_url), self.clock())
