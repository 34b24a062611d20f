"""The status page's "Get updates by email" form (issue 16): on the index only when the snapshot has a subscribe URL,
a plain HTML POST to it with an email field and the page's components as optional checkboxes; the URL is checked
(https, or http to a loopback host: the local runtime) and escaped; the page's CSP lets forms post to that URL's
origin only; the JSON API and the other pages are the same with or without it.

GIVEN a snapshot (or a StatusPage on the fakes) with or without a subscriptions URL, WHEN it is rendered (published),
THEN the form, the headers and the API are as above.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from siren.app.status_page import StatusPage
from siren.config import load_config
from siren.domain.status_headers import status_site_headers
from siren.domain.subscribe_form import FormUrlError, subscribe_action, subscriptions_origin
from siren.render.status_site import render_site
from tests.fakes import FakeStatusSite, FakeStore
from tests.unit.test_status_render import CHECKOUT, SCRIPT, SEARCH, WEBSITE, snapshot, stylesheet_of, text

FORM_URL = "https://abc123.lambda-url.eu-west-1.on.aws/"
ACTION = "https://abc123.lambda-url.eu-west-1.on.aws/subscribe"
LOCAL_URL = "http://127.0.0.1:45678/_siren/function-url/0123abcd/"
CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")


class _Form(HTMLParser):
    """The index's forms, their fields and labels."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.inputs: list[dict[str, str | None]] = []
        self.labels: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "form":
            self.forms.append(values)
        elif tag == "input":
            self.inputs.append(values)
        elif tag == "label":
            self.labels.append(values.get("for") or "")


def index_form(subscribe_url: str | None) -> tuple[str, _Form]:
    index = text({o.key: o for o in render_site(snapshot(subscribe_url=subscribe_url))}["index.html"])
    found = _Form()
    found.feed(index)
    return index, found


# -- the template ------------------------------------------------------------------------------------------------
def test_without_a_subscribe_url_the_page_has_no_form():
    index, found = index_form(None)
    assert found.forms == [] and found.inputs == []
    assert "Get updates by email" not in index


def test_the_form_posts_the_email_and_the_pages_components_to_the_subscribe_url():
    index, found = index_form(ACTION)
    assert found.forms == [{"class": "card subscribe", "method": "post", "action": ACTION}]
    (email,) = [field for field in found.inputs if field.get("type") == "email"]
    # required, a label of its own, and the browser's address autofill
    assert email["name"] == "email" and "required" in email and email["autocomplete"] == "email"
    assert email["id"] in found.labels
    boxes = [field for field in found.inputs if field.get("type") == "checkbox"]
    assert [box["value"] for box in boxes] == [WEBSITE.id, CHECKOUT.id, SEARCH.id]  # the page's order
    assert {box["name"] for box in boxes} == {"component"}  # siren.app.subscription_links reads these names
    assert all(box["id"] in found.labels for box in boxes)
    assert "fieldset" in found.tags and "legend" in found.tags and "button" in found.tags
    assert "script" not in found.tags
    # Component names are escaped like everywhere else on the page.
    assert f"Website {SCRIPT}" not in index and "Website &lt;script&gt;" in index


def test_the_subscribe_url_is_escaped_in_the_action():
    """Checked URLs have nothing to escape (siren.domain.subscribe_form refuses quotes), but the template does not
    rely on it."""
    index, found = index_form('https://x.example/"><script>alert(1)</script>')
    assert "<script>alert(1)" not in index
    assert found.forms[0]["action"] == 'https://x.example/"><script>alert(1)</script>'


def test_the_stylesheet_styles_the_form_and_shows_its_focus():
    css = text(stylesheet_of({o.key: o for o in render_site(snapshot(subscribe_url=ACTION))}))
    assert ".subscribe button" in css and ".subscribe input:focus-visible" in css


def test_the_form_changes_the_index_only_not_the_api_nor_the_other_pages():
    without = {o.key: o.body for o in render_site(snapshot())}
    with_form = {o.key: o.body for o in render_site(snapshot(subscribe_url=ACTION))}
    assert without.keys() == with_form.keys()
    changed = {key for key in without if without[key] != with_form[key]}
    assert changed == {"index.html"}  # the JSON API (Statuspage's shape), the feed, history and incident pages
    assert all(ACTION not in body.decode() for key, body in with_form.items() if key.startswith("api/"))


