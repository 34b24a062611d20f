"""The status site, rendered from one StatusSnapshot: HTML pages, an Atom feed and Statuspage's public v2 JSON API.

Pure: no I/O and no clock; every time shown comes from the snapshot, so rendering the same snapshot twice gives the
same bytes (the bucket skips unchanged objects, and a resolved incident's page stays byte-identical for good).

Every text in the snapshot was typed by a person (titles, update bodies) or read from configuration (page and
component names), and none of it is trusted: HTML is autoescaped by Jinja2, the Atom feed is built with ElementTree
(which escapes for XML) around HTML that was escaped first, ids in links are percent-encoded, and an incident id
that could not be a plain file name is refused before anything is rendered.

The pages carry no script, no inline style (no <style> element, no style attribute) and nothing from another
origin: their one stylesheet is published with the site under a name derived from its content. So the
Content-Security-Policy of siren.domain.status_headers (``default-src 'none'; style-src 'self'``...), which CloudFront
sends with every object and the local runtime too, holds them; tests/browser checks it in Chromium with the policy
enforced. They work in light and dark colour schemes, on a 375px phone, and state every status in words.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from siren.domain.status import (
    COMPONENT_STATUS_TEXT,
    HISTORY_DAYS,
    ComponentStatus,
    ComponentView,
    Impact,
    Maintenance,
    MaintenanceStatus,
    PublicIncident,
    PublicStatus,
    StatusSnapshot,
    UptimeDay,
    worst,
)

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

ATOM_NS = "http://www.w3.org/2005/Atom"
INDEX_KEY = "index.html"
FEED_KEY = "history.atom"
API_PREFIX = "api/v2/"

# Incident ids become S3 keys and file names: nothing that could climb a path, hide a suffix or need quoting.
_SAFE_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
# Characters XML 1.0 does not allow at all (escaping cannot save them): dropped from the feed.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# How many imperfect days a row of uptime bars names in its spoken summary (the rest are counted).
_SPOKEN_DAYS = 5

PUBLIC_STATUS_TEXT = {
    PublicStatus.INVESTIGATING: "Investigating",
    PublicStatus.IDENTIFIED: "Identified",
    PublicStatus.MONITORING: "Monitoring",
    PublicStatus.RESOLVED: "Resolved",
}
IMPACT_TEXT = {
    Impact.NONE: "No impact",
    Impact.MINOR: "Minor impact",
    Impact.MAJOR: "Major impact",
    Impact.CRITICAL: "Critical impact",
    Impact.MAINTENANCE: "Maintenance",
}
MAINTENANCE_STATUS_TEXT = {
    MaintenanceStatus.SCHEDULED: "Scheduled",
    MaintenanceStatus.IN_PROGRESS: "In progress",
    MaintenanceStatus.COMPLETED: "Completed",
}
# An impact is drawn in the colour of the component status that causes it.
_IMPACT_COLOUR = {
    Impact.NONE: ComponentStatus.OPERATIONAL,
    Impact.MINOR: ComponentStatus.DEGRADED_PERFORMANCE,
    Impact.MAJOR: ComponentStatus.PARTIAL_OUTAGE,
    Impact.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
    Impact.MAINTENANCE: ComponentStatus.UNDER_MAINTENANCE,
}


@dataclass(frozen=True, slots=True)
class SiteObject:
    """One object of the status bucket, with the headers it is served with."""

    key: str  # S3 key, e.g. "index.html", "incidents/INC-20261126-2341-3f9c1a.html", "api/v2/summary.json"
    body: bytes
    content_type: str
    cache_control: str


# -- text --------------------------------------------------------------------------------------------------
def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _display_time(at: datetime) -> str:
    """'27 Nov 2026, 03:15 UTC': month names are spelled here, not by the process locale."""
    moment = _utc(at)
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M} UTC"


def _display_day(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _api_time(at: datetime | None) -> str | None:
    """Statuspage's timestamps: ISO 8601 in UTC with milliseconds, '2026-11-27T03:15:00.000Z'."""
    if at is None:
        return None
    moment = _utc(at)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _percent(value: float) -> str:
    """A percentage rounded down to two decimals, trailing zeros dropped: 99.999 is '99.99', never '100'."""
    floored = math.floor(round(value * 100, 6)) / 100
    return f"{floored:.2f}".rstrip("0").rstrip(".")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _when(at: datetime) -> Markup:
    moment = _utc(at)
    return Markup('<time datetime="{}">{}</time>').format(f"{moment:%Y-%m-%dT%H:%M:%SZ}", _display_time(moment))


