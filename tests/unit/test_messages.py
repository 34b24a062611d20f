"""What a page says on each channel: one SMS segment whatever the title, well-formed SSML, escaped email and chat."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siren.domain.incidents import Incident, IncidentStatus
from siren.domain.messages import (
    SMS_MAX_SEPTETS,
    IncidentSummary,
    chat_payload,
    email,
    gsm7_length,
    is_gsm7,
    slack_escape,
    sms_text,
    to_gsm7,
    voice_ssml,
)
from siren.domain.signals import SEVERITIES

OPENED = datetime(2026, 11, 26, 23, 41, tzinfo=UTC)
CODE = "482193"
INSTRUCTION = "Reply ACK 482193 to acknowledge, RES 482193 to resolve"
XSS = '"><img src=x onerror=alert(1)>'


def summary(title: str = "p99 latency above 2s", severity: str = "SEV1", service: str = "checkout") -> IncidentSummary:
    return IncidentSummary("INC-20261126-2341-3f9c1a", severity, title, service, OPENED)


# -- GSM-7 --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "septets"),
    [
        ("", 0),
        ("hello", 5),
        ("é@£$¥Δ", 6),  # in the basic table: one septet each
        ("^{}\\[~]|€", 18),  # the extension table: two each
        ("a[b]", 6),
        ("\n", 1),
    ],
)
def test_gsm7_length_counts_extension_characters_twice(text, septets):
    assert gsm7_length(text) == septets


def test_gsm7_length_refuses_what_gsm7_cannot_carry():
    with pytest.raises(ValueError, match="not a GSM-7 character"):
        gsm7_length("fire 🔥")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u201cquoted\u201d \u2018single\u2019", "\"quoted\" 'single'"),
        ("a \u2013 b \u2014 c", "a - b - c"),
        ("wait…", "wait..."),
        ("café Ñandù Zürich", "café Ñandù Zürich"),  # already GSM-7: kept as is
        ("Ñandú", "Ñandu"),  # ú is not (ù is)
        ("naïve façade Łódź", "naive facade Lodz"),  # NFKD and a few spellings
        ("ﬁle", "file"),
        ("deploy 🚀 done", "deploy  done"),
        ("日本", ""),
    ],
)
def test_to_gsm7_spells_common_characters_and_drops_the_rest(text, expected):
    assert to_gsm7(text) == expected
    assert is_gsm7(to_gsm7(text))


# -- SMS ----------------------------------------------------------------------------------------------------
def test_sms_has_the_documented_shape():
    # GIVEN a short title WHEN rendered THEN everything fits as documented, link included
    text = sms_text(summary(), CODE, "https://siren.example.com/a?i=1&s=x")
    assert text == (
        "SEV1 checkout: p99 latency above 2s | INC-20261126-2341-3f9c1a | "
        "Reply ACK 482193 to acknowledge, RES 482193 to resolve | https://siren.example.com/a?i=1&s=x"
    )


def test_a_long_title_is_shortened_with_an_ellipsis_and_the_instruction_kept():
    text = sms_text(summary("disk full on " + "db-replica-" * 30), CODE)
    assert gsm7_length(text) == SMS_MAX_SEPTETS
    assert "... | INC-20261126-2341-3f9c1a | " + INSTRUCTION in text


def test_a_link_that_does_not_fit_is_left_out_before_the_title_is_cut_short():
    long_link = "https://siren.example.com/ack?" + "x" * 120
    text = sms_text(summary("disk full on the primary database of the checkout service"), CODE, long_link)
    assert "https://" not in text
    assert text.endswith(INSTRUCTION)
    assert "disk full on the primary database" in text


def test_a_link_with_characters_gsm7_cannot_carry_is_left_out():
    assert "https" not in sms_text(summary(), CODE, "https://siren.example.com/ä`ck")


def test_extension_characters_in_the_title_count_twice():
    text = sms_text(summary("[" * 200), CODE)
    assert gsm7_length(text) <= SMS_MAX_SEPTETS
    assert INSTRUCTION in text


def test_a_huge_service_name_gives_way_but_the_instruction_does_not():
    text = sms_text(summary(service="s" * 300, title="t" * 300), CODE)
    assert gsm7_length(text) <= SMS_MAX_SEPTETS
    assert text.endswith(INSTRUCTION)


def test_an_incident_from_the_domain_can_be_rendered():
    incident = Incident(
        id="INC-20261126-2341-3f9c1a",
        status=IncidentStatus.OPEN,
        severity="SEV2",
        title="queue backlog",
        service="search",
        dedup_key="k",
        source="cloudwatch",
        opened_at=OPENED,
        last_seen_at=OPENED,
    )
    assert sms_text(incident, CODE).startswith("SEV2 search: queue backlog | ")


@pytest.mark.parametrize("code", ["0123", "482", "4821931", "abcd", ""])
def test_a_malformed_code_is_a_programming_error(code):
    with pytest.raises(ValueError):
        sms_text(summary(), code)


@settings(max_examples=300, deadline=None)
@given(
    title=st.text(max_size=400),
    service=st.text(max_size=80),
    severity=st.sampled_from(SEVERITIES),
    code=st.integers(100_000, 999_999).map(str),
    link=st.none() | st.just("https://siren.example.com/ack?i=INC-1&a=ack&u=alice&e=1800000000&n=abc&s=xyz"),
)
def test_any_title_fits_one_segment_with_the_code_and_instruction(title, service, severity, code, link):
    text = sms_text(summary(title, severity, service), code, link)
    assert is_gsm7(text)
    assert gsm7_length(text) <= SMS_MAX_SEPTETS
    assert f"Reply ACK {code} to acknowledge, RES {code} to resolve" in text
    assert text.startswith(severity)


# -- voice --------------------------------------------------------------------------------------------------
def test_voice_reads_the_alert_and_the_code_digit_by_digit_twice():
    ssml = voice_ssml(summary("Payments down"), CODE)
    root = ET.fromstring(ssml)
    assert root.tag == "speak"
    spoken = "".join(root.itertext())
    assert spoken.startswith("Siren alert. Severity one. Service checkout. Payments down. ")
    assert "To acknowledge, reply to the text message with ACK, followed by the code: 482193." in spoken
    digits = [e.text for e in root.iter("say-as") if e.get("interpret-as") == "digits"]
    assert digits == [CODE, CODE]


def test_voice_escapes_untrusted_text():
    ssml = voice_ssml(summary("<script>alert(1)</script> & co", service="a&b<c>"), CODE)
    root = ET.fromstring(ssml)  # well-formed despite the markup in the title
    assert "<script>" not in ssml
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in ssml
    assert "<script>alert(1)</script> & co" in "".join(root.itertext())
    assert not list(root.iter("script"))


@settings(max_examples=200, deadline=None)
@given(title=st.text(max_size=300), service=st.text(max_size=50), severity=st.text(max_size=10))
def test_voice_is_well_formed_xml_for_any_text(title, service, severity):
    root = ET.fromstring(voice_ssml(summary(title, severity, service), CODE))
    assert root.tag == "speak"


# -- email --------------------------------------------------------------------------------------------------
class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parsed(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collect()
    collector.feed(html)
    return collector.tags


def test_email_subject_and_bodies():
    message = email(summary(), CODE, "https://siren.example.com/a?x=1&y=2", "https://siren.example.com/r")
    assert message.subject == "[SEV1] checkout: p99 latency above 2s (INC-20261126-2341-3f9c1a)"
    for body in (message.text, message.html):
        facts = ("INC-20261126-2341-3f9c1a", "checkout", "SEV1", "2026-11-26 23:41 UTC", "ACK 482193", "RES 482193")
        for fact in facts:
            assert fact in body
    links = {attrs["href"]: attrs for tag, attrs in parsed(message.html) if tag == "a"}
    assert set(links) == {"https://siren.example.com/a?x=1&y=2", "https://siren.example.com/r"}
    assert "https://siren.example.com/a?x=1&amp;y=2" in message.html  # escaped in the attribute
    assert "<style" not in message.html and "<link" not in message.html  # inline styles only
    assert "Acknowledge: https://siren.example.com/a?x=1&y=2" in message.text


def test_email_without_links_has_no_buttons():
    message = email(summary(), CODE)
    assert not [tag for tag, _ in parsed(message.html) if tag == "a"]
    assert "Acknowledge" not in message.text


def test_email_escapes_untrusted_text():
    message = email(summary(title=XSS, service=XSS), CODE, "https://siren.example.com/a")
    assert "<img" not in message.html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in message.html
    assert not [tag for tag, _ in parsed(message.html) if tag == "img"]
    assert XSS in message.text  # plain text is not HTML: shown as it is


def test_email_subject_is_one_line():
    message = email(summary(title="line one\r\nBcc: victim@example.com"), CODE)
    assert "\n" not in message.subject and "\r" not in message.subject


def test_email_refuses_a_link_that_is_not_http():
    with pytest.raises(ValueError):
        email(summary(), CODE, "javascript:alert(1)")


# -- chat ---------------------------------------------------------------------------------------------------
def test_chat_payload_escapes_what_slack_requires():
    payload = chat_payload(summary(title="<!channel> a & b > c", service="<@U123>"), CODE, "https://s.example/a")
    dumped = json.dumps(payload)
    assert "<!channel>" not in dumped and "<@U123>" not in dumped
    assert "&lt;!channel&gt; a &amp; b &gt; c" in payload["text"]
    assert payload["blocks"][0]["text"]["text"] == "*SEV1 &lt;@U123&gt;*: &lt;!channel&gt; a &amp; b &gt; c"
    buttons = payload["blocks"][-1]["elements"]
    assert [(b["text"]["text"], b["url"]) for b in buttons] == [("Acknowledge", "https://s.example/a")]
    assert "ACK 482193" in dumped


def test_slack_escape_escapes_ampersand_first():
    assert slack_escape("&lt;") == "&amp;lt;"


# -- pages without a code (none could be allocated) -----------------------------------------------------------
LINK = "https://siren.example.com/a?i=INC-20261126-2341-3f9c1a&a=ack&u=alice&s=" + "x" * 43


def test_an_sms_without_a_code_keeps_its_link_before_its_title():
    for title in ("p99 latency above 2s", "disk full on " + "db-replica-" * 30):
        text = sms_text(summary(title), None, LINK)
        assert gsm7_length(text) <= SMS_MAX_SEPTETS
        assert text.endswith(f"Ack: {LINK}") and "ACK" not in text


def test_an_sms_without_a_code_or_room_for_its_link_says_where_to_acknowledge():
    too_long = LINK + "&n=" + "n" * 60
    for link in (None, too_long):
        text = sms_text(summary(), None, link)
        assert text.endswith("No reply code: ack by link or siren CLI") and "ACK" not in text


def test_a_call_and_an_email_without_a_code_say_where_to_acknowledge():
    spoken = voice_ssml(summary(), None)
    assert "code" not in spoken.split("p99 latency above 2s")[1] and "link" in spoken
    message = email(summary(), None, ack_url=LINK)
    assert "ACK" not in message.text and "no reply code" in message.text and LINK in message.text
    assert "ACK" not in message.html
