"""What a page says, per channel: SMS, voice (SSML), email and chat. Pure.

Every string that came from outside (titles and services come from alarms and webhooks) is treated as
hostile: reduced to GSM-7 for SMS, XML-escaped for SSML, HTML-escaped for email, Slack-escaped for chat.

SMS is one segment: at most 160 GSM-7 septets. Going over would make the carrier split it (and bill it)
as several messages that can arrive out of order, or switch to UCS-2 and its 70-character segments. What
gives way to fit, in order: the link, the service's length, the incident id; the title is shortened with
"..." to the room left; the code and the reply instruction are never cut.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from siren.domain.ack import is_ack_code
from siren.domain.shapes import IncidentLike

if TYPE_CHECKING:
    from siren.domain.changes import ServiceChange

SMS_MAX_SEPTETS = 160
ELLIPSIS = "..."

# GSM 03.38 default alphabet (one septet each; ESC itself left out) and its extension table (two septets).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

# Common characters outside GSM-7 that have a faithful GSM-7 spelling (NFKD handles accents and ligatures).
_GSM7_SPELLINGS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2022": "-",
        "\u00b7": "-",
        "\u2026": "...",
        "\u00d7": "x",
        "\t": " ",
        "\u0142": "l",
        "\u0141": "L",
        "\u0111": "d",
        "\u0110": "D",
        "\u0131": "i",
        "\u0153": "oe",
        "\u0152": "OE",
    }
)

_SEVERITY_WORDS = {"1": "one", "2": "two", "3": "three", "4": "four", "5": "five"}
_SEVERITY_COLOURS = {"SEV1": "#b91c1c", "SEV2": "#c2410c", "SEV3": "#a16207"}
_DEFAULT_COLOUR = "#1d4ed8"
# Characters XML 1.0 does not allow at all (escaping cannot save them).
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class PagedIncident(IncidentLike, Protocol):
    """What a page says of an incident: the shared shape and its internal title (responders may read it)."""

    @property
    def title(self) -> str: ...


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    id: str
    severity: str
    title: str
    service: str
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class EmailMessage:
    subject: str
    text: str
    html: str


def _require_code(code: str | None) -> None:
    """None is a page without a code (none could be allocated: the page still goes out); anything else must be one."""
    if code is not None and not is_ack_code(code):
        raise ValueError(f"not an acknowledgement code: {code!r}")


def _require_web_url(url: str | None) -> None:
    if url is not None and not url.lower().startswith(("https://", "http://")):
        raise ValueError("links must be http(s) URLs")


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS


def _opened(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# Without a code, a reply cannot acknowledge: say so, and point at what can.
NO_CODE_INSTRUCTION = "No reply code: ack by link or siren CLI"
NO_CODE_HINT = "This page has no reply code: acknowledge with the link or with the siren CLI."


def _reply_instruction(code: str | None) -> str:
    return f"Reply ACK {code} to acknowledge, RES {code} to resolve" if code else NO_CODE_INSTRUCTION


def _reply_hint(code: str | None) -> str:
    return f"Or reply to the text message: ACK {code} to acknowledge, RES {code} to resolve." if code else NO_CODE_HINT


# -- SMS --------------------------------------------------------------------------------------------------
def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def gsm7_length(text: str) -> int:
    """Septets ``text`` takes in GSM-7: one per character, two for the extension table (^{}\\[~]|€ and form
    feed). Raises ValueError for characters GSM-7 cannot carry (see :func:`to_gsm7`)."""
    length = 0
    for ch in text:
        if ch in GSM7_BASIC:
            length += 1
        elif ch in GSM7_EXTENDED:
            length += 2
        else:
            raise ValueError(f"{ch!r} (U+{ord(ch):04X}) is not a GSM-7 character")
    return length


def to_gsm7(text: str) -> str:
    """``text`` in GSM-7: kept where it already is, spelled in GSM-7 where a common equivalent exists (quotes,
    dashes, ellipsis; accents dropped through NFKD), left out where none does (emoji, most scripts)."""
    out: list[str] = []
    for ch in text.translate(_GSM7_SPELLINGS):
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(ch)
            continue
        for part in unicodedata.normalize("NFKD", ch).translate(_GSM7_SPELLINGS):
            if part in GSM7_BASIC or part in GSM7_EXTENDED:
                out.append(part)
    return "".join(out)


def _gsm7_line(text: str) -> str:
    return " ".join(to_gsm7(_one_line(text)).split())


def _shorten_gsm7(text: str, budget: int) -> str:
    """``text`` cut to ``budget`` septets, with an ellipsis when cut ("" when not even that fits)."""
    if gsm7_length(text) <= budget:
        return text
    room = budget - len(ELLIPSIS)
    kept: list[str] = []
    for ch in text:
        room -= 2 if ch in GSM7_EXTENDED else 1
        if room < 0:
            break
        kept.append(ch)
    cut = "".join(kept).rstrip()
    return cut + ELLIPSIS if cut else ""


# The title keeps at least this much (or all of itself) before the link, then other fields, give way.
_MIN_TITLE_SEPTETS = 24


def sms_text(incident: PagedIncident, code: str | None, ack_url: str | None = None) -> str:
    """``SEV1 checkout: <title> | INC-... | Reply ACK 482193 to acknowledge, RES 482193 to resolve[ | <link>]``,
    at most 160 GSM-7 septets. Without a code (``None``) the link is the way to acknowledge: it is kept."""
    _require_code(code)
    _require_web_url(ack_url)
    severity = _shorten_gsm7(_gsm7_line(incident.severity), 10)
    service = _gsm7_line(incident.service)
    title = _gsm7_line(incident.title)
    incident_id = _gsm7_line(incident.id)
    instruction = _reply_instruction(code)
    # A link cannot be respelled: it goes in as it is or not at all.
    link = ack_url if ack_url and is_gsm7(ack_url) and not any(ch.isspace() for ch in ack_url) else None

    def compose(service: str, title: str, incident_id: str, link: str | None) -> str:
        head = " ".join(part for part in (severity, service) if part)
        first = f"{head}: {title}" if head and title else head or title
        # Without a code the link is how to acknowledge: it takes the instruction's place.
        tail = (instruction, link) if code or not link else (f"Ack: {link}",)
        return " | ".join(part for part in (first, incident_id, *tail) if part)

    def room_for_title(service: str, incident_id: str, link: str | None) -> int:
        return SMS_MAX_SEPTETS - (gsm7_length(compose(service, "x", incident_id, link)) - 1)

    # Without a code, the link comes before the title: a page that cannot be acknowledged is worse than a short one.
    wanted = min(gsm7_length(title), _MIN_TITLE_SEPTETS) if code or not link else 0
    short_service, short_id = _shorten_gsm7(service, 20), _shorten_gsm7(incident_id, 32)
    # With a code the link is a convenience and gives way first; without one it is the only way to acknowledge.
    spare_link = None if code else link
    for fields in (
        (service, incident_id, link),
        (service, incident_id, spare_link),
        (short_service, incident_id, spare_link),
        (short_service, short_id, spare_link),
        ("", "", spare_link),
        ("", "", None),
    ):
        service_part, id_part, link_part = fields
        if wanted:
            fits = room_for_title(*fields) >= wanted
        else:
            fits = gsm7_length(compose(service_part, "", id_part, link_part)) <= SMS_MAX_SEPTETS
        if fits:
            break
    chosen_service, chosen_id, chosen_link = fields
    room = room_for_title(*fields)
    text = compose(chosen_service, _shorten_gsm7(title, room) if room > 0 else "", chosen_id, chosen_link)
    assert gsm7_length(text) <= SMS_MAX_SEPTETS, text  # the last rung always fits: severity <= 10 septets
    return text


# -- voice ------------------------------------------------------------------------------------------------
# What xml.sax.saxutils.escape does, without its import (it brings urllib.request and http.client with it).
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _speakable(text: str, limit: int) -> str:
    return _shorten(_one_line(_XML_INVALID.sub("", text)), limit).translate(_XML_ESCAPES)


def _spoken_severity(severity: str) -> str:
    match = re.fullmatch(r"SEV([1-5])", severity.strip().upper())
    return _SEVERITY_WORDS[match[1]] if match else severity


def voice_ssml(incident: PagedIncident, code: str | None) -> str:
    """SSML for a call: severity, service and title, then the code digit by digit, said twice (without a code,
    where to acknowledge instead)."""
    _require_code(code)
    digits = f'<say-as interpret-as="digits">{code}</say-as>'
    sentences = [
        "Siren alert.",
        f"Severity {_speakable(_spoken_severity(incident.severity), 40)}.",
    ]
    service = _speakable(incident.service, 80)
    if service:
        sentences.append(f"Service {service}.")
    title = _speakable(incident.title, 250).rstrip(" .!?")
    if title:
        sentences.append(f"{title}.")
    if code is None:
        sentences.append('<break time="500ms"/>To acknowledge, use the link in your email or the siren command line.')
        return f"<speak>{' '.join(sentences)}</speak>"
    sentences += [
        '<break time="500ms"/>To acknowledge, reply to the text message with',
        f'<say-as interpret-as="characters">ACK</say-as>, followed by the code: {digits}.',
        f'<break time="700ms"/>Again, the code is: {digits}.',
    ]
    return f"<speak>{' '.join(sentences)}</speak>"


# -- email ------------------------------------------------------------------------------------------------
# Plain string templates, not Jinja2: the page function sends this email on the paging path, where Jinja2's import
# (about a sixth of ``import boto3``) would be paid by every cold start. Every value goes through _html() in the
# HTML body (the escaping Jinja2's autoescape did, character for character); the text body is not HTML: escaping it
# would show "&amp;" to the reader.
_BUTTON = (
    "display:inline-block;padding:12px 28px;border-radius:6px;font-weight:bold;font-size:16px;text-decoration:none;"
)
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def _html(value: object) -> str:
    return str(value).translate(_HTML_ESCAPES)


def _email_text(values: Mapping[str, Any]) -> str:
    links = ""
    if values["ack_url"]:
        links += f"\nAcknowledge: {values['ack_url']}"
    if values["resolve_url"]:
        links += f"\nResolve: {values['resolve_url']}"
    return (
        f"{values['severity']} incident on {values['service']}: {values['title']}\n"
        "\n"
        f"Incident: {values['incident_id']}\n"
        f"Service:  {values['service']}\n"
        f"Severity: {values['severity']}\n"
        f"Opened:   {values['opened']}\n"
        f"{links}\n"
        "\n"
        f"{values['reply_hint']}\n"
    )


def _email_html(values: Mapping[str, Any], changes_html: str = "") -> str:
    v = {name: _html(value) for name, value in values.items()}
    colour, button = v["colour"], v["button"]
    buttons = ""
    if values["ack_url"] or values["resolve_url"]:
        buttons = '\n<p style="margin:0 0 24px;">'
        if values["ack_url"]:
            buttons += f'\n<a href="{v["ack_url"]}" style="{button}background:{colour};color:#ffffff;">Acknowledge</a>'
        if values["resolve_url"]:
            buttons += (
                f'\n<a href="{v["resolve_url"]}" style="{button}margin-left:12px;background:#ffffff;color:#18181b;'
                'border:1px solid #d4d4d8;">Resolve</a>'
            )
        buttons += "\n</p>"
    if values["code"]:
        code = v["code"]
        hint = (
            f"Or reply to the text message: <strong>ACK {code}</strong> to acknowledge, <strong>RES {code}</strong>"
            " to resolve."
        )
    else:
        hint = v["reply_hint"]
    label = "padding-right:16px;color:#71717a;"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{v["subject"]}</title></head>\n'
        "<body style=\"margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,'Segoe UI',Helvetica,Arial,"
        'sans-serif;color:#18181b;">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;margin:0 auto;'
        f'background:#ffffff;border-radius:8px;border-top:6px solid {colour};">\n'
        '<tr><td style="padding:24px;">\n'
        '<p style="margin:0 0 8px;font-size:13px;font-weight:bold;letter-spacing:0.05em;'
        f'color:{colour};">{v["severity"]} &middot; {v["service"]}</p>\n'
        f'<h1 style="margin:0 0 20px;font-size:20px;line-height:1.3;color:#18181b;">{v["title"]}</h1>'
        f"{buttons}\n"
        '<table role="presentation" cellpadding="0" cellspacing="0" style="font-size:14px;line-height:1.6;">\n'
        f'<tr><td style="{label}">Incident</td><td style="font-family:monospace;">{v["incident_id"]}</td></tr>\n'
        f'<tr><td style="{label}">Service</td><td>{v["service"]}</td></tr>\n'
        f'<tr><td style="{label}">Severity</td><td>{v["severity"]}</td></tr>\n'
        f'<tr><td style="{label}">Opened</td><td>{v["opened"]}</td></tr>\n'
        "</table>\n"
        f"{changes_html}"
        f'<p style="margin:24px 0 0;font-size:14px;color:#3f3f46;">{hint}</p>\n'
        "</td></tr></table>\n"
        "</body></html>"
    )


def email(
    incident: PagedIncident,
    code: str | None,
    ack_url: str | None = None,
    resolve_url: str | None = None,
    changes: Sequence[ServiceChange] = (),
) -> EmailMessage:
    """Subject ``[SEV1] checkout: <title> (INC-...)``, a plain text body and an HTML body (inline styles only:
    mail clients drop style sheets) with Acknowledge and Resolve buttons when the links are given, and a "What
    changed just before this" section when the service had ``changes`` (its senders' words: untrusted, escaped).
    """
    _require_code(code)
    _require_web_url(ack_url)
    _require_web_url(resolve_url)
    severity = _shorten(_one_line(incident.severity), 20)
    service = _shorten(_one_line(incident.service), 80)
    title = _shorten(_one_line(incident.title), 150)
    incident_id = _shorten(_one_line(incident.id), 80)
    subject = f"[{severity}] {service}: {title} ({incident_id})"
    values: dict[str, Any] = {
        "subject": subject,
        "severity": severity,
        "service": service,
        "title": _shorten(_one_line(incident.title), 1000),
        "incident_id": incident_id,
        "opened": _opened(incident.opened_at),
        "code": code,
        "reply_hint": _reply_hint(code),
        "ack_url": ack_url,
        "resolve_url": resolve_url,
        "colour": _SEVERITY_COLOURS.get(severity.upper(), _DEFAULT_COLOUR),
        "button": _BUTTON,
    }
    shown = [_shown_change(change) for change in changes]
    return EmailMessage(
        subject=subject,
        text=_email_text(values) + _changes_text(shown),
        html=_email_html(values, _changes_html(shown)),
    )


@dataclass(frozen=True, slots=True)
class _ShownChange:
    at: str
    summary: str
    source: str | None
    links: tuple[tuple[str, str], ...]  # (href, label): web links only


def _shown_change(change: ServiceChange) -> _ShownChange:
    links = tuple(
        (link.href, _shorten(_one_line(link.text or link.href), 120))
        for link in change.links[:3]
        if _is_web_url(link.href) and len(link.href) <= 2000
    )
    source = _shorten(_one_line(change.source), 80) if change.source else None
    return _ShownChange(
        change.at.astimezone(UTC).strftime("%H:%M UTC"), _shorten(_one_line(change.summary), 300), source, links
    )


def _is_web_url(url: str) -> bool:
    """A link a reader may follow from a page: http(s) only (never ``javascript:`` or ``data:``), one line."""
    return url.startswith(("https://", "http://")) and _one_line(url) == url


CHANGES_HEADING = "What changed just before this"


def _changes_text(changes: Sequence[_ShownChange]) -> str:
    if not changes:
        return ""
    lines = ["", f"{CHANGES_HEADING}:"]
    for change in changes:
        lines.append(f"- {change.at}  {change.summary}" + (f" ({change.source})" if change.source else ""))
        lines.extend(f"    {label}: {href}" for href, label in change.links)
    return "\n".join(lines) + "\n"


def _changes_html(changes: Sequence[_ShownChange]) -> str:
    """Every value through _html(): a change's summary, source and links are whatever its sender wrote."""
    if not changes:
        return ""
    items = []
    for change in changes:
        source = f' <span style="color:#71717a;">({_html(change.source)})</span>' if change.source else ""
        links = "".join(f' <a href="{_html(href)}">{_html(label)}</a>' for href, label in change.links)
        items.append(
            f'<li><span style="font-family:monospace;color:#71717a;">{_html(change.at)}</span> '
            f"{_html(change.summary)}{source}{links}</li>"
        )
    return (
        f'<h2 style="margin:24px 0 8px;font-size:15px;color:#18181b;">{CHANGES_HEADING}</h2>\n'
        '<ul style="margin:0;padding-left:20px;font-size:14px;line-height:1.6;">\n' + "\n".join(items) + "\n</ul>\n"
    )