def _paragraphs(text: str) -> Markup:
    """Escaped text as HTML paragraphs: a blank line starts a paragraph, a single newline becomes <br>."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    blocks = [block.strip() for block in re.split(r"\n[ \t]*\n", lines) if block.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in block.split("\n"))) for block in blocks
    )


def _url_part(value: str) -> str:
    return quote(value, safe="")


def _incident_path(incident_id: str) -> str:
    return f"incidents/{_url_part(incident_id)}.html"


def require_safe_ids(incidents: Iterable[PublicIncident]) -> None:
    """Refuses an incident id that could not be a plain file name (Siren's are 'INC-20261126-2341-3f9c1a')."""
    for incident in incidents:
        if not _SAFE_ID.fullmatch(incident.id):
            raise ValueError(f"incident id {incident.id!r} cannot be a file name: only A-Z, a-z, 0-9 and '-'")


# -- what the templates read -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Bar:
    """Consecutive days that look alike, drawn as one flex item ``days`` bars wide (the separators are painted
    over it), so 20 components of 90 days stay a few kilobytes instead of 1,800 elements."""

    days: int
    status: ComponentStatus

    @property
    def code(self) -> str:
        return _BAR_CODES[self.status]


# One-letter classes for bars: 20 components x 90 days must fit the index's 50 KB even when every day differs.
_BAR_CODES = {
    ComponentStatus.OPERATIONAL: "o",
    ComponentStatus.DEGRADED_PERFORMANCE: "d",
    ComponentStatus.PARTIAL_OUTAGE: "p",
    ComponentStatus.MAJOR_OUTAGE: "m",
    ComponentStatus.UNDER_MAINTENANCE: "u",
}


@dataclass(frozen=True, slots=True)
class _ComponentRow:
    view: ComponentView
    bars: tuple[_Bar, ...]
    summary: str  # the spoken summary of the bars (aria-label)
    uptime: str  # "99.95"


@dataclass(slots=True)
class _Entry:
    """A component shown on its own (``name`` None) or a group of components under its name."""

    name: str | None
    group_id: str | None
    rows: list[_ComponentRow] = field(default_factory=list)

    @property
    def status(self) -> ComponentStatus:
        return worst(row.view.status for row in self.rows)


@dataclass(frozen=True, slots=True)
class _Day:
    day: date
    label: str
    incidents: tuple[PublicIncident, ...]


def _day_title(day: UptimeDay) -> str:
    text = f"{day.day.isoformat()}: {_percent(day.uptime * 100)}% uptime"
    if day.worst is not ComponentStatus.OPERATIONAL:
        text += f", {COMPONENT_STATUS_TEXT[day.worst].lower()}"
    return text


def _bars(days: Sequence[UptimeDay]) -> tuple[_Bar, ...]:
    """Runs of days with the same worst status, as one bar each; the numbers are in the row's spoken summary."""
    runs: list[list[UptimeDay]] = []
    for day in days:
        if runs and runs[-1][0].worst == day.worst:
            runs[-1].append(day)
        else:
            runs.append([day])
    return tuple(_Bar(len(run), run[0].worst) for run in runs)


def _bars_summary(view: ComponentView) -> str:
    days = view.uptime_days
    text = f"Uptime over the last {len(days)} days: {_percent(view.uptime_percent)} %."
    imperfect = [day for day in reversed(days) if day.worst is not ComponentStatus.OPERATIONAL or day.uptime < 1.0]
    if not imperfect:
        return f"{text} No incidents."
    named = "; ".join(_day_title(day) for day in imperfect[:_SPOKEN_DAYS])
    more = f"; and {len(imperfect) - _SPOKEN_DAYS} more" if len(imperfect) > _SPOKEN_DAYS else ""
    return f"{text} Days with incidents, newest first: {named}{more}."


def _group_ids(views: Sequence[ComponentView]) -> dict[str, str]:
    """A stable id per group name, distinct from every component id (Statuspage groups are components too)."""
    taken = {view.component.id for view in views}
    ids: dict[str, str] = {}
    for view in views:
        name = view.component.group
        if name is None or name in ids:
            continue
        candidate = "group-" + (_slug(name) or "components")
        while candidate in taken:
            candidate += "-group"
        taken.add(candidate)
        ids[name] = candidate
    return ids


def _entries(views: Sequence[ComponentView]) -> list[_Entry]:
    """Components in configuration order; a group stands where its first component stands."""
    group_ids = _group_ids(views)
    entries: list[_Entry] = []
    groups: dict[str, _Entry] = {}
    for view in views:
        row = _ComponentRow(view, _bars(view.uptime_days), _bars_summary(view), _percent(view.uptime_percent))
        name = view.component.group
        if name is None:
            entries.append(_Entry(None, None, [row]))
            continue
        if name not in groups:
            groups[name] = _Entry(name, group_ids[name])
            entries.append(groups[name])
        groups[name].rows.append(row)
    return entries


def _history_days(history: Sequence[PublicIncident]) -> list[_Day]:
    by_day: dict[date, list[PublicIncident]] = {}
    for incident in history:
        by_day.setdefault(_utc(incident.resolved_at or incident.updated_at).date(), []).append(incident)
    return [_Day(day, _display_day(day), tuple(by_day[day])) for day in sorted(by_day, reverse=True)]


def _component_names(snapshot: StatusSnapshot, incident_components: Sequence[str]) -> list[str]:
    names = {view.component.id: view.component.name for view in snapshot.components}
    return [names[cid] for cid in incident_components if cid in names]


# -- HTML --------------------------------------------------------------------------------------------------
# One colour per status, in both schemes; every text colour here is at least 4.5:1 on its background (page and
# card), and banner text (--on) at least 4.5:1 on every status colour. `.s-*` classes set --x for whatever
# draws the status: text, bar, border or banner.
_CSS = (
    ":root{color-scheme:light dark;--bg:#f6f8fa;--card:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;"
    "--link:#0969da;--on:#fff;--operational:#1a7f37;--degraded_performance:#9a6700;--partial_outage:#bc4c00;"
    "--major_outage:#d1242f;--under_maintenance:#0969da}\n"
    "@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#151b23;--fg:#f0f6fc;--muted:#9198a1;"
    "--line:#3d444d;--link:#4493f8;--on:#0d1117;--operational:#3fb950;--degraded_performance:#d29922;"
    "--partial_outage:#db6d28;--major_outage:#f85149;--under_maintenance:#4493f8}}\n"
    ".s-operational{--x:var(--operational)}.s-degraded_performance{--x:var(--degraded_performance)}"
    ".s-partial_outage{--x:var(--partial_outage)}.s-major_outage{--x:var(--major_outage)}"
    ".s-under_maintenance{--x:var(--under_maintenance)}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,"
    "Helvetica,Arial,sans-serif;overflow-wrap:anywhere}\n"
    "header,main,footer{max-width:52rem;margin:0 auto;padding:.75rem 1rem}\n"
    "a{color:var(--link)}a:focus-visible{outline:3px solid var(--link);outline-offset:2px;border-radius:2px}\n"
    "h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin:2rem 0 .75rem}h3,h4{font-size:1rem;margin:0}\n"
    "p{margin:.25rem 0}ul,ol{list-style:none;margin:0;padding:0}\n"
    ".muted{color:var(--muted)}.st{color:var(--x);font-weight:600;margin:0}\n"
    ".banner{background:var(--x);color:var(--on);border-radius:8px;padding:1rem 1.25rem;margin-top:.5rem}\n"
    ".banner h2{margin:0;font-size:1.35rem}\n"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin:0 0 1rem}\n"
    ".incident{border-left:6px solid var(--x)}.incident h3{font-size:1.1rem}\n"
    ".components{padding:0 1rem}.components>li,.sub>li{padding:1rem 0}"
    ".components>li+li,.sub>li{border-top:1px solid var(--line)}.sub{margin-top:.75rem;padding-left:1rem}\n"
    ".row{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;align-items:baseline}\n"
    ".bars{--gap:2px;position:relative;display:flex;height:2rem;margin-top:.5rem;min-width:0}"
    ".bars i{flex:1 1 0;min-width:0;background:var(--x)}.bars .o{--x:var(--operational)}"
    ".bars .d{--x:var(--degraded_performance)}.bars .p{--x:var(--partial_outage)}"
    ".bars .m{--x:var(--major_outage)}.bars .u{--x:var(--under_maintenance)}\n"
    ".bars:after{content:'';position:absolute;inset:0;pointer-events:none;"
    "background:repeating-linear-gradient(to right,transparent 0 calc(100% / __DAYS__ - var(--gap)),var(--card) 0 "
    "calc(100% / __DAYS__))}\n"
    ".range{display:flex;justify-content:space-between;gap:.5rem;font-size:.85rem;color:var(--muted)}\n"
    ".history li{margin:.25rem 0}.history h3{margin-top:1rem}\n"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:1rem 0}dt{color:var(--muted)}dd{margin:0}\n"
    "@media (max-width:40rem){h1{font-size:1.35rem}.bars{--gap:1px}}\n"
)

