"""The status site: escaped everywhere, no script, small, a well-formed feed, Statuspage's JSON, index written last."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from siren.domain.site import SiteObject
from siren.domain.status import (
    Component,
    ComponentStatus,
    ComponentView,
    Impact,
    Maintenance,
    PublicIncident,
    PublicStatus,
    PublicUpdate,
    StatusSnapshot,
    UptimeDay,
)
from siren.domain.status_headers import status_site_headers
from siren.render.status_api import first_published_in
from siren.render.status_site import render_site

NOW = datetime(2026, 11, 27, 3, 15, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ATOM = "{http://www.w3.org/2005/Atom}"


def days(bad: dict[int, tuple[float, ComponentStatus]] | None = None) -> tuple[UptimeDay, ...]:
    """90 days ending today; ``bad`` maps days-ago to (uptime, worst)."""
    bad = bad or {}
    today = NOW.date()
    return tuple(
        UptimeDay(today - timedelta(days=ago), *bad.get(ago, (1.0, ComponentStatus.OPERATIONAL)))
        for ago in range(89, -1, -1)
    )


def view(component: Component, status: ComponentStatus = ComponentStatus.OPERATIONAL, **bad) -> ComponentView:
    uptime = days(bad.get("bad"))
    return ComponentView(component, status, uptime, 100.0 * sum(d.uptime for d in uptime) / len(uptime))


UNRESOLVED = PublicIncident(
    id="INC-20261127-0200-abc123",
    title=f"Checkout errors {SCRIPT}",
    status=PublicStatus.IDENTIFIED,
    impact=Impact.MAJOR,
    component_ids=("website", "checkout-api"),
    component_status=ComponentStatus.PARTIAL_OUTAGE,
    created_at=NOW - timedelta(hours=1),
    updated_at=NOW - timedelta(minutes=10),
    resolved_at=None,
    updates=(
        PublicUpdate(NOW - timedelta(minutes=10), PublicStatus.IDENTIFIED, f"Found it {IMG}\nA second line"),
        PublicUpdate(NOW - timedelta(hours=1), PublicStatus.INVESTIGATING, f"Looking {SCRIPT}"),
    ),
)
RESOLVED = PublicIncident(
    id="INC-20261120-1000-def456",
    title="Slow search",
    status=PublicStatus.RESOLVED,
    impact=Impact.MINOR,
    component_ids=("search",),
    component_status=ComponentStatus.DEGRADED_PERFORMANCE,
    created_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
    updated_at=datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
    resolved_at=datetime(2026, 11, 20, 11, 0, tzinfo=UTC),
    updates=(
        PublicUpdate(datetime(2026, 11, 20, 11, 0, tzinfo=UTC), PublicStatus.RESOLVED, "Fixed."),
        PublicUpdate(datetime(2026, 11, 20, 10, 0, tzinfo=UTC), PublicStatus.INVESTIGATING, "Search is slow."),
    ),
)
MAINTENANCE = Maintenance(
    id="MNT-20261128-0200-aaaaaa",
    title="Database upgrade",
    component_ids=("checkout-api",),
    starts_at=datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
    ends_at=datetime(2026, 11, 28, 4, 0, tzinfo=UTC),
    body="Checkout may be slow.",
    created_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
)
WEBSITE = Component("website", f"Website {SCRIPT}", description=f"The shop {IMG}")
CHECKOUT = Component("checkout-api", "Checkout API", group="APIs")
SEARCH = Component("search", "Search", group="APIs")


def snapshot(**changes) -> StatusSnapshot:
    base = StatusSnapshot(
        page_name=f"Example {SCRIPT} Status",
        page_url="https://status.example.com",
        generated_at=NOW,
        components=(
            view(WEBSITE, ComponentStatus.PARTIAL_OUTAGE, bad={0: (0.95, ComponentStatus.PARTIAL_OUTAGE)}),
            view(CHECKOUT, ComponentStatus.PARTIAL_OUTAGE, bad={0: (0.95, ComponentStatus.PARTIAL_OUTAGE)}),
            view(SEARCH, bad={7: (1.0, ComponentStatus.DEGRADED_PERFORMANCE)}),
        ),
        indicator=Impact.MAJOR,
        description="Partial System Outage",
        unresolved=(UNRESOLVED,),
        history=(RESOLVED,),
        maintenances=(MAINTENANCE,),
    )
    return replace(base, **changes)


def site(snap: StatusSnapshot | None = None) -> dict[str, SiteObject]:
    return {obj.key: obj for obj in render_site(snap or snapshot())}


def stylesheet_of(objects: dict[str, SiteObject]) -> SiteObject:
    (key,) = [key for key in objects if key.endswith(".css")]
    return objects[key]


def text(obj: SiteObject) -> str:
    return obj.body.decode("utf-8")


def api(name: str, snap: StatusSnapshot | None = None) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(site(snap)[f"api/v2/{name}"].body)
    return document


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


def parsed(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def test_the_site_has_every_object_and_index_comes_last():
    objects = render_site(snapshot())
    keys = [obj.key for obj in objects]
    assert keys[-1] == "index.html"
    assert keys.count("index.html") == 1
    assert {
        "incidents/INC-20261127-0200-abc123.html",
        "incidents/INC-20261120-1000-def456.html",
        "history.atom",
        "api/v2/summary.json",
        "api/v2/status.json",
        "api/v2/components.json",
        "api/v2/incidents.json",
        "api/v2/incidents/unresolved.json",
        "api/v2/scheduled-maintenances.json",
    } <= set(keys)
    # Incident pages come before everything that links to them.
    assert max(keys.index(k) for k in keys if k.startswith("incidents/")) < keys.index("history.atom")


def test_every_object_has_a_content_type_and_caching():
    for obj in render_site(snapshot()):
        assert obj.body
        assert obj.content_type.endswith("; charset=utf-8")
        assert obj.cache_control.startswith("public, max-age=")
    objects = site()
    assert objects["index.html"].content_type == "text/html; charset=utf-8"
    assert objects["history.atom"].content_type == "application/atom+xml; charset=utf-8"
    assert objects["api/v2/summary.json"].content_type == "application/json; charset=utf-8"
    assert objects["index.html"].cache_control == "public, max-age=30, stale-while-revalidate=30"
    # A resolved incident's page no longer changes; an open one's does.
    assert objects["incidents/INC-20261120-1000-def456.html"].cache_control == "public, max-age=300"
    assert "max-age=30," in objects["incidents/INC-20261127-0200-abc123.html"].cache_control


def test_hostile_text_is_escaped_in_every_html_page():
    pages = [text(obj) for obj in render_site(snapshot()) if obj.content_type.startswith("text/html")]
    assert len(pages) == 4  # index, history, two incident pages
    for page in pages:
        assert "<script" not in page.lower()
        assert "<img" not in page.lower()
        tags = parsed(page)
        assert "script" not in tags.tags and "img" not in tags.tags
        assert not any(name.startswith("on") for name, _ in tags.attrs)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    index = text(site()["index.html"])
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in index  # the component description
    incident = text(site()["incidents/INC-20261127-0200-abc123.html"])
    assert "Found it &#34;&gt;&lt;img src=x onerror=alert(1)&gt;<br>A second line" in incident


def test_index_is_static_accessible_html():
    index = text(site()["index.html"])
    tags = parsed(index)
    assert index.startswith("<!doctype html>")
    assert '<html lang="en">' in index
    assert '<meta name="viewport"' in index
    assert tags.tags.count("h1") == 1
    assert {"header", "main", "footer", "time"} <= set(tags.tags)
    assert "script" not in tags.tags and "link" in tags.tags  # the feed's <link rel=alternate>, nothing external
    assert "http" not in "".join(value or "" for name, value in tags.attrs if name in {"src", "href"})
    css = text(stylesheet_of(site()))
    assert "@media (prefers-color-scheme:dark)" in css and ":focus-visible" in css
    # Statuses are words, not only colours.
    assert "Partial System Outage" in index and "Partial outage" in index and "Operational" in index
    assert "Major impact" in index and "Identified" in index
    # Times are readable UTC inside <time>.
    assert '<time datetime="2026-11-27T03:05:00Z">27 Nov 2026, 03:05 UTC</time>' in index


def test_index_shows_groups_bars_maintenance_and_history():
    index = text(site()["index.html"])
    # The group stands where its first component stands, after the ungrouped one.
    assert index.index("Website &lt;script") < index.index("<h3>APIs</h3>") < index.index("<h4>Checkout API</h4>")
    assert index.index("<h4>Checkout API</h4>") < index.index("<h4>Search</h4>")
    # One role=img row per component, each day described, and not 90 elements per row.
    assert index.count('role="img"') == 3
    assert "Days with incidents, newest first: 2026-11-27: 95% uptime, partial outage." in index
    assert '<i class="o g89"></i>\n<i class=p></i>' in index  # 89 good days, then today
    assert ".bars .g89{flex-grow:89}" in text(stylesheet_of(site()))  # outranks ".bars i" (flex:1 1 0)
    assert 'aria-label="Uptime over the last 90 days: 99.94 %.' in index
    assert "99.94 % uptime" in index and "100 % uptime" in index
    assert index.count("<i ") < 20
    assert "Database upgrade" in index and "Scheduled" in index
    assert 'href="incidents/INC-20261120-1000-def456.html"' in index
    assert 'href="history.atom"' in index and 'href="api/v2/summary.json"' in index


def test_incident_page_lists_every_update_newest_first():
    page = text(site()["incidents/INC-20261120-1000-def456.html"])
    assert page.index("Fixed.") < page.index("Search is slow.")
    assert "<h1>Slow search</h1>" in page and "Minor impact" in page and "Search" in page
    assert 'href="../index.html"' in page
    assert parsed(page).tags.count("h1") == 1


def big_snapshot() -> StatusSnapshot:
    components = tuple(
        view(
            Component(f"component-{n}", f"Component number {n}", "A description of this component", f"Group {n // 5}"),
            bad={n: (0.97, ComponentStatus.MAJOR_OUTAGE), n + 30: (0.99, ComponentStatus.PARTIAL_OUTAGE)},
        )
        for n in range(20)
    )
    history = tuple(
        replace(
            RESOLVED,
            id=f"INC-202611{(n % 27) + 1:02d}-1000-{n:06d}",
            title=f"Elevated error rates on component number {n} for some customers",
            component_ids=(f"component-{n % 20}",),
            resolved_at=NOW - timedelta(days=n, hours=1),
            updated_at=NOW - timedelta(days=n, hours=1),
        )
        for n in range(50)
    )
    return snapshot(components=components, history=history)


def test_index_stays_small_for_a_big_page():
    objects = site(big_snapshot())
    index = objects["index.html"]
    assert len(index.body) < 50_000
    assert text(index).count('role="img"') == 20
    assert len([key for key in objects if key.startswith("incidents/")]) == 51


def test_feed_is_well_formed_atom_and_hostile_text_round_trips():
    feed = ET.fromstring(site()["history.atom"].body)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "https://status.example.com/history.atom"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"self": "https://status.example.com/history.atom", "alternate": "https://status.example.com/"}
    assert feed.findtext(f"{ATOM}updated") == "2026-11-27T03:05:00Z"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    first = entries[0]  # newest change first
    assert first.findtext(f"{ATOM}title") == f"Checkout errors {SCRIPT}"
    assert first.findtext(f"{ATOM}id") == "https://status.example.com/incidents/INC-20261127-0200-abc123.html"
    content = first.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    # The content is HTML in which the hostile text is text: escaped once more, and no element of its own.
    assert "<img" not in (content.text or "") and "<script" not in (content.text or "")
    assert IMG in html.unescape(content.text or "")
    assert "img" not in parsed(content.text or "").tags
    assert entries[1].findtext(f"{ATOM}title") == "Slow search"


def test_feed_drops_characters_xml_cannot_carry():
    hostile = replace(RESOLVED, title="bell \x07 and nul \x00")
    feed = ET.fromstring(site(snapshot(history=(hostile,)))["history.atom"].body)
    assert feed.findall(f"{ATOM}entry")[1].findtext(f"{ATOM}title") == "bell  and nul "


def test_feed_escapes_text_and_attributes_a_stranger_could_have_typed():
    # GIVEN a page name, a base URL and a title with quotes, ampersands, markup and a line end
    page_url = 'https://status.example.com/a&b"c<d>'
    hostile = replace(RESOLVED, title=f"Q \"quoted\" & 'single' ]]> {SCRIPT}\nsecond line")
    body = site(snapshot(page_url=page_url, page_name=f"Name & {IMG}", history=(hostile,)))["history.atom"].body
    # WHEN an XML parser reads the feed THEN every value comes back exactly as typed, and nothing became markup
    feed = ET.fromstring(body)
    assert feed.findtext(f"{ATOM}title") == f"Name & {IMG} status - incident history"
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == f"Name & {IMG}"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"self": f"{page_url}/history.atom", "alternate": f"{page_url}/"}
    entry = feed.findall(f"{ATOM}entry")[1]
    assert entry.findtext(f"{ATOM}title") == hostile.title
    assert entry.find(f"{ATOM}link").get("href") == f"{page_url}/incidents/{RESOLVED.id}.html"
    assert {element.tag for element in feed.iter()} <= {f"{ATOM}{tag}" for tag in ATOM_TAGS}


ATOM_TAGS = ("feed", "id", "title", "updated", "link", "author", "name", "entry", "published", "content")


def test_summary_has_statuspage_shape():
    summary = api("summary.json")
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert summary["page"] == {
        "id": "example-script-alert-1-script-status",
        "name": f"Example {SCRIPT} Status",
        "url": "https://status.example.com",
        "time_zone": "UTC",
        "updated_at": "2026-11-27T03:15:00.000Z",
    }
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    by_id = {c["id"]: c for c in summary["components"]}
    assert [c["id"] for c in summary["components"]] == ["website", "group-apis", "checkout-api", "search"]
    assert [c["position"] for c in summary["components"]] == [1, 2, 3, 4]
    assert by_id["website"]["status"] == "partial_outage" and by_id["search"]["status"] == "operational"
    assert by_id["group-apis"]["group"] is True and by_id["group-apis"]["components"] == ["checkout-api", "search"]
    assert by_id["group-apis"]["status"] == "partial_outage"
    assert by_id["search"]["group_id"] == "group-apis" and by_id["website"]["group_id"] is None
    assert by_id["website"]["description"] == f"The shop {IMG}" and by_id["search"]["description"] is None
    assert set(by_id["search"]) >= {
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    }
    [incident] = summary["incidents"]
    assert incident["id"] == UNRESOLVED.id and incident["name"] == f"Checkout errors {SCRIPT}"
    assert incident["status"] == "identified" and incident["impact"] == "major" and incident["resolved_at"] is None
    assert incident["shortlink"] == "https://status.example.com/incidents/INC-20261127-0200-abc123.html"
    assert incident["created_at"] == "2026-11-27T02:15:00.000Z"
    assert [u["status"] for u in incident["incident_updates"]] == ["identified", "investigating"]
    assert [u["id"] for u in incident["incident_updates"]] == [f"{UNRESOLVED.id}-2", f"{UNRESOLVED.id}-1"]
    assert incident["incident_updates"][0]["body"] == f"Found it {IMG}\nA second line"
    assert [c["id"] for c in incident["components"]] == ["website", "checkout-api"]
    [window] = summary["scheduled_maintenances"]
    assert window["status"] == "scheduled" and window["impact"] == "maintenance"
    assert window["scheduled_for"] == "2026-11-28T02:00:00.000Z"
    assert window["scheduled_until"] == "2026-11-28T04:00:00.000Z"
    assert [c["id"] for c in window["components"]] == ["checkout-api"]


def test_json_is_compact_utf8():
    body = site(snapshot(page_name="Statut à Genève"))["api/v2/status.json"].body
    assert body.decode("utf-8").startswith('{"page":{"id":"statut-a-geneve","name":"Statut à Genève",')


def test_the_other_api_documents():
    assert set(api("status.json")) == {"page", "status"}
    components = api("components.json")["components"]
    assert [c["id"] for c in components] == ["website", "group-apis", "checkout-api", "search"]
    assert [i["id"] for i in api("incidents.json")["incidents"]] == [UNRESOLVED.id, RESOLVED.id]
    unresolved = api("incidents/unresolved.json")["incidents"]
    assert [i["id"] for i in unresolved] == [UNRESOLVED.id]
    assert all(i["resolved_at"] is None and i["status"] != "resolved" for i in unresolved)
    resolved = api("incidents.json")["incidents"][1]
    assert resolved["status"] == "resolved" and resolved["resolved_at"] == "2026-11-20T11:00:00.000Z"
    assert [m["id"] for m in api("scheduled-maintenances.json")["scheduled_maintenances"]] == [MAINTENANCE.id]


def test_maintenance_in_progress():
    started = snapshot(generated_at=datetime(2026, 11, 28, 3, 0, tzinfo=UTC))
    assert api("scheduled-maintenances.json", started)["scheduled_maintenances"][0]["status"] == "in_progress"
    assert "In progress" in text(site(started)["index.html"])


@pytest.mark.parametrize("bad_id", ["../etc/passwd", "INC-1.html", "INC 1", "INC/1", "", "INC-1\n", "é"])
def test_an_incident_id_that_is_not_a_plain_name_is_refused(bad_id):
    with pytest.raises(ValueError, match="cannot be a file name"):
        render_site(snapshot(history=(replace(RESOLVED, id=bad_id),)))


def test_empty_page():
    empty = snapshot(
        components=(),
        unresolved=(),
        history=(),
        maintenances=(),
        indicator=Impact.NONE,
        description="All Systems Operational",
    )
    objects = site(empty)
    index = text(objects["index.html"])
    assert "No incidents in the last 14 days." in index and "Active incidents" not in index
    assert ET.fromstring(objects["history.atom"].body).findall(f"{ATOM}entry") == []
    assert api("summary.json", empty)["incidents"] == []


def test_rendering_is_deterministic():
    assert render_site(snapshot()) == render_site(snapshot())
    # A resolved incident's page does not depend on when the site is generated.
    later = snapshot(generated_at=NOW + timedelta(days=1))
    key = "incidents/INC-20261120-1000-def456.html"
    assert site(later)[key] == site()[key]


def test_uptime_days_run_oldest_to_newest():
    assert days()[0].day == date(2026, 8, 30) and days()[-1].day == date(2026, 11, 27)


def test_the_index_shows_the_recent_past_and_links_the_whole_history():
    from siren.render.status_site import INDEX_HISTORY_LIMIT

    base = snapshot()
    resolved = base.history[0]
    many = tuple(
        replace(
            resolved,
            id=f"INC-OLD-{n:04d}",
            title=f"Old incident {n}",
            resolved_at=base.generated_at - timedelta(hours=n),
            updated_at=base.generated_at - timedelta(hours=n),
        )
        for n in range(1, 1000)
    )
    site_objects = {obj.key: obj for obj in render_site(replace(base, history=many))}
    index = site_objects["index.html"].body.decode()
    history = site_objects["history.html"].body.decode()
    assert index.count("Old incident ") == INDEX_HISTORY_LIMIT and 'href="history.html"' in index
    assert history.count("Old incident ") == 999
    assert len(site_objects["index.html"].body) < 50_000


def test_the_index_stays_under_50_kb_when_every_day_of_every_component_differs():
    cycle = [ComponentStatus.DEGRADED_PERFORMANCE, ComponentStatus.PARTIAL_OUTAGE, ComponentStatus.MAJOR_OUTAGE]
    busy = {ago: (0.9 - ago / 1000, cycle[ago % 3]) for ago in range(90)}
    views = tuple(
        view(
            Component(f"component-{n:02d}", f"Component number {n:02d}", "A part of the product", f"Group {n // 5}"),
            ComponentStatus.PARTIAL_OUTAGE,
            bad=busy,
        )
        for n in range(20)
    )
    index = render_site(replace(snapshot(), components=views))[-1]
    assert index.key == "index.html"
    assert len(index.body) < 50_000, len(index.body)
    assert index.body.count(b"<i class=") == 20 * 90  # every day drawn, none merged


class _Inline(HTMLParser):
    """What a CSP of ``default-src 'none'; style-src 'self'; img-src data:`` would refuse in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in {"script", "style", "iframe", "object", "embed", "form", "base"}:
            self.refused.append(f"<{tag}>")
        if "style" in values:
            self.refused.append(f"style attribute on <{tag}>")
        self.refused.extend(f"{name} handler on <{tag}>" for name in values if name.startswith("on"))
        if tag == "img" and not (values.get("src") or "").startswith("data:"):
            self.refused.append("img from the network")
        if tag == "link" and values.get("rel") == "icon" and not (values.get("href") or "").startswith("data:"):
            self.refused.append("icon from the network")
        if tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values.get("href") or "")


