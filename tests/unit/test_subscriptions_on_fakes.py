"""Status page subscriptions on the fakes: GIVEN a form post or a link, WHEN the use case runs, THEN what is stored
and what is mailed (tests/fakes.py records both)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from siren.app.subscriptions import Answer, SubscriptionService, SubscriptionSettings
from siren.domain.subscriptions import CONFIRM_LINK_LIFETIME, ONE_CLICK, Notice, PublicNews, SubscriberMail
from tests.fakes import FakeRequestRates, FakeSubscriberMailer, FakeSubscribers

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BASE = "https://subscribe.example/"
SETTINGS = SubscriptionSettings("Acme", BASE, frozenset({"api", "web"}))


class World:
    def __init__(self, limit_reached_after: int = 1000) -> None:
        self.subscribers = FakeSubscribers()
        self.mailer = FakeSubscriberMailer()
        self.rates = FakeRequestRates(limit_reached_after)
        tokens = iter(f"token-{n}" for n in range(100))
        self.service = SubscriptionService(
            subscribers=self.subscribers,
            mailer=self.mailer,
            rates=self.rates,
            secret=lambda: b"k" * 32,
            settings=SETTINGS,
            new_token=lambda: next(tokens),
        )

    def link(self, mail: SubscriberMail, text: str) -> dict[str, str]:
        url = next(line for line in mail.text.splitlines() if line.startswith(BASE) or line.startswith(text))
        return dict(parse_qsl(urlsplit(url.removeprefix(text)).query))

    def confirm_query(self, mail: SubscriberMail) -> dict[str, str]:
        return self.link(mail, BASE)

    def unsubscribe_query(self, mail: SubscriberMail) -> dict[str, str]:
        """From the List-Unsubscribe header, as a mail client's one-click POST uses it."""
        header = dict(mail.headers)["List-Unsubscribe"]
        return dict(parse_qsl(urlsplit(header.strip("<>")).query))

    def subscribed(self, email: str, components: tuple[str, ...] = ()) -> None:
        assert self.service.subscribe(email, components, "198.51.100.7", NOW) is Answer.CHECK_YOUR_INBOX
        assert self.service.confirm(self.confirm_query(self.mailer.to(email)[-1]), NOW) is Answer.CONFIRMED


_KEYS = itertools.count()


def news(notice: Notice = Notice.UPDATED, components: frozenset[str] = frozenset(), *, public: bool = True, key=None):
    """News of its own each time (a new key), unless ``key`` says which news it is again."""
    key = key if key is not None else f"INC-{next(_KEYS)}:{notice.value}"
    return PublicNews(notice, "API <slow>", "Investigating & fixing", components, public, "https://status.acme/", key)


def test_an_unconfirmed_address_gets_the_confirmation_and_nothing_else() -> None:
    world = World()
    assert world.service.subscribe(" Ada@Example.com", ["api"], "198.51.100.7", NOW) is Answer.CHECK_YOUR_INBOX
    [confirmation] = world.mailer.to("ada@example.com")
    assert "Confirm" in confirmation.subject

    assert world.service.notify(news(), NOW).sent == 0
    assert world.mailer.to("ada@example.com") == [confirmation]


def test_a_confirmed_subscriber_gets_each_public_notice_for_its_components_only() -> None:
    world = World()
    world.subscribed("api@example.com", ("api",))
    world.subscribed("all@example.com")
    before = len(world.mailer.sent)

    assert world.service.notify(news(Notice.OPENED, frozenset({"web"})), NOW).sent == 1
    assert world.service.notify(news(Notice.RESOLVED, frozenset({"api"})), NOW).sent == 2
    assert world.service.notify(news(Notice.MAINTENANCE), NOW).sent == 2
    assert world.service.notify(news(Notice.UPDATED, frozenset({"api"}), public=False), NOW).sent == 0  # internal
    assert [mail.to for mail in world.mailer.sent[before:]] == [
        "all@example.com",
        "all@example.com",
        "api@example.com",
        "all@example.com",
        "api@example.com",
    ]


def test_every_mail_carries_one_click_unsubscribe_headers_and_a_link_in_its_body() -> None:
    world = World()
    world.subscribed("ada@example.com")
    world.service.notify(news(), NOW)
    for mail in world.mailer.to("ada@example.com"):  # the confirmation and the notice
        headers = dict(mail.headers)
        assert headers["List-Unsubscribe-Post"] == ONE_CLICK
        url = headers["List-Unsubscribe"]
        assert url.startswith(f"<{BASE}") and url.endswith(">")
        assert url.strip("<>") in mail.text
        assert url.strip("<>").replace("&", "&amp;") in mail.html


def test_unsubscribe_by_the_one_click_post_stops_mail() -> None:
    world = World()
    world.subscribed("ada@example.com")
    world.service.notify(news(), NOW)
    last = world.mailer.to("ada@example.com")[-1]

    assert world.service.unsubscribe(world.unsubscribe_query(last), NOW + timedelta(days=400)) is Answer.UNSUBSCRIBED
    assert world.service.notify(news(), NOW).sent == 0
    assert world.mailer.to("ada@example.com")[-1] == last
    # Again (a client that retries the POST): the same answer, nothing to do.
    assert world.service.unsubscribe(world.unsubscribe_query(last), NOW) is Answer.UNSUBSCRIBED


def test_a_confirmed_address_gets_no_second_subscription_and_the_form_does_not_tell() -> None:
    world = World()
    world.subscribed("ada@example.com", ("api",))
    mails = len(world.mailer.sent)
    assert world.service.subscribe("ada@example.com", [], "203.0.113.9", NOW) is Answer.CHECK_YOUR_INBOX
    assert len(world.mailer.sent) == mails
    assert world.subscribers.subscriber("ada@example.com").components == {"api"}  # type: ignore[union-attr]