_MACROS = """{% macro component(row, level) %}
<div class="row"><h{{ level }}>{{ row.view.component.name }}</h{{ level }}>
<p class="st s-{{ row.view.status.value }}">{{ component_status[row.view.status] }}</p></div>
{% if row.view.component.description %}<p class="muted">{{ row.view.component.description }}</p>{% endif %}
{% if row.bars %}
<div class="bars" role="img" aria-label="{{ row.summary }}">
{% for bar in row.bars %}
<i class={% if bar.days > 1 %}"{{ bar.code }} g{{ bar.days }}"{% else %}{{ bar.code }}{% endif %}></i>
{% endfor %}
</div>
<p class="range"><span>{{ row.view.uptime_days|length }} days ago</span>
<span>{{ row.uptime }} % uptime</span><span>Today</span></p>
{% endif %}
{% endmacro %}
"""

_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{{ root }}{{ stylesheet }}">
<link rel="alternate" type="application/atom+xml" title="{{ s.page_name }} incident history"
 href="{{ root }}history.atom">
</head>
"""

_FOOTER = """<footer>
<p><a href="{{ root }}history.atom">Incident history (Atom feed)</a> ·
<a href="{{ root }}api/v2/summary.json">Status API (JSON)</a></p>
<p class="muted">Times are in UTC.</p>
</footer>
</body>
</html>
"""

_INDEX = (
    _MACROS
    + _HEAD
    + """<body>
