"""Acknowledgement: the codes people reply with by SMS, what their replies mean, and signed ack links.

Pure: randomness, secrets and the clock are passed in.

A code is six digits (900,000 of them: a storm of thousands of open incidents uses a few percent), bound by the
caller to one incident and to the numbers it paged; a reply is honoured only from one of those numbers, so a guessed
code from elsewhere does nothing. The caller frees a code when its incident resolves and lets it expire with its
binding, so that codes neither run out nor cross over to another incident. Any code a number may not use gets
one and the same answer (:attr:`ReplyKind.CODE_REFUSED`), so that a stranger cannot tell a live code from a dead one.

Signed links (for email and chat) carry the incident, the action, the person, an expiry and a nonce, with an
HMAC-SHA256 over a canonical form of all five. :func:`verify_ack_link` checks signature and expiry only; single
use is the caller's job: store the nonce with a condition that it is new (DynamoDB ``attribute_not_exists``,
TTL at the expiry) and refuse the link when it is not. Consume the nonce on the POST of a confirmation page,
never on the GET: mail scanners (Safe Links and the like) fetch every link in a message before a person does.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

ACK_CODE_DIGITS = 6
_ACK_CODE = re.compile(rf"[1-9][0-9]{{{ACK_CODE_DIGITS - 1}}}")
_MIN_SECRET_BYTES = 16
_SIGNATURE_VERSION = "siren-ack-v1"


def new_ack_code(rng: random.Random) -> str:
    """Six digits, never starting with 0 (a leading zero gets lost when people or phones retype it).

    Pass ``random.SystemRandom()`` in production; tests pass a seeded ``random.Random``.
    """
    return str(rng.randint(10 ** (ACK_CODE_DIGITS - 1), 10**ACK_CODE_DIGITS - 1))


def is_ack_code(value: str) -> bool:
    return _ACK_CODE.fullmatch(value) is not None


# -- SMS replies ------------------------------------------------------------------------------------------
class SmsCommandKind(enum.StrEnum):
    ACK = "ack"
    RESOLVE = "resolve"
    HELP = "help"
    STOP = "stop"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SmsCommand:
    kind: SmsCommandKind
    code: str | None = None


_ACTION_WORDS = {
    "ACK": SmsCommandKind.ACK,
    "ACKNOWLEDGE": SmsCommandKind.ACK,
    "RES": SmsCommandKind.RESOLVE,
    "RESOLVE": SmsCommandKind.RESOLVE,
}
# AWS handles opt-out keywords itself (the number is added to the opt-out list); Siren only recognises them so
# that it stays silent instead of answering "unknown". End User Messaging's required opt-out keywords (its user
# guide, "Required opt-out keywords"), and STOPALL (US carriers'). A reply that merely starts with one
# ("Stop texting me", "OPT OUT", "Arrêt.") is taken as one too: silence is the safe side of the doubt.
OPT_OUT_KEYWORDS = frozenset(
    {"ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "STOPALL", "TD", "UNSUBSCRIBE"}
)
# Each keyword at the start of a reply, not followed by a letter ("ENDED" is not "END"); "OPT OUT" spelt either way.
_OPT_OUT_START = re.compile(r"(?:STOPALL|STOP|UNSUBSCRIBE|CANCEL|END|QUIT|OPT[- ]?OUT|REMOVE|ARRET|TD)(?![A-Z])")
_HELP_WORDS = frozenset({"HELP"})
# "ACK 482193", "ack482193", "Ack: 482193.", "ACKNOWLEDGE #482193"; a word alone has no code (the caller decides).
_REPLY = re.compile(r"(?P<word>[A-Z]+)\s*[:#-]?\s*(?P<code>[0-9]+)?\s*[.!]*")


def parse_sms_reply(text: str) -> SmsCommand:
    """What a reply to a page asks for. The code, when present, is returned as typed: an unknown or malformed
    code is for the caller to answer (:attr:`ReplyKind.CODE_REFUSED`), not a parse failure."""
    normalized = unicodedata.normalize("NFKC", text).strip().upper()
    if _OPT_OUT_START.match(_without_accents(normalized)):
        return SmsCommand(SmsCommandKind.STOP)
    match = _REPLY.fullmatch(normalized)
    if match is None:
        return SmsCommand(SmsCommandKind.UNKNOWN)
    word, code = match["word"], match["code"]
    if word in _ACTION_WORDS:
        return SmsCommand(_ACTION_WORDS[word], code)
    if code is None and word in _HELP_WORDS:
        return SmsCommand(SmsCommandKind.HELP)
    return SmsCommand(SmsCommandKind.UNKNOWN)


def _without_accents(text: str) -> str:
    """ "ARRÊT" -> "ARRET": French speakers type the accent; AWS's keyword has none."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class ReplyKind(enum.StrEnum):
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CODE_REFUSED = "code_refused"  # no code; an unknown, expired or malformed one; one this number was not paged with
    ALREADY_RESOLVED = "already_resolved"


_REPLIES = {
    ReplyKind.ACKNOWLEDGED: "Siren: {incident} acknowledged. Escalation stopped. Reply RES {code} when resolved.",
    ReplyKind.RESOLVED: "Siren: {incident} resolved. Thank you.",
    # One answer whatever the reason, so that it does not tell whether a code is live.
    ReplyKind.CODE_REFUSED: "Siren: code not recognised, or this number was not paged with it. Reply ACK <code> or "
    "RES <code> from the phone that got the page.",
    ReplyKind.ALREADY_RESOLVED: "Siren: {incident} is already resolved. Nothing to do.",
}
_SAFE_INCIDENT_ID = re.compile(r"[A-Za-z0-9-]{1,48}")