# -- chat -------------------------------------------------------------------------------------------------
def slack_escape(text: str) -> str:
    """Slack's required escaping of &, < and > (so a title cannot ping ``<!channel>`` or forge a link)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chat_payload(
    incident: PagedIncident, code: str | None, ack_url: str | None = None, resolve_url: str | None = None
) -> dict[str, Any]:
    """A Slack incoming-webhook payload (other tools that accept Slack's format take it too)."""
    _require_code(code)
    _require_web_url(ack_url)
    _require_web_url(resolve_url)
    severity = slack_escape(_shorten(_one_line(incident.severity), 20))
    service = slack_escape(_shorten(_one_line(incident.service), 80))
    title = slack_escape(_shorten(_one_line(incident.title), 500))
    incident_id = slack_escape(_shorten(_one_line(incident.id), 80))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{severity} {service}*: {title}"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Incident*\n{incident_id}"},
                {"type": "mrkdwn", "text": f"*Opened*\n{_opened(incident.opened_at)}"},
            ],
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _reply_hint(code)}],
        },
    ]
    buttons: list[dict[str, Any]] = []
    if ack_url:
        buttons.append(_button("Acknowledge", ack_url, "siren-ack", "primary"))
    if resolve_url:
        buttons.append(_button("Resolve", resolve_url, "siren-resolve", None))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": f"[{severity}] {service}: {title} ({incident_id})", "blocks": blocks}


def _button(label: str, url: str, action_id: str, style: str | None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "url": url,
        "action_id": action_id,
    }
    if style:
        button["style"] = style
    return button