<header><h1>{{ s.page_name }}</h1></header>
<main>
<section class="banner s-{{ impact_colour[s.indicator].value }}" aria-labelledby="overall">
<h2 id="overall">{{ s.description }}</h2>
<p>Updated {{ s.generated_at|when }}</p>
</section>
{% if s.unresolved %}
<section aria-labelledby="active"><h2 id="active">Active incidents</h2>
{% for incident in s.unresolved %}
<article class="card incident s-{{ impact_colour[incident.impact].value }}">
<h3><a href="{{ incident.id|incident_path }}">{{ incident.title }}</a></h3>
<p class="muted">{{ impact_text[incident.impact] }}
{%- set names = affected(incident) %}{% if names %} · Affects {{ names|join(", ") }}{% endif %}</p>
{% for latest in incident.updates[:1] %}
<p><strong>{{ public_status[latest.status] }}</strong> · {{ latest.at|when }}</p>
{{ latest.body|paragraphs }}
{% endfor %}
</article>
{% endfor %}
</section>
{% endif %}
{% if maintenances %}
<section aria-labelledby="maintenance"><h2 id="maintenance">Scheduled maintenance</h2>
{% for window, status in maintenances %}
<article class="card incident s-under_maintenance" id="{{ window.id }}">
<h3>{{ window.title }}</h3>
<p><strong>{{ maintenance_status[status] }}</strong> · {{ window.starts_at|when }} to {{ window.ends_at|when }}</p>
{% set names = affected(window) %}{% if names %}<p class="muted">Affects {{ names|join(", ") }}</p>{% endif %}
{{ window.body|paragraphs }}
</article>
{% endfor %}
</section>
{% endif %}
<section aria-labelledby="components"><h2 id="components">Components</h2>
{% if entries %}
<ul class="card components">
{% for entry in entries %}
{% if entry.name is none %}
<li>{{ component(entry.rows[0], 3) }}</li>
{% else %}
<li><div class="row"><h3>{{ entry.name }}</h3>
<p class="st s-{{ entry.status.value }}">{{ component_status[entry.status] }}</p></div>
<ul class="sub">
{% for row in entry.rows %}<li>{{ component(row, 4) }}</li>
{% endfor %}
</ul></li>
{% endif %}
{% endfor %}
</ul>
{% else %}
<p>No components are configured.</p>
{% endif %}
</section>
<section aria-labelledby="history" class="history"><h2 id="history">Past incidents</h2>
{% for day in history %}
<h3><time datetime="{{ day.day.isoformat() }}">{{ day.label }}</time></h3>
<ul>
{% for incident in day.incidents %}
<li><a href="{{ incident.id|incident_path }}">{{ incident.title }}</a>
<span class="muted">· {{ impact_text[incident.impact] }}</span></li>
{% endfor %}
</ul>
{% else %}
<p>No incidents in the last {{ shown_days }} days.</p>
{% endfor %}
{% if more_history %}
<p><a href="{{ root }}history.html">All incidents of the last {{ history_days }} days</a></p>
{% endif %}
</section>
</main>
"""
    + _FOOTER
)

_HISTORY = (
    _HEAD
    + """<body>
