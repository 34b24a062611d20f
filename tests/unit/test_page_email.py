"""The page email is written with plain string templates (no Jinja2 on the paging path): it must be, byte for byte,
what the Jinja2 templates it replaced rendered. Those templates are kept here, verbatim, as the reference.

Also: the paging path's modules do not import Jinja2 (tests/unit/test_handler_imports.py checks the handlers).
"""

from __future__ import annotations

from datetime import UTC, datetime

import jinja2
from hypothesis import given, settings
from hypothesis import strategies as st

from siren.domain import messages
from siren.domain.messages import IncidentSummary, email

# The reference: siren/domain/messages.py's Jinja2 templates before the change, as they were.
_EMAIL_TEXT = """\
{{ severity }} incident on {{ service }}: {{ title }}

Incident: {{ incident_id }}
Service:  {{ service }}
Severity: {{ severity }}
Opened:   {{ opened }}
{% if ack_url %}
Acknowledge: {{ ack_url }}
{%- endif %}
{%- if resolve_url %}
Resolve: {{ resolve_url }}
{%- endif %}

{{ reply_hint }}
"""

_BUTTON = messages._BUTTON
_EMAIL_HTML = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,'Segoe UI',Helvetica,Arial,\
sans-serif;color:#18181b;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;margin:0 auto;\
background:#ffffff;border-radius:8px;border-top:6px solid {{ colour }};">
<tr><td style="padding:24px;">
<p style="margin:0 0 8px;font-size:13px;font-weight:bold;letter-spacing:0.05em;color:{{ colour }};">\
{{ severity }} &middot; {{ service }}</p>
<h1 style="margin:0 0 20px;font-size:20px;line-height:1.3;color:#18181b;">{{ title }}</h1>
{%- if ack_url or resolve_url %}
<p style="margin:0 0 24px;">
{%- if ack_url %}
<a href="{{ ack_url }}" style="{{ button }}background:{{ colour }};color:#ffffff;">Acknowledge</a>
{%- endif %}
{%- if resolve_url %}
<a href="{{ resolve_url }}" style="{{ button }}margin-left:12px;background:#ffffff;color:#18181b;\
border:1px solid #d4d4d8;">Resolve</a>
{%- endif %}
</p>
{%- endif %}
<table role="presentation" cellpadding="0" cellspacing="0" style="font-size:14px;line-height:1.6;">
<tr><td style="padding-right:16px;color:#71717a;">Incident</td><td style="font-family:monospace;">\
{{ incident_id }}</td></tr>
<tr><td style="padding-right:16px;color:#71717a;">Service</td><td>{{ service }}</td></tr>
<tr><td style="padding-right:16px;color:#71717a;">Severity</td><td>{{ severity }}</td></tr>
<tr><td style="padding-right:16px;color:#71717a;">Opened</td><td>{{ opened }}</td></tr>
</table>
<p style="margin:24px 0 0;font-size:14px;color:#3f3f46;">{% if code %}Or reply to the text message: \
<strong>ACK {{ code }}</strong> to acknowledge, <strong>RES {{ code }}</strong> to resolve.\
{% else %}{{ reply_hint }}{% endif %}</p>
</td></tr></table>
</body></html>
"""


def reference_email(values: dict[str, object]) -> tuple[str, str]:
    text = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    html = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return text.from_string(_EMAIL_TEXT).render(values), html.from_string(_EMAIL_HTML).render(values)


hostile = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ['"><img src=x onerror=alert(1)>', "R&D <ops> 'quoted' \"double\"", "{{ 7*7 }} {% if %}", ""]
)
links = st.none() | st.sampled_from(['https://ack.example.com/a?i=1&s=x"y', "http://h/<b>"])
codes = st.none() | st.integers(100_000, 999_999).map(str)
severities = st.sampled_from(["SEV1", "SEV2", "SEV3", "SEV4", "sev1", "S&V"])


@settings(max_examples=300)
@given(title=hostile, service=hostile, incident_id=hostile, severity=severities, code=codes, ack=links, resolve=links)
def test_the_plain_templates_render_what_jinja2_did(title, service, incident_id, severity, code, ack, resolve):
    incident = IncidentSummary(incident_id, severity, title, service, datetime(2026, 11, 26, 23, 41, tzinfo=UTC))
    captured: dict[str, object] = {}
    real_text = messages._email_text

    def capture(values):
        captured.update(values)
        return real_text(values)

    messages._email_text = capture
    try:
        message = email(incident, code, ack, resolve)
    finally:
        messages._email_text = real_text

    assert (message.text, message.html) == reference_email(captured)
