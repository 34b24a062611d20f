"""The subscriptions function URL on fakes (no AWS): the page's form subscribes, a mail's link opened changes
nothing (a button posts it), the button confirms or unsubscribes, RFC 8058's one-click POST unsubscribes with no
interaction, and every answer is an escaped page with the ack pages' security headers.

GIVEN the use case on fakes WHEN a function URL event (payload 2.0) arrives THEN the page, its status, and what was
stored and mailed (the fakes record both).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from siren.app.subscription_links import SubscriptionEndpoint
from siren.app.subscriptions import SubscriptionService, SubscriptionSettings
from siren.domain.subscriptions import ONE_CLICK, SubscriberMail
from siren.render.ack_pages import SECURITY_HEADERS
from tests.fakes import FakeRequestRates, FakeSubscriberMailer, FakeSubscribers

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DOMAIN = "abc123.lambda-url.us-east-1.on.aws"
SOURCE_IP = "198.51.100.7"


class World:
    def __init__(self, link_base_url: str = "", limit_reached_after: int = 1000) -> None:
        self.subscribers = FakeSubscribers()
        self.mailer = FakeSubscriberMailer()
        self.rates = FakeRequestRates(limit_reached_after)
        service = SubscriptionService(
            subscribers=self.subscribers,
            mailer=self.mailer,
            rates=self.rates,
            secret=lambda: b"k" * 32,
            settings=SubscriptionSettings("Acme <Cloud>", link_base_url, frozenset({"api", "web"})),
        )
        self.endpoint = SubscriptionEndpoint(service, clock=lambda: NOW)

    def request(self, method: str, path: str = "/", query: str = "", body: str = "") -> dict[str, Any]:
        event = {
            "version": "2.0",
            "rawPath": path,
            "rawQueryString": query,
            "headers": {"content-type": "application/x-www-form-urlencoded"},
            "requestContext": {"domainName": DOMAIN, "http": {"method": method, "sourceIp": SOURCE_IP}},
            "body": body,
            "isBase64Encoded": False,
        }
        return self.endpoint.handle(event).to_lambda()

    def subscribe(self, fields: list[tuple[str, str]]) -> dict[str, Any]:
        return self.request("POST", "/subscribe", body=urlencode(fields))

    def last_mail(self, to: str) -> SubscriberMail:
        return self.mailer.to(to)[-1]


def confirm_url(mail: SubscriberMail) -> str:
    return next(line for line in mail.text.splitlines() if "a=confirm" in line)


def unsubscribe_url(mail: SubscriberMail) -> str:
    return dict(mail.headers)["List-Unsubscribe"].strip("<>")


def hidden_fields(html: str) -> dict[str, str]:
    return {
        unescape(n): unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)
    }


def test_the_form_subscribes_with_a_confirmation_linking_back_to_the_url_it_was_posted_to():
    world = World()

    answer = world.subscribe([("email", "Ada@Example.com"), ("component", "api")])

    assert answer["statusCode"] == 200
    assert answer["headers"] == SECURITY_HEADERS
    assert "Check your inbox" in answer["body"]
    [mail] = world.mailer.sent
    assert mail.to == "ada@example.com"
    assert confirm_url(mail).startswith(f"https://{DOMAIN}/?a=confirm&")
    assert world.subscribers.subscriber("ada@example.com").components == {"api"}  # type: ignore[union-attr]


def test_a_configured_link_base_wins_over_the_request_domain():
    world = World("https://subscribe.acme.example/")
    world.subscribe([("email", "ada@example.com")])
    assert confirm_url(world.mailer.sent[0]).startswith("https://subscribe.acme.example/?a=confirm&")


def test_a_form_without_one_email_or_with_unknown_components_is_refused_and_mails_nothing():
    world = World()
    for fields in (
        [],
        [("email", "a@example.com"), ("email", "b@example.com")],
        [("email", "not an address")],
        [("email", "a@example.com"), ("component", "billing")],
    ):
        assert world.subscribe(fields)["statusCode"] == 400
    assert world.request("POST", "/subscribe", body="%zz=&&=")["statusCode"] == 400
    assert world.mailer.sent == []


def test_too_many_requests_from_one_source_are_429():
    world = World(limit_reached_after=0)
    answer = world.subscribe([("email", "ada@example.com")])
    assert answer["statusCode"] == 429
    assert world.rates.taken == [f"subscribe-ip#{SOURCE_IP}"]
    assert world.mailer.sent == []


def test_opening_the_confirm_link_changes_nothing_and_its_button_confirms():
    world = World()
    world.subscribe([("email", "ada@example.com")])
    url = urlsplit(confirm_url(world.last_mail("ada@example.com")))

    page = world.request("GET", url.path, url.query)

    assert page["statusCode"] == 200
    assert not world.subscribers.subscriber("ada@example.com").confirmed  # type: ignore[union-attr]
    form = hidden_fields(page["body"])
    assert form == dict(parse_qsl(url.query))
    assert "<button" in page["body"]

    done = world.request("POST", url.path, url.query, urlencode(form))

    assert (done["statusCode"], "Subscribed" in done["body"]) == (200, True)
    assert world.subscribers.subscriber("ada@example.com").confirmed  # type: ignore[union-attr]


def test_a_tampered_confirm_form_is_refused():
    world = World()
    world.subscribe([("email", "ada@example.com")])
    form = dict(parse_qsl(urlsplit(confirm_url(world.last_mail("ada@example.com"))).query))

    answer = world.request("POST", "/", body=urlencode({**form, "m": "eve@example.com"}))

    assert answer["statusCode"] == 403
    assert not world.subscribers.subscriber("ada@example.com").confirmed  # type: ignore[union-attr]


def confirmed(world: World, email: str) -> SubscriberMail:
    world.subscribe([("email", email)])
    mail = world.last_mail(email)
    world.request("POST", "/", body=urlsplit(confirm_url(mail)).query)
    assert world.subscribers.subscriber(email).confirmed  # type: ignore[union-attr]
    return mail


def test_the_one_click_post_unsubscribes_with_no_interaction():
    # GIVEN a confirmed subscriber WHEN the mail client POSTs List-Unsubscribe=One-Click to the header's URL
    # THEN 200 and the subscription is gone
    world = World()
    url = urlsplit(unsubscribe_url(confirmed(world, "ada@example.com")))

    answer = world.request("POST", url.path, url.query, ONE_CLICK)

    assert answer["statusCode"] == 200
    assert world.subscribers.subscriber("ada@example.com") is None


def test_the_one_click_post_with_a_forged_query_removes_nothing():
    world = World()
    url = urlsplit(unsubscribe_url(confirmed(world, "ada@example.com")))
    forged = url.query.replace("s=", "s=0")

    assert world.request("POST", url.path, forged, ONE_CLICK)["statusCode"] == 403
    assert world.subscribers.subscriber("ada@example.com") is not None


def test_opening_the_unsubscribe_link_asks_and_its_button_unsubscribes():
    world = World()
    url = urlsplit(unsubscribe_url(confirmed(world, "ada@example.com")))

    page = world.request("GET", url.path, url.query)
    assert page["statusCode"] == 200 and world.subscribers.subscriber("ada@example.com") is not None

    answer = world.request("POST", url.path, url.query, urlencode(hidden_fields(page["body"])))
    assert answer["statusCode"] == 200 and "Unsubscribed" in answer["body"]
    assert world.subscribers.subscriber("ada@example.com") is None


def test_what_the_pages_show_is_escaped():
    world = World()
    page = world.request(
        "GET", "/", urlencode({"a": "confirm", "m": "<script>x</script>", "t": "t", "e": "1", "s": "s"})
    )
    assert "<script>" not in page["body"] and "&lt;script&gt;" in page["body"]
    assert "Acme &lt;Cloud&gt;" in page["body"]


def test_other_methods_are_405_with_allow_and_other_links_404():
    world = World()
    refused = world.request("DELETE")
    assert refused["statusCode"] == 405 and refused["headers"]["allow"] == "GET, POST"
    assert world.request("GET")["statusCode"] == 404