<header><p><a href="index.html">{{ s.page_name }}</a></p></header>
<main>
<section aria-labelledby="history" class="history"><h1 id="history">Incident history</h1>
{% for day in history %}
<h2><time datetime="{{ day.day.isoformat() }}">{{ day.label }}</time></h2>
<ul>
{% for incident in day.incidents %}
<li><a href="{{ incident.id|incident_path }}">{{ incident.title }}</a>
<span class="muted">· {{ impact_text[incident.impact] }}</span></li>
{% endfor %}
</ul>
{% else %}
<p>No incidents in the last {{ history_days }} days.</p>
{% endfor %}
</section>
<p><a href="index.html">Current status of {{ s.page_name }}</a></p>
</main>
"""
    + _FOOTER
)

_INCIDENT = (
    _HEAD
    + """<body>
<header><p><a href="../index.html">{{ s.page_name }}</a></p></header>
<main>
<article class="card incident s-{{ impact_colour[incident.impact].value }}">
<h1>{{ incident.title }}</h1>
<p><strong>{{ public_status[incident.status] }}</strong> · {{ impact_text[incident.impact] }}</p>
<dl>
{% set names = affected(incident) %}{% if names %}<dt>Affected</dt><dd>{{ names|join(", ") }}</dd>{% endif %}
<dt>Started</dt><dd>{{ incident.created_at|when }}</dd>
{% if incident.resolved_at %}<dt>Resolved</dt><dd>{{ incident.resolved_at|when }}</dd>{% endif %}
</dl>
</article>
<section aria-labelledby="updates"><h2 id="updates">Updates</h2>
<ol>
{% for update in incident.updates %}
<li class="card"><h3>{{ public_status[update.status] }}</h3>
{{ update.body|paragraphs }}
<p class="muted">{{ update.at|when }}</p></li>
{% endfor %}
</ol>
</section>
<p><a href="../index.html">Current status of {{ s.page_name }}</a></p>
</main>
"""
    + _FOOTER
)

# The HTML inside an Atom entry's <content type="html">: escaped here, then escaped again as XML text.
_FEED_ENTRY = """<p><strong>{{ public_status[incident.status] }}</strong> · {{ impact_text[incident.impact] }}
{%- set names = affected(incident) %}{% if names %} · Affects {{ names|join(", ") }}{% endif %}</p>
{% for update in incident.updates %}
<p><strong>{{ public_status[update.status] }}</strong> · {{ update.at|display_time }}</p>
{{ update.body|paragraphs }}
{% endfor %}
"""


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = _when
    env.filters["paragraphs"] = _paragraphs
    env.filters["incident_path"] = _incident_path
    env.filters["display_time"] = _display_time
    env.globals.update(
        component_status=COMPONENT_STATUS_TEXT,
        public_status=PUBLIC_STATUS_TEXT,
        impact_text=IMPACT_TEXT,
        maintenance_status=MAINTENANCE_STATUS_TEXT,
        impact_colour=_IMPACT_COLOUR,
        history_days=HISTORY_DAYS,
    )
    return env


@functools.cache
def _templates() -> tuple[jinja2.Template, jinja2.Template, jinja2.Template]:
    env = _environment()
    return env.from_string(_INDEX), env.from_string(_INCIDENT), env.from_string(_FEED_ENTRY)


def _days_shown(snapshot: StatusSnapshot) -> int:
    return max((len(view.uptime_days) for view in snapshot.components), default=1) or 1


@functools.cache
def _stylesheet_for(days: int) -> SiteObject:
    """The site's one stylesheet, for rows of ``days`` bars. A run of n alike days is one bar of class ``gN``
    (flex-grow n): a class, because a style attribute is inline style, which the CSP refuses."""
    # ".bars .gN", not ".gN": it must outrank ".bars i" (flex:1 1 0), or every run is drawn one day wide.
    widths = "".join(f".bars .g{n}{{flex-grow:{n}}}" for n in range(2, days + 1))
    body = (_CSS.replace("__DAYS__", str(days)) + widths + "\n").encode("utf-8")
    key = f"{STYLESHEET_PREFIX}{hashlib.sha256(body).hexdigest()[:16]}.css"
    return SiteObject(key, body, CSS, IMMUTABLE_CACHE)


def stylesheet(snapshot: StatusSnapshot) -> SiteObject:
    return _stylesheet_for(_days_shown(snapshot))


def _affected(snapshot: StatusSnapshot) -> Callable[[PublicIncident | Maintenance], list[str]]:
    def affected(item: PublicIncident | Maintenance) -> list[str]:
        return _component_names(snapshot, item.component_ids)

    return affected


# The index shows the recent past only, so that it stays small (under 50 KB) whatever the history holds; the
# whole HISTORY_DAYS are on history.html.
INDEX_HISTORY_DAYS = 14
INDEX_HISTORY_LIMIT = 20
HISTORY_PAGE_KEY = "history.html"


def _recent(snapshot: StatusSnapshot) -> tuple[list[PublicIncident], bool]:
    since = snapshot.generated_at - timedelta(days=INDEX_HISTORY_DAYS)
    recent = [i for i in snapshot.history if (i.resolved_at or i.updated_at) >= since][:INDEX_HISTORY_LIMIT]
    return recent, len(recent) < len(snapshot.history)


def render_index(snapshot: StatusSnapshot) -> str:
    maintenances = [(window, window.status(snapshot.generated_at)) for window in snapshot.maintenances]
    recent, more = _recent(snapshot)
    return _templates()[0].render(
        s=snapshot,
        title=snapshot.page_name,
        root="",
        stylesheet=stylesheet(snapshot).key,
        entries=_entries(snapshot.components),
        history=_history_days(recent),
        maintenances=maintenances,
        affected=_affected(snapshot),
        more_history=more,
        shown_days=INDEX_HISTORY_DAYS,
    )


def render_history_page(snapshot: StatusSnapshot) -> str:
    """Every resolved incident of the last HISTORY_DAYS, by day."""
    return (
        _environment()
        .from_string(_HISTORY)
        .render(
            s=snapshot,
            title=f"{snapshot.page_name} - incident history",
            root="",
            stylesheet=stylesheet(snapshot).key,
            history=_history_days(snapshot.history),
        )
    )


def render_incident_page(snapshot: StatusSnapshot, incident: PublicIncident) -> str:
    """One incident's page. It reads nothing that changes once the incident is resolved (no generation time,
    no current component status), so a resolved incident's page keeps its bytes and can be cached longer."""
    require_safe_ids([incident])
    return _templates()[1].render(
        s=snapshot,
        title=f"{incident.title} - {snapshot.page_name}",
        root="../",
        stylesheet=stylesheet(snapshot).key,
        incident=incident,
        affected=_affected(snapshot),
    )