def help_text() -> str:
    return (
        "Siren incident alerts. Reply ACK <code> to acknowledge or RES <code> to resolve, using the code "
        "from the page. Reply STOP to opt out."
    )


def reply_text(kind: ReplyKind, incident_id: str = "", code: str = "") -> str:
    """The SMS answer to a reply (GSM-7 only, at most 160 characters, whatever the arguments)."""
    incident = incident_id if _SAFE_INCIDENT_ID.fullmatch(incident_id) else "the incident"
    return _REPLIES[kind].format(incident=incident, code=code if is_ack_code(code) else "<code>")


# -- signed links -----------------------------------------------------------------------------------------
class AckAction(enum.StrEnum):
    ACK = "ack"
    RESOLVE = "resolve"


_ACTIONS = frozenset(action.value for action in AckAction)


class AckLinkError(ValueError):
    """A link that must not be honoured; ``reason`` is one of missing, malformed, bad_signature, expired."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AckLinkClaims:
    incident_id: str
    action: AckAction
    user: str
    nonce: str
    expires_at: datetime


_FIELDS = ("i", "a", "u", "e", "n")


def _canonical(incident_id: str, action: str, user: str, expires: str, nonce: str) -> bytes:
    # A JSON array is unambiguous whatever the fields contain (no separator can be smuggled in).
    return json.dumps([_SIGNATURE_VERSION, incident_id, action, user, expires, nonce], separators=(",", ":")).encode()


def _signature(secret: bytes, canonical: bytes) -> bytes:
    if len(secret) < _MIN_SECRET_BYTES:
        raise ValueError(f"the ack link secret must be at least {_MIN_SECRET_BYTES} bytes")
    return hmac.new(secret, canonical, hashlib.sha256).digest()


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def sign_fields(secret: bytes, version: str, fields: Sequence[str]) -> str:
    """The base64url HMAC-SHA256 of ``fields`` under ``version``, for other signed links (status page
    subscriptions) made with the same secret: a distinct ``version`` per kind of link keeps one kind's
    signature from passing as another's."""
    return _b64url(_signature(secret, json.dumps([version, *fields], separators=(",", ":")).encode()))


def fields_signed(secret: bytes, version: str, fields: Sequence[str], signature: str) -> bool:
    """Whether ``signature`` is :func:`sign_fields`'s for these fields, compared in constant time."""
    return hmac.compare_digest(sign_fields(secret, version, fields).encode(), signature.encode("utf-8", "replace"))


def sign_ack_link(  # noqa: PLR0917 (the agreed signature; callers pass it positionally)
    base_url: str,
    incident_id: str,
    action: str,
    user: str,
    expires_at: datetime,
    nonce: str,
    secret: bytes,
) -> str:
    """``base_url?i=&a=&u=&e=<unix seconds>&n=&s=<base64url HMAC-SHA256>``. ``nonce``: e.g.
    ``secrets.token_urlsafe(16)``, recorded by the caller when the link is used (see the module docstring)."""
    if action not in _ACTIONS:
        raise ValueError(f"action must be one of {sorted(_ACTIONS)}, not {action!r}")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    if not incident_id or not user or not nonce:
        raise ValueError("incident_id, user and nonce must not be empty")
    expires = str(int(expires_at.timestamp()))
    signature = _signature(secret, _canonical(incident_id, action, user, expires, nonce))
    query = urlencode({"i": incident_id, "a": action, "u": user, "e": expires, "n": nonce, "s": _b64url(signature)})
    return f"{base_url}{'&' if '?' in base_url else '?'}{query}"


def verify_ack_link(query: Mapping[str, str], secret: bytes, now: datetime) -> AckLinkClaims:
    """The claims of a genuine, unexpired link; raises :class:`AckLinkError` otherwise. Does not check that the
    nonce is unused: the caller must (see the module docstring)."""
    missing = [name for name in (*_FIELDS, "s") if not query.get(name)]
    if missing:
        raise AckLinkError("missing", f"missing {', '.join(missing)}")
    incident_id, action, user, expires, nonce = (query[name] for name in _FIELDS)
    try:
        given = base64.urlsafe_b64decode(query["s"] + "=" * (-len(query["s"]) % 4))
    except (binascii.Error, ValueError) as exc:
        raise AckLinkError("bad_signature", "the signature is not base64url") from exc
    expected = _signature(secret, _canonical(incident_id, action, user, expires, nonce))
    if not hmac.compare_digest(expected, given):
        raise AckLinkError("bad_signature", "the signature does not match")
    # Signed by us from here on: what follows can only fail for a link we made with bad values.
    if action not in _ACTIONS or not expires.isdigit():
        raise AckLinkError("malformed", "unknown action or expiry")
    expires_at = datetime.fromtimestamp(int(expires), tz=UTC)
    if now >= expires_at:
        raise AckLinkError("expired", f"expired at {expires_at.isoformat()}")
    return AckLinkClaims(incident_id, AckAction(action), user, nonce, expires_at)
