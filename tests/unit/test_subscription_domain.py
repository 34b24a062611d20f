"""Status page subscriptions, the pure part: addresses, component choice, who is mailed, and the signed links."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from siren.domain.ack import sign_ack_link, verify_ack_link
from siren.domain.subscriptions import (
    CONFIRM_LINK_LIFETIME,
    LinkAction,
    Notice,
    PublicNews,
    SubscriptionError,
    chosen_components,
    confirm_link,
    new_subscriber,
    normalise_email,
    recipients,
    unsubscribe_link,
    verify_link,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = b"s" * 32
BASE = "https://subscribe.example/"


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (" Ada@Example.COM ", "ada@example.com"),
        ("\uff4f\uff50\uff53@example.org", "ops@example.org"),
        ("a.b+c@x.io", "a.b+c@x.io"),
    ],
)
def test_an_address_is_stored_in_one_spelling(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "Ada <ada@example.com>",
        "ada@example.com\r\nBcc: x@y.z",
        "a" * 250 + "@example.com",
    ],
)
def test_anything_but_one_plain_address_is_refused(typed: str) -> None:
    with pytest.raises(SubscriptionError) as refused:
        normalise_email(typed)
    assert refused.value.reason == "bad_email"


def test_only_components_the_page_knows_can_be_chosen() -> None:
    assert chosen_components(["api"], ["api", "web"]) == {"api"}
    assert chosen_components([], ["api"]) == frozenset()
    with pytest.raises(SubscriptionError):
        chosen_components(["api", "<script>"], ["api", "web"])


def news(components: frozenset[str] = frozenset(), *, public: bool = True) -> PublicNews:
    return PublicNews(Notice.UPDATED, "Slow API", "Looking into it", components, public, "https://status.example/", "k")


def test_only_confirmed_subscribers_whose_components_match_are_mailed_and_only_for_public_news() -> None:
    everything = new_subscriber("all@example.com", frozenset(), NOW, "t1")
    api = new_subscriber("api@example.com", frozenset({"api"}), NOW, "t2")
    web = new_subscriber("web@example.com", frozenset({"web"}), NOW, "t3")
    pending = new_subscriber("pending@example.com", frozenset(), NOW, "t4")
    confirmed = [replace(s, confirmed_at=NOW) for s in (everything, api, web)]
    subscribers = [*confirmed, pending]

    assert [s.email for s in recipients(news(frozenset({"api"})), subscribers)] == [
        "all@example.com",
        "api@example.com",
    ]
    # An incident that names no component concerns the whole service.
    assert len(recipients(news(), subscribers)) == 3
    assert recipients(news(frozenset({"api"}), public=False), subscribers) == []


def test_a_confirmation_link_is_honoured_until_it_expires_and_not_once_changed() -> None:
    subscriber = new_subscriber("ada@example.com", frozenset(), NOW, "tok")
    link = confirm_link(BASE, subscriber, NOW, SECRET)
    assert link.startswith(BASE)
    claims = verify_link(query(link), SECRET, NOW + CONFIRM_LINK_LIFETIME - timedelta(seconds=1))
    assert (claims.action, claims.email, claims.token) == (LinkAction.CONFIRM, "ada@example.com", "tok")

    with pytest.raises(SubscriptionError) as late:
        verify_link(query(link), SECRET, NOW + CONFIRM_LINK_LIFETIME)
    assert late.value.reason == "expired"
    for name, value in [("m", "eve@example.com"), ("t", "other"), ("e", "9999999999"), ("a", "unsubscribe")]:
        with pytest.raises(SubscriptionError) as tampered:
            verify_link({**query(link), name: value}, SECRET, NOW)
        assert tampered.value.reason == "bad_signature"
    with pytest.raises(SubscriptionError):
        verify_link(query(link), b"t" * 32, NOW)
    with pytest.raises(SubscriptionError) as missing:
        verify_link({k: v for k, v in query(link).items() if k != "s"}, SECRET, NOW)
    assert missing.value.reason == "missing"


def test_an_unsubscribe_link_never_expires_and_no_other_signed_link_passes_as_one() -> None:
    subscriber = new_subscriber("ada@example.com", frozenset(), NOW, "tok")
    link = unsubscribe_link(BASE, subscriber, SECRET)
    claims = verify_link(query(link), SECRET, NOW + timedelta(days=3650))
    assert claims.action is LinkAction.UNSUBSCRIBE

    # Same secret, other kinds of link: neither an ack link's signature nor a confirmation's unsubscribes.
    confirm = query(confirm_link(BASE, subscriber, NOW, SECRET))
    with pytest.raises(SubscriptionError):
        verify_link({**confirm, "a": "unsubscribe"}, SECRET, NOW)
    ack = query(sign_ack_link(BASE, "INC-1", "ack", "ada", NOW + timedelta(hours=1), "nonce", SECRET))
    with pytest.raises(SubscriptionError):
        verify_link({"a": "unsubscribe", "m": "ada@example.com", "t": "tok", "s": ack["s"]}, SECRET, NOW)
    assert verify_ack_link(ack, SECRET, NOW).user == "ada"  # the ack links are as they were
