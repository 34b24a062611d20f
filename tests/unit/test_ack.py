"""Acknowledgement codes, SMS replies and signed ack links."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siren.domain.ack import (
    AckAction,
    AckLinkError,
    ReplyKind,
    SmsCommand,
    SmsCommandKind,
    help_text,
    is_ack_code,
    new_ack_code,
    parse_sms_reply,
    reply_text,
    sign_ack_link,
    verify_ack_link,
)
from siren.domain.messages import gsm7_length, is_gsm7

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 11, 26, 23, 41, tzinfo=UTC)
EXPIRES = NOW + timedelta(hours=1)
BASE = "https://siren.example.com/ack"


# -- codes --------------------------------------------------------------------------------------------------
def test_codes_are_six_digits_not_starting_with_zero():
    rng = random.Random(42)
    codes = [new_ack_code(rng) for _ in range(5000)]
    assert all(len(code) == 6 and code.isdigit() and code[0] != "0" for code in codes)
    assert all(is_ack_code(code) for code in codes)
    assert len(set(codes)) > 4900  # spread over 900,000 codes, not a handful of values
    assert not is_ack_code("4821")  # the old four-digit codes are not codes any more


def test_codes_come_from_the_supplied_random_source():
    assert [new_ack_code(random.Random(7)) for _ in range(3)] == [new_ack_code(random.Random(7))] * 3
    assert new_ack_code(random.SystemRandom()).isdigit()


# -- replies ------------------------------------------------------------------------------------------------
ACK, RESOLVE, HELP, STOP, UNKNOWN = (
    SmsCommandKind.ACK,
    SmsCommandKind.RESOLVE,
    SmsCommandKind.HELP,
    SmsCommandKind.STOP,
    SmsCommandKind.UNKNOWN,
)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("ACK 482193", SmsCommand(ACK, "482193")),
        ("ack482193", SmsCommand(ACK, "482193")),
        ("  Ack   482193 ", SmsCommand(ACK, "482193")),
        ("Acknowledge 482193", SmsCommand(ACK, "482193")),
        ("ACK: 482193.", SmsCommand(ACK, "482193")),
        ("ACK #482193", SmsCommand(ACK, "482193")),
        ("\uff21\uff23\uff2b \uff14\uff18\uff12\uff11\uff19\uff13", SmsCommand(ACK, "482193")),  # full-width
        ("ACK\n482193", SmsCommand(ACK, "482193")),
        ("RES 482193", SmsCommand(RESOLVE, "482193")),
        ("resolve 482193", SmsCommand(RESOLVE, "482193")),
        ("Res482193!", SmsCommand(RESOLVE, "482193")),
        ("ACK", SmsCommand(ACK, None)),  # no code: the caller decides (help, or the only open page)
        ("ACK 12", SmsCommand(ACK, "12")),  # a wrong code is answered "unknown code", not "unknown"
        ("HELP", SmsCommand(HELP)),
        ("help", SmsCommand(HELP)),
        ("STOP", SmsCommand(STOP)),
        ("stop", SmsCommand(STOP)),
        ("UNSUBSCRIBE", SmsCommand(STOP)),
        ("Cancel", SmsCommand(STOP)),
        ("END", SmsCommand(STOP)),
        ("quit", SmsCommand(STOP)),
        ("", SmsCommand(UNKNOWN)),
        ("   ", SmsCommand(UNKNOWN)),
        ("ok", SmsCommand(UNKNOWN)),
        ("ACK 482193 thanks", SmsCommand(UNKNOWN)),
        ("482193", SmsCommand(UNKNOWN)),
        ("ACKNOWLEDGED 482193", SmsCommand(UNKNOWN)),
        ("STOP 482193", SmsCommand(STOP)),  # starts with an opt-out keyword: Siren stays silent
        ("ACK 482193 RES 482193", SmsCommand(UNKNOWN)),
        ("on it 👍", SmsCommand(UNKNOWN)),
    ],
)
def test_reply_parsing(reply, expected):
    assert parse_sms_reply(reply) == expected


@given(st.text())
def test_any_reply_parses_to_something(reply):
    command = parse_sms_reply(reply)
    assert command.kind in SmsCommandKind
    assert command.code is None or command.code.isdigit()


def test_help_and_reply_texts_are_one_gsm7_segment():
    texts = [help_text()] + [reply_text(kind, "INC-20261126-2341-3f9c1a", "482193") for kind in ReplyKind]
    for text in texts:
        assert is_gsm7(text), text
        assert gsm7_length(text) <= 160, text
    assert "ACK" in help_text() and "RES" in help_text() and "STOP" in help_text()


@given(incident_id=st.text(max_size=300), code=st.text(max_size=20))
def test_reply_texts_stay_safe_whatever_they_are_given(incident_id, code):
    for kind in ReplyKind:
        text = reply_text(kind, incident_id, code)
        assert is_gsm7(text)
        assert gsm7_length(text) <= 160


def test_reply_texts_name_the_incident():
    assert reply_text(ReplyKind.ACKNOWLEDGED, "INC-1", "482193") == (
        "Siren: INC-1 acknowledged. Escalation stopped. Reply RES 482193 when resolved."
    )
    assert "INC-1" in reply_text(ReplyKind.ALREADY_RESOLVED, "INC-1")


# -- signed links -------------------------------------------------------------------------------------------
def signed(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "base_url": BASE,
        "incident_id": "INC-20261126-2341-3f9c1a",
        "action": "ack",
        "user": "alice",
        "expires_at": EXPIRES,
        "nonce": "n0nce-abc",
        "secret": SECRET,
    }
    arguments.update(overrides)
    return sign_ack_link(**arguments)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_a_signed_link_round_trips():
    # GIVEN a link WHEN its query is verified before expiry THEN the claims are what was signed
    url = signed()
    assert url.startswith(BASE + "?i=INC-20261126-2341-3f9c1a&a=ack&u=alice&e=")
    query = query_of(url)
    assert query["e"] == str(int(EXPIRES.timestamp()))
    assert "=" not in query["s"]  # base64url without padding
    claims = verify_ack_link(query, SECRET, NOW)
    assert claims.incident_id == "INC-20261126-2341-3f9c1a"
    assert claims.action is AckAction.ACK
    assert claims.user == "alice"
    assert claims.nonce == "n0nce-abc"
    assert claims.expires_at == EXPIRES


def test_a_resolve_link_with_awkward_values_round_trips():
    url = signed(action="resolve", user="bob+oncall@example.com", base_url=BASE + "?tenant=x")
    assert "?tenant=x&i=" in url
    claims = verify_ack_link(query_of(url), SECRET, NOW)
    assert claims.action is AckAction.RESOLVE
    assert claims.user == "bob+oncall@example.com"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("i", "INC-20261126-2341-000000"),
        ("a", "resolve"),
        ("u", "mallory"),
        ("e", str(int((EXPIRES + timedelta(days=30)).timestamp()))),
        ("n", "other-nonce"),
        ("s", "A" * 43),
        ("s", "not base64 !!"),
        ("s", "é"),
    ],
)
def test_any_tampered_field_is_refused(field, value):
    query = query_of(signed())
    query[field] = value
    with pytest.raises(AckLinkError) as refused:
        verify_ack_link(query, SECRET, NOW)
    assert refused.value.reason == "bad_signature"


@pytest.mark.parametrize("field", ["i", "a", "u", "e", "n", "s"])
def test_a_missing_field_is_refused(field):
    query = query_of(signed())
    del query[field]
    with pytest.raises(AckLinkError) as refused:
        verify_ack_link(query, SECRET, NOW)
    assert refused.value.reason == "missing"


def test_an_expired_link_is_refused():
    query = query_of(signed())
    assert verify_ack_link(query, SECRET, EXPIRES - timedelta(seconds=1))
    for late in (EXPIRES, EXPIRES + timedelta(days=1)):
        with pytest.raises(AckLinkError) as refused:
            verify_ack_link(query, SECRET, late)
        assert refused.value.reason == "expired"


def test_another_secret_is_refused():
    with pytest.raises(AckLinkError) as refused:
        verify_ack_link(query_of(signed()), b"another secret of enough length!", NOW)
    assert refused.value.reason == "bad_signature"


def test_signing_refuses_bad_arguments():
    with pytest.raises(ValueError):
        signed(action="delete")
    with pytest.raises(ValueError):
        signed(expires_at=datetime(2026, 11, 27))  # naive
    with pytest.raises(ValueError):
        signed(secret=b"short")
