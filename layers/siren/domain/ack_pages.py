"""The small HTML pages behind a signed acknowledgement link: confirm, done, and refused.

Pure rendering (Jinja2, autoescaped): every value shown may come from an alert, so nothing is trusted. The
pages carry no script and no external resource, so a strict Content-Security-Policy holds them; they are
readable on a phone (viewport, one column, large button).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import jinja2

# No script, no external resource, the form posts back to where it came from, no framing, no referrer (the
# link's signature is in its query string).
SECURITY_HEADERS: Mapping[str, str] = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{ heading }} - Siren</title>
<style>
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;
background:#f6f7f9;color:#1d2433}
main{max-width:32rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:8px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.3rem;margin:0 0 1rem}
dl{margin:0 0 1.5rem}dt{font-size:.8rem;color:#5b6475;margin-top:.6rem}dd{margin:0;word-wrap:break-word}
button{font-size:1.1rem;padding:.8rem 1.4rem;border:0;border-radius:6px;color:#fff;background:{{ colour }};
width:100%;cursor:pointer}
p{line-height:1.45}
</style>
</head>
<body>
<main>
<h1>{{ heading }}</h1>
{% if message %}<p>{{ message }}</p>{% endif %}
{% if incident %}
<dl>
<dt>Incident</dt><dd>{{ incident.id }}</dd>
<dt>Severity</dt><dd>{{ incident.severity }}</dd>
<dt>Service</dt><dd>{{ incident.service }}</dd>
<dt>Title</dt><dd>{{ incident.title }}</dd>
<dt>Status</dt><dd>{{ incident.status }}</dd>
</dl>
{% endif %}
{% if form %}
<form method="post">
{% for name, value in form.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<button type="submit">{{ button }}</button>
</form>
{% endif %}
</main>
</body>
</html>
"""

_COLOURS = {"ack": "#b45309", "resolve": "#15803d"}


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    id: str
    severity: str
    service: str
    title: str
    status: str


@functools.cache
def _template() -> jinja2.Template:
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(_PAGE)


def _render(
    heading: str,
    message: str = "",
    *,
    incident: IncidentSummary | None = None,
    form: Mapping[str, str] | None = None,
    button: str = "",
    action: str = "ack",
) -> str:
    return _template().render(
        heading=heading,
        message=message,
        incident=incident,
        form=form,
        button=button,
        colour=_COLOURS.get(action, "#1d4ed8"),
    )


def confirm_page(action: str, user: str, incident: IncidentSummary, form: Mapping[str, str]) -> str:
    """Asks for a click: the link alone changes nothing, because mail scanners open every link they see."""
    verb = "Acknowledge" if action == "ack" else "Resolve"
    return _render(
        f"{verb} {incident.id}?",
        f"You are signed in by this link as {user}. {verb} the incident below?",
        incident=incident,
        form=form,
        button=f"{verb} as {user}",
        action=action,
    )


def done_page(action: str, user: str, incident: IncidentSummary, changed: bool) -> str:
    past = "acknowledged" if action == "ack" else "resolved"
    if changed:
        message = f"{incident.id} is {past} by {user}." + (" Escalation stopped." if action == "ack" else "")
    else:
        message = f"Nothing to do: {incident.id} is already {incident.status}."
    return _render(f"Incident {past}" if changed else "Already done", message, incident=incident, action=action)


def refused_page(heading: str, message: str) -> str:
    return _render(heading, message)
