"""The status site, rendered from one StatusSnapshot: HTML pages, its stylesheet, an Atom feed and Statuspage's
public v2 JSON API (siren.render.status_api), as the objects the status bucket holds.

Pure: no I/O and no clock; every time shown comes from the snapshot, so rendering the same snapshot twice gives the
same bytes (the bucket skips unchanged objects, and a resolved incident's page stays byte-identical for good).

Every text in the snapshot was typed by a person (titles, update bodies) or read from configuration (page and
component names), and none of it is trusted: the HTML templates are autoescaped, the Atom feed escapes every value
for XML (the HTML it carries escaped first), ids in links are percent-encoded, and an incident id that could not be
a plain file name is refused before anything is rendered.

The pages carry no script, no inline style (no <style> element, no style attribute) and nothing from another
origin: their one stylesheet is published with the site under a name derived from its content. So the
Content-Security-Policy of siren.domain.status_headers (``default-src 'none'; style-src 'self'``...), which CloudFront
sends with every object and the local runtime too, holds them; tests/browser checks it in Chromium with the policy
enforced. They work in light and dark colour schemes, on a 375px phone, and state every status in words.

With a ``subscribe_url`` in the snapshot (checked by siren.domain.subscribe_form), the index has a "Get updates by
email" form: a plain HTML POST to it (the policy's ``form-action`` is that URL's origin), so it works without
JavaScript, which the pages never run anyway. The other pages and the JSON API do not read it.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from datetime import timedelta
from pathlib import Path

from markupsafe import Markup

from siren.domain.site import SiteEntry, SiteObject, SitePage
from siren.domain.status import PublicIncident, StatusSnapshot
from siren.render import status_view, templates, text
from siren.render.status_api import api_bodies
from siren.render.status_view import AffectedNames, entries, history_days, incident_path, require_safe_ids
from siren.render.templates import template
from siren.render.text import utc

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
CSS = "text/css; charset=utf-8"
# Live documents change with every publish: short, and a stale copy may be served while the next is fetched.
LIVE_CACHE = "public, max-age=30, stale-while-revalidate=30"
# A resolved incident's page no longer changes.
RESOLVED_CACHE = "public, max-age=300"
# The stylesheet's name changes with its content: a cached copy is never stale.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
STYLESHEET_PREFIX = "assets/site-"

INDEX_KEY = "index.html"
FEED_KEY = "history.atom"
HISTORY_PAGE_KEY = "history.html"
API_PREFIX = "api/v2/"

# The index shows the recent past only, so that it stays small (under 50 KB) whatever the history holds; the
# whole HISTORY_DAYS are on history.html.
INDEX_HISTORY_DAYS = 14
INDEX_HISTORY_LIMIT = 20


# -- the stylesheet ----------------------------------------------------------------------------------------
def _days_shown(snapshot: StatusSnapshot) -> int:
    return max((len(view.uptime_days) for view in snapshot.components), default=1) or 1


@functools.cache
def _stylesheet_for(days: int) -> SiteObject:
    """The site's one stylesheet, for rows of ``days`` bars (status/site.css.j2)."""
    body = template("status/site.css.j2").render(days=days).encode("utf-8")
    key = f"{STYLESHEET_PREFIX}{hashlib.sha256(body).hexdigest()[:16]}.css"
    return SiteObject(key, body, CSS, IMMUTABLE_CACHE)


def stylesheet(snapshot: StatusSnapshot) -> SiteObject:
    return _stylesheet_for(_days_shown(snapshot))


# -- HTML --------------------------------------------------------------------------------------------------
def _recent(snapshot: StatusSnapshot) -> tuple[list[PublicIncident], bool]:
    since = snapshot.generated_at - timedelta(days=INDEX_HISTORY_DAYS)
    recent = [i for i in snapshot.history if (i.resolved_at or i.updated_at) >= since][:INDEX_HISTORY_LIMIT]
    return recent, len(recent) < len(snapshot.history)


def render_index(snapshot: StatusSnapshot) -> str:
    maintenances = [(window, window.status(snapshot.generated_at)) for window in snapshot.maintenances]
    recent, more = _recent(snapshot)
    return template("status/index.html.j2").render(
        s=snapshot,
        title=snapshot.page_name,
        root="",
        stylesheet=stylesheet(snapshot).key,
        entries=entries(snapshot.components),
        history=history_days(recent),
        maintenances=maintenances,
        affected=AffectedNames(snapshot),
        more_history=more,
        shown_days=INDEX_HISTORY_DAYS,
    )


def render_history_page(snapshot: StatusSnapshot) -> str:
    """Every resolved incident of the last HISTORY_DAYS, by day."""
    return template("status/history.html.j2").render(
        s=snapshot,
        title=f"{snapshot.page_name} - incident history",
        root="",
        stylesheet=stylesheet(snapshot).key,
        history=history_days(snapshot.history),
    )


def render_incident_page(
    snapshot: StatusSnapshot, incident: PublicIncident, affected: AffectedNames | None = None
) -> str:
    """One incident's page. It reads nothing that changes once the incident is resolved (no generation time,
    no current component status), so a resolved incident's page keeps its bytes and can be cached longer."""
    require_safe_ids([incident])
    return template("status/incident.html.j2").render(
        s=snapshot,
        title=f"{incident.title} - {snapshot.page_name}",
        root="../",
        stylesheet=stylesheet(snapshot).key,
        incident=incident,
        affected=affected or AffectedNames(snapshot),
    )