def test_every_page_satisfies_the_csp_it_is_served_with():
    """No inline style (it used to be a <style> element and style attributes), no script, nothing from another
    origin: the one stylesheet is a site object, linked relative to each page."""
    csp = status_site_headers()["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    objects = site()
    css = stylesheet_of(objects)
    assert css.content_type == "text/css; charset=utf-8" and css.cache_control.endswith("immutable")
    pages = {key: obj for key, obj in objects.items() if obj.content_type.startswith("text/html")}
    assert len(pages) == 4
    for key, obj in pages.items():
        found = _Inline()
        found.feed(text(obj))
        assert found.refused == [], (key, found.refused)
        depth = key.count("/")
        assert found.stylesheets == ["../" * depth + css.key], key
    assert "url(" not in text(css) and "@import" not in text(css)  # the stylesheet loads nothing either


def test_the_stylesheet_comes_first_and_its_name_follows_its_content():
    objects = render_site(snapshot())
    assert objects[0].key.startswith("assets/site-") and objects[0].key.endswith(".css")
    fewer_days = replace(
        snapshot(), components=tuple(replace(v, uptime_days=v.uptime_days[-30:]) for v in snapshot().components)
    )
    other = render_site(fewer_days)[0]
    assert other.key != objects[0].key and b".g30{" in other.body and b".g31{" not in other.body


def test_updates_carry_statuspages_notification_and_tweet_fields():
    for name in ("summary.json", "incidents.json"):
        for incident in api(name)["incidents"] + api("scheduled-maintenances.json")["scheduled_maintenances"]:
            for update in incident["incident_updates"]:
                assert update["deliver_notifications"] is True
                assert update["custom_tweet"] is None and update["tweet_id"] is None


def test_components_have_the_created_at_they_were_first_published_with():
    first = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
    base = snapshot()
    views = tuple(replace(v, created_at=first + timedelta(days=n)) for n, v in enumerate(base.components))
    components = {c["id"]: c for c in api("components.json", replace(base, components=views))["components"]}
    assert components["website"]["created_at"] == "2026-01-05T08:30:00.000Z"
    assert components["search"]["created_at"] == "2026-01-07T08:30:00.000Z"
    assert components["group-apis"]["created_at"] == "2026-01-06T08:30:00.000Z"  # its first member's
    # Read back from the published document, exactly (groups are not components of their own).
    published = site(replace(base, components=views))["api/v2/components.json"].body
    assert first_published_in(published) == {v.component.id: v.created_at for v in views}


def test_no_component_has_a_null_created_at():
    for document in ("summary.json", "components.json"):
        assert all(c["created_at"] for c in api(document)["components"])


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"not json",
        b"[]",
        b'{"components": 3}',
        b'{"components": [{"id": "x", "created_at": "yesterday"}]}',
        b'{"components": [{"id": "x", "created_at": "2026-01-01T00:00:00"}]}',
        b'{"components": [7, null]}',
    ],
)
def test_an_unreadable_published_document_means_never_published(document):
    assert first_published_in(document) == {}