# -- Atom --------------------------------------------------------------------------------------------------
def _xml_text(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {name: _xml_text(value) for name, value in attributes.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _incident_url(snapshot: StatusSnapshot, incident_id: str) -> str:
    return f"{snapshot.page_url}/{_incident_path(incident_id)}"


def render_feed(snapshot: StatusSnapshot) -> bytes:
    """The incident history as Atom 1.0, newest change first. ``updated`` is the newest incident change (not the
    generation time), so the feed's bytes change only when an incident does."""
    require_safe_ids(snapshot.incidents)
    incidents = sorted(snapshot.incidents, key=lambda incident: _utc(incident.updated_at), reverse=True)
    updated = _utc(incidents[0].updated_at) if incidents else _utc(snapshot.generated_at)
    # The namespace is written as a plain attribute: ET.register_namespace would change process-wide state.
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "en"})
    _sub(feed, "id", f"{snapshot.page_url}/{FEED_KEY}")
    _sub(feed, "title", f"{snapshot.page_name} status - incident history")
    _sub(feed, "updated", f"{updated:%Y-%m-%dT%H:%M:%SZ}")
    _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{snapshot.page_url}/{FEED_KEY}")
    _sub(feed, "link", rel="alternate", type="text/html", href=f"{snapshot.page_url}/")
    _sub(_sub(feed, "author"), "name", snapshot.page_name)
    template, affected = _templates()[2], _affected(snapshot)
    for incident in incidents:
        url = _incident_url(snapshot, incident.id)
        entry = _sub(feed, "entry")
        _sub(entry, "id", url)
        _sub(entry, "title", incident.title)
        _sub(entry, "published", f"{_utc(incident.created_at):%Y-%m-%dT%H:%M:%SZ}")
        _sub(entry, "updated", f"{_utc(incident.updated_at):%Y-%m-%dT%H:%M:%SZ}")
        _sub(entry, "link", rel="alternate", type="text/html", href=url)
        _sub(entry, "content", template.render(incident=incident, affected=affected), type="html")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