@functools.cache
def renderer_version() -> str:
    """A digest of the code and templates that make an incident page, so that a deploy that changes how pages
    look renders them all again (an incident page's source includes it)."""
    digest = hashlib.sha256()
    modules = (sys.modules[__name__], status_view, templates, text)
    files = [Path(str(module.__file__)) for module in modules]
    for directory in (templates.TEMPLATE_DIR / "status", templates.COMPILED_DIR):
        if directory.is_dir():
            files += sorted(p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def incident_page_source(snapshot: StatusSnapshot, incident: PublicIncident, affected: AffectedNames) -> str:
    """A digest of everything ``render_incident_page`` reads: the incident, the page's name, the stylesheet it
    links, the names of the components it affects, and the renderer itself."""
    return _page_source(incident, snapshot.page_name, stylesheet(snapshot).key, tuple(affected(incident)))


@functools.lru_cache(maxsize=8192)
def _page_source(incident: PublicIncident, page_name: str, stylesheet_key: str, names: tuple[str, ...]) -> str:
    """Kept by its inputs (immutable values): a publish digests every incident it shows, most as they were."""
    inputs = (renderer_version(), page_name, stylesheet_key, list(names), repr(incident))
    return hashlib.sha256(repr(inputs).encode("utf-8")).hexdigest()


def incident_page(snapshot: StatusSnapshot, incident: PublicIncident, affected: AffectedNames) -> SitePage:
    """One incident's page, rendered only if the site does not hold it from the same source already."""

    def render() -> SiteObject:
        page = render_incident_page(snapshot, incident, affected).encode("utf-8")
        cache = RESOLVED_CACHE if incident.resolved else LIVE_CACHE
        return SiteObject(incident_path(incident.id), page, HTML, cache)

    return SitePage(incident_path(incident.id), incident_page_source(snapshot, incident, affected), render)


# -- Atom --------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _entry_html(incident: PublicIncident, names: tuple[str, ...]) -> Markup:
    """An incident's feed entry content (status/_feed_entry.html.j2), kept by what it shows (both arguments are
    immutable values)."""
    macro = template("status/_feed_entry.html.j2").module.entry_html  # type: ignore[attr-defined]
    return Markup(macro(incident, lambda _: list(names)))  # noqa: S704 (the macro's output, autoescaped)


@functools.lru_cache(maxsize=4096)
def _entry_xml(incident: PublicIncident, page_url: str, names: tuple[str, ...]) -> Markup:
    """An incident's whole Atom entry (status/_feed_entry.atom.j2), kept by what it shows: a warm publisher
    renders only the entries of incidents that changed, and joins the rest."""
    macro = template("status/_feed_entry.atom.j2").module.entry_xml  # type: ignore[attr-defined]
    return Markup(macro(incident, page_url, _entry_html(incident, names)))  # noqa: S704 (escaped by the macro)


def render_feed(snapshot: StatusSnapshot) -> bytes:
    """The incident history as Atom 1.0, newest change first. ``updated`` is the newest incident change (not the
    generation time), so the feed's bytes change only when an incident does."""
    require_safe_ids(snapshot.incidents)
    affected = AffectedNames(snapshot)
    incidents = sorted(snapshot.incidents, key=lambda incident: utc(incident.updated_at), reverse=True)
    feed = template("status/feed.atom.j2").render(
        s=snapshot,
        page_url=snapshot.page_url,
        feed_url=f"{snapshot.page_url}/{FEED_KEY}",
        title=f"{snapshot.page_name} status - incident history",
        updated=incidents[0].updated_at if incidents else snapshot.generated_at,
        incidents=incidents,
        entry_xml=lambda incident: _entry_xml(incident, snapshot.page_url, tuple(affected(incident))),
    )
    return feed.encode("utf-8")


# -- the site ----------------------------------------------------------------------------------------------
def site_stages(snapshot: StatusSnapshot) -> list[list[SiteEntry]]:
    """Every object of the site, in the stages it is written in (siren.ports.StatusSite.publish), incident pages
    as SitePages (rendered by the site only when their source changed), the rest rendered: the feed, the API,
    history and index read every incident and the time.

    Each stage only links to objects of the stages before it: the stylesheet, then the incident pages that link
    it, then the feed, the API and the history page that link those, and index.html LAST (a reader following a
    link from a freshly written index never lands on a missing page or style)."""
    require_safe_ids(snapshot.incidents)
    affected = AffectedNames(snapshot)
    pages: list[SiteEntry] = [incident_page(snapshot, incident, affected) for incident in snapshot.incidents]
    documents: list[SiteEntry] = [SiteObject(FEED_KEY, render_feed(snapshot), ATOM, LIVE_CACHE)]
    for path, body in api_bodies(snapshot).items():
        documents.append(SiteObject(API_PREFIX + path, body, JSON, LIVE_CACHE))
    documents.append(SiteObject(HISTORY_PAGE_KEY, render_history_page(snapshot).encode("utf-8"), HTML, LIVE_CACHE))
    index = SiteObject(INDEX_KEY, render_index(snapshot).encode("utf-8"), HTML, LIVE_CACHE)
    return [[stylesheet(snapshot)], pages, documents, [index]]


def rendered(entry: SiteEntry) -> SiteObject:
    return entry.render() if isinstance(entry, SitePage) else entry


def render_site(snapshot: StatusSnapshot) -> list[SiteObject]:
    """Every object of the site, every one rendered (what a first publish writes), in the order of site_stages."""
    return [rendered(entry) for stage in site_stages(snapshot) for entry in stage]