def test_a_confirmation_link_is_refused_once_expired_tampered_or_replaced() -> None:
    world = World()
    world.service.subscribe("ada@example.com", [], "198.51.100.7", NOW)
    first = world.confirm_query(world.mailer.sent[-1])
    assert world.service.confirm(first, NOW + CONFIRM_LINK_LIFETIME) is Answer.LINK_REFUSED
    assert world.service.confirm({**first, "m": "eve@example.com"}, NOW) is Answer.LINK_REFUSED
    world.service.subscribe("ada@example.com", [], "198.51.100.7", NOW)  # asked again: a new link
    assert world.service.confirm(first, NOW) is Answer.LINK_REFUSED
    assert world.service.confirm(world.unsubscribe_query(world.mailer.sent[-1]), NOW) is Answer.LINK_REFUSED
    assert world.service.confirm(world.confirm_query(world.mailer.sent[-1]), NOW) is Answer.CONFIRMED


def test_requests_past_the_rate_are_refused_before_anything_is_stored_or_mailed() -> None:
    world = World(limit_reached_after=2)  # the source's count, then the address's count
    assert world.service.subscribe("ada@example.com", [], "198.51.100.7", NOW) is Answer.CHECK_YOUR_INBOX
    assert world.service.subscribe("bob@example.com", [], "198.51.100.7", NOW) is Answer.TOO_MANY
    assert world.rates.taken == [
        "subscribe-ip#198.51.100.7",
        "subscribe-email#ada@example.com",
        "subscribe-ip#198.51.100.7",
    ]
    assert [mail.to for mail in world.mailer.sent] == ["ada@example.com"]
    assert world.subscribers.puts == 1


def test_per_address_rate_counts_the_normalised_address() -> None:
    world = World()
    world.service.subscribe("ADA@example.com", [], "198.51.100.7", NOW)
    assert world.rates.taken[-1] == "subscribe-email#ada@example.com"


def test_a_bad_address_or_unknown_component_is_refused_without_a_write() -> None:
    world = World()
    assert world.service.subscribe("not an address", [], "198.51.100.7", NOW) is Answer.BAD_REQUEST
    assert world.service.subscribe("ada@example.com", ["db"], "198.51.100.7", NOW) is Answer.BAD_REQUEST
    assert world.subscribers.puts == 0 and world.mailer.sent == []


def test_a_refused_mail_does_not_stop_the_others() -> None:
    world = World()
    world.subscribed("ada@example.com")
    world.subscribed("bob@example.com")
    world.mailer.refusing.add("ada@example.com")
    notified = world.service.notify(news(), NOW)
    assert (notified.sent, notified.refused) == (1, ["ada@example.com"])


def test_every_untrusted_string_is_escaped_in_html_and_kept_to_one_line_in_the_subject() -> None:
    world = World()
    world.subscribed("ada@example.com")
    hostile = PublicNews(
        Notice.UPDATED,
        "Down <script>alert(1)</script>\r\nBcc: eve@example.com",
        'Body <img src=x onerror=alert(1)> & "quotes"',
        frozenset(),
        True,
        'https://status.acme/?a="><script>',
        "INC-hostile:updated:1",
    )
    world.service.notify(hostile, NOW)
    mail = world.mailer.sent[-1]
    assert "<script>" not in mail.html and "<img" not in mail.html
    assert "&lt;script&gt;" in mail.html and "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;" in mail.html
    assert '"><script>' not in mail.html
    assert "\r" not in mail.subject and "\n" not in mail.subject
    assert all("\r" not in value and "\n" not in value for _, value in mail.headers)


def test_news_mailed_already_is_not_mailed_again_by_a_redelivered_event() -> None:
    world = World()
    world.subscribed("ada@example.com")
    before = len(world.mailer.sent)
    assert world.service.notify(news(key="INC-1:updated:2"), NOW).sent == 1
    again = world.service.notify(news(key="INC-1:updated:2"), NOW + timedelta(minutes=3))
    assert (again.sent, again.already_mailed) == (0, True)
    assert world.service.notify(news(key="INC-1:updated:3"), NOW).sent == 1  # the next update is news
    assert len(world.mailer.sent) == before + 2


class MailServiceDown(RuntimeError):
    pass


def test_a_mailing_that_failed_half_way_resumes_after_the_last_address_it_reached(monkeypatch) -> None:
    from siren.app import subscriptions

    monkeypatch.setattr(subscriptions, "PROGRESS_EVERY", 2)
    world = World()
    addresses = [f"s{n}@example.com" for n in range(5)]
    for address in addresses:
        world.subscribed(address)
    before = len(world.mailer.sent)
    send = world.mailer.send

    def down_after_three(mail):
        if len(world.mailer.sent) - before == 3:
            raise MailServiceDown("throttled")
        return send(mail)

    monkeypatch.setattr(world.mailer, "send", down_after_three)
    with pytest.raises(MailServiceDown):
        world.service.notify(news(key="INC-2:opened"), NOW)
    # The progress was recorded after the second mail: the retry repeats the third, then mails the rest.
    monkeypatch.setattr(world.mailer, "send", send)
    assert world.service.notify(news(key="INC-2:opened"), NOW).sent == 3
    assert [mail.to for mail in world.mailer.sent[before:]] == [*addresses[:3], *addresses[2:]]
    assert world.service.notify(news(key="INC-2:opened"), NOW).already_mailed