# -- Statuspage's public v2 API -----------------------------------------------------------------------------
def page_id(page_name: str) -> str:
    """A stable id for the page, from its name ('Example Status' -> 'example-status')."""
    return _slug(page_name) or "status"


def _page_json(snapshot: StatusSnapshot) -> dict[str, Any]:
    return {
        "id": page_id(snapshot.page_name),
        "name": snapshot.page_name,
        "url": snapshot.page_url,
        "time_zone": snapshot.time_zone,
        "updated_at": _api_time(snapshot.generated_at),
    }


def _components_json(snapshot: StatusSnapshot) -> list[dict[str, Any]]:
    """Components in display order, groups included (Statuspage lists a group as a component with ``group``
    true and its members' ids, before its members)."""
    pid, updated = page_id(snapshot.page_name), _api_time(snapshot.generated_at)

    def created(views: Iterable[ComponentView]) -> str | None:
        # A group appeared with its first component.
        return _api_time(min((view.created_at or snapshot.generated_at for view in views), default=None))

    def component(**fields: Any) -> dict[str, Any]:
        return {
            "id": fields["id"],
            "name": fields["name"],
            "status": fields["status"],
            "created_at": fields["created"],
            "updated_at": updated,
            "position": fields["position"],
            "description": fields["description"],
            "showcase": fields["showcase"],
            "start_date": None,
            "group_id": fields["group_id"],
            "page_id": pid,
            "group": fields["group"],
            "only_show_if_degraded": False,
        }

    out: list[dict[str, Any]] = []
    for entry in _entries(snapshot.components):
        if entry.name is not None:
            group = component(
                id=entry.group_id,
                name=entry.name,
                status=entry.status.value,
                position=len(out) + 1,
                description=None,
                showcase=False,
                group_id=None,
                group=True,
                created=created(row.view for row in entry.rows),
            )
            group["components"] = [row.view.component.id for row in entry.rows]
            out.append(group)
        for row in entry.rows:
            view = row.view
            child = component(
                id=view.component.id,
                name=view.component.name,
                status=view.status.value,
                position=len(out) + 1,
                description=view.component.description or None,
                showcase=True,
                group_id=entry.group_id,
                group=False,
                created=created([view]),
            )
            out.append(child)
    return out


def _monitoring_at(incident: PublicIncident) -> datetime | None:
    times = [update.at for update in incident.updates if update.status is PublicStatus.MONITORING]
    return min(times, default=None)


