"""The small HTML pages behind a signed acknowledgement link: confirm, done, and refused.

Pure rendering (templates/ack/page.html.j2, autoescaped): every value shown may come from an alert, so nothing
is trusted. The pages carry no script and no external resource, so a strict Content-Security-Policy holds them;
they are readable on a phone (viewport, one column, large button).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from siren.render.templates import template

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

_COLOURS = {"ack": "#b45309", "resolve": "#15803d"}


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    id: str
    severity: str
    service: str
    title: str
    status: str


def _render(
    heading: str,
    message: str = "",
    *,
    incident: IncidentSummary | None = None,
    form: Mapping[str, str] | None = None,
    button: str = "",
    action: str = "ack",
) -> str:
    return template("ack/page.html.j2").render(
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