# -- the URL -----------------------------------------------------------------------------------------------------
def test_a_function_url_becomes_its_subscribe_action_and_origin():
    assert subscribe_action(FORM_URL) == ACTION
    assert subscriptions_origin(FORM_URL) == "https://abc123.lambda-url.eu-west-1.on.aws"
    assert subscribe_action(LOCAL_URL) == "http://127.0.0.1:45678/_siren/function-url/0123abcd/subscribe"
    assert subscriptions_origin(LOCAL_URL) == "http://127.0.0.1:45678"
    assert subscribe_action("https://Forms.Example.com:8443/base") == "https://forms.example.com:8443/base/subscribe"


@pytest.mark.parametrize(
    "url",
    [
        "http://abc123.lambda-url.eu-west-1.on.aws/",  # clear text to a remote host
        "in-process:///_siren/function-url/abc/",  # the in-process runtime's placeholder: no browser reaches it
        "javascript:alert(1)",
        "//abc123.lambda-url.eu-west-1.on.aws/",
        "https://user:pass@abc123.lambda-url.eu-west-1.on.aws/",
        "https://abc123.lambda-url.eu-west-1.on.aws/?next=x",
        "https://abc123.lambda-url.eu-west-1.on.aws/#x",
        'https://abc123.lambda-url.eu-west-1.on.aws/"onmouseover="x',
        "https://abc 123.example/",
        "https://",
        "https://example.com:99999/",
    ],
)
def test_a_url_the_page_must_not_post_to_is_refused(url):
    with pytest.raises(FormUrlError):
        subscribe_action(url)


# -- the headers -------------------------------------------------------------------------------------------------
def directives(headers: dict[str, str]) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in headers["Content-Security-Policy"].split("; ")}


def test_form_action_is_the_subscriptions_origin_and_nothing_else_changes():
    with_form, without = directives(status_site_headers(FORM_URL)), directives(status_site_headers())
    assert with_form["form-action"] == ["https://abc123.lambda-url.eu-west-1.on.aws"]
    assert without["form-action"] == ["'none'"]
    assert {k: v for k, v in with_form.items() if k != "form-action"} == {
        k: v for k, v in without.items() if k != "form-action"
    }
    with pytest.raises(FormUrlError):
        status_site_headers("http://abc123.lambda-url.eu-west-1.on.aws/")


# -- the snapshot ------------------------------------------------------------------------------------------------
NOW = datetime(2026, 11, 27, 3, 15, tzinfo=UTC)


def publish(subscriptions_url: str) -> FakeStatusSite:
    store, site = FakeStore(), FakeStatusSite()
    StatusPage(
        store.incidents,
        store.status_page,
        CONFIG,
        "https://status.example.com",
        clock=lambda: NOW,
        subscriptions_url=subscriptions_url,
    ).publish(site)
    return site


def test_the_snapshot_carries_the_checked_subscribe_url_and_the_published_index_has_the_form():
    store = FakeStore()
    page = StatusPage(
        store.incidents,
        store.status_page,
        CONFIG,
        "https://status.example.com",
        clock=lambda: NOW,
        subscriptions_url=FORM_URL,
    )
    assert page.snapshot().subscribe_url == ACTION
    index = publish(FORM_URL).objects["index.html"].body.decode()
    assert f'action="{ACTION}"' in index


def test_no_or_a_refused_subscriptions_url_publishes_the_page_without_a_form():
    for url in ("", "http://abc123.lambda-url.eu-west-1.on.aws/"):
        site = publish(url)
        assert "index.html" in site.objects and "<form" not in site.objects["index.html"].body.decode()


def test_the_public_bucket_gets_the_forms_address_and_nothing_else_of_subscriptions():
    """The form's URL is public by design (the page posts to it); the same objects are published without it, and
    only the index differs (the stylesheet too: it has the form's rules either way)."""
    with_form, without = publish(FORM_URL).objects, publish("").objects
    assert with_form.keys() == without.keys()
    assert {key for key in with_form if with_form[key].body != without[key].body} == {"index.html"}