def _update_json(update_id: str, incident_id: str, status: str, body: str, at: datetime) -> dict[str, Any]:
    return {
        "id": update_id,
        "status": status,
        "body": body,
        "incident_id": incident_id,
        "created_at": _api_time(at),
        "updated_at": _api_time(at),
        "display_at": _api_time(at),
        "affected_components": None,
        # Every public update is meant for subscribers (Siren publishes each one to the Atom feed), so a client
        # that relays only notified updates relays these; Siren posts no tweets.
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _affected_json(item: PublicIncident | Maintenance, components: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [components[cid] for cid in item.component_ids if cid in components]


def _incident_json(
    snapshot: StatusSnapshot, incident: PublicIncident, components: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    created, updated = _api_time(incident.created_at), _api_time(incident.updated_at)
    count = len(incident.updates)
    # Numbered from the oldest, so an update keeps its id when newer ones arrive.
    updates = [
        _update_json(f"{incident.id}-{count - index}", incident.id, update.status.value, update.body, update.at)
        for index, update in enumerate(incident.updates)
    ]
    return {
        "id": incident.id,
        "name": incident.title,
        "status": incident.status.value,
        "created_at": created,
        "updated_at": updated,
        "monitoring_at": _api_time(_monitoring_at(incident)),
        "resolved_at": _api_time(incident.resolved_at),
        "impact": incident.impact.value,
        "shortlink": _incident_url(snapshot, incident.id),
        "started_at": created,
        "page_id": page_id(snapshot.page_name),
        "incident_updates": updates,
        "components": _affected_json(incident, components),
    }


def _maintenance_json(
    snapshot: StatusSnapshot, window: Maintenance, components: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    status = window.status(snapshot.generated_at)
    created = window.created_at or window.starts_at
    updated = created if status is MaintenanceStatus.SCHEDULED else max(created, window.starts_at)
    update = _update_json(f"{window.id}-1", window.id, MaintenanceStatus.SCHEDULED.value, window.body, created)
    return {
        "id": window.id,
        "name": window.title,
        "status": status.value,
        "created_at": _api_time(created),
        "updated_at": _api_time(updated),
        "monitoring_at": None,
        "resolved_at": _api_time(window.ends_at) if status is MaintenanceStatus.COMPLETED else None,
        "impact": Impact.MAINTENANCE.value,
        "shortlink": f"{snapshot.page_url}/#{_url_part(window.id)}",
        "started_at": _api_time(window.starts_at),
        "page_id": page_id(snapshot.page_name),
        "incident_updates": [update],
        "components": _affected_json(window, components),
        "scheduled_for": _api_time(window.starts_at),
        "scheduled_until": _api_time(window.ends_at),
    }


def api_documents(snapshot: StatusSnapshot) -> dict[str, dict[str, Any]]:
    """Statuspage's public v2 documents, by path under api/v2/ (as https://metastatuspage.com/api/v2 serves them)."""
    require_safe_ids(snapshot.incidents)
    page = _page_json(snapshot)
    status = {"indicator": snapshot.indicator.value, "description": snapshot.description}
    components = _components_json(snapshot)
    by_id = {component["id"]: component for component in components if not component["group"]}
    unresolved = [_incident_json(snapshot, incident, by_id) for incident in snapshot.unresolved]
    history = [_incident_json(snapshot, incident, by_id) for incident in snapshot.history]
    windows = [_maintenance_json(snapshot, window, by_id) for window in snapshot.maintenances]
    upcoming = [w for w in windows if w["status"] == MaintenanceStatus.SCHEDULED.value]
    active = [w for w in windows if w["status"] == MaintenanceStatus.IN_PROGRESS.value]
    return {
        "summary.json": {
            "page": page,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": windows,
            "status": status,
        },
        "status.json": {"page": page, "status": status},
        "components.json": {"page": page, "components": components},
        "incidents.json": {"page": page, "incidents": unresolved + history},
        "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "scheduled-maintenances.json": {"page": page, "scheduled_maintenances": windows},
        "scheduled-maintenances/upcoming.json": {"page": page, "scheduled_maintenances": upcoming},
        "scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": active},
    }


# -- the site ----------------------------------------------------------------------------------------------
def render_site(snapshot: StatusSnapshot) -> list[SiteObject]:
    """Every object of the site. Order matters: the stylesheet, incident pages and feeds first, index.html LAST
    (so a reader following a link from a freshly written index never lands on a missing page or style)."""
    require_safe_ids(snapshot.incidents)
    objects = [stylesheet(snapshot)]  # before every page that links it
    for incident in snapshot.incidents:
        page = render_incident_page(snapshot, incident).encode("utf-8")
        cache = RESOLVED_CACHE if incident.resolved else LIVE_CACHE
        objects.append(SiteObject(_incident_path(incident.id), page, HTML, cache))
    objects.append(SiteObject(FEED_KEY, render_feed(snapshot), ATOM, LIVE_CACHE))
    for path, document in api_documents(snapshot).items():
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        objects.append(SiteObject(API_PREFIX + path, body, JSON, LIVE_CACHE))
    objects.append(SiteObject(HISTORY_PAGE_KEY, render_history_page(snapshot).encode("utf-8"), HTML, LIVE_CACHE))
    objects.append(SiteObject(INDEX_KEY, render_index(snapshot).encode("utf-8"), HTML, LIVE_CACHE))
    return objects


def first_published_in(components_document: bytes) -> dict[str, datetime]:
    """When each component first appeared, read back from a published ``components.json`` (the page is its own
    record of what it has shown). Anything unreadable counts as never published: that component appears now."""
    try:
        document = json.loads(components_document)
        entries = document["components"]
    except (ValueError, TypeError, KeyError):
        return {}
    found: dict[str, datetime] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("group") or not isinstance(entry.get("id"), str):
            continue
        try:
            created = datetime.fromisoformat(str(entry["created_at"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            continue
        if created.tzinfo is not None:
            found[entry["id"]] = created
    return found
