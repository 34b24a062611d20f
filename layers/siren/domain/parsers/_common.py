"""What every parser needs beyond the typed reads of :mod:`siren.domain.validation`: bounded JSON decoding,
timestamps, bounded text, safe links and stable hashes.

Every reader takes ``where``, the JSON path of the value ("alerts[2].labels"), so that the sender reads exactly what
was wrong and where.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from siren.domain.signals import Judgement, ParseError, Refusal, Signal
from siren.domain.validation import describe, where_of

MAX_TITLE: Final = 255
MAX_SUMMARY: Final = 4000
MAX_URL: Final = 2048
# No alert format nests deeper than a few levels. A deeper body is refused at decoding, so that nothing downstream
# (hashing it, storing it as JSON) meets a nesting deep enough to exhaust Python's recursion limit half-way through a
# batch.
MAX_JSON_DEPTH: Final = 64
_TOO_DEEP: Final = f"JSON nested too deeply: the limit is {MAX_JSON_DEPTH} levels of objects and arrays"

# RFC 3339 / ISO 8601 date-times with an offset, as CloudWatch ("2019-10-02T17:04:40.989+0000"), Alertmanager and
# Grafana (Go's RFC3339Nano: up to nine fractional digits) write them.
_TIMESTAMP: Final = re.compile(
    r"(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<fraction>\d+))?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)",
    re.ASCII,
)


def decode_json(text: str | bytes) -> Any:
    """``text`` decoded from JSON and nested at most MAX_JSON_DEPTH deep, or a ParseError that says which it is not."""
    try:
        value = json.loads(text)
    except RecursionError:  # the decoder recurses once a level: 100,000 "[" exhaust the stack
        raise ParseError(_TOO_DEEP) from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ParseError(f"malformed JSON: {error}") from None
    # Without recursion, so that the check itself cannot exhaust the stack.
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ParseError(_TOO_DEEP)
            pending.extend((child, depth + 1) for child in (current.values() if isinstance(current, dict) else current))
    return value


def timestamp(value: Any, where: str) -> datetime:
    """A date-time with an offset, as a timezone-aware UTC datetime. Naive times are refused: their zone is a guess."""
    if not isinstance(value, str):
        raise ParseError(f"{where} must be a date-time string, not {describe(value)}")
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        raise ParseError(f"{where} is not a date-time with a UTC offset (like 2019-10-02T17:04:40.989+0000): {value!r}")
    # Python keeps microseconds: Go's nanoseconds are cut, not rounded (rounding could carry into the seconds).
    fraction = f".{match['fraction'][:6]}" if match["fraction"] else ""
    offset = "+00:00" if match["offset"] in ("Z", "z") else match["offset"]
    try:
        return datetime.fromisoformat(f"{match['base']}{fraction}{offset}").astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise ParseError(f"{where} is not a valid date-time ({error}): {value!r}") from None


def optional_timestamp(container: Mapping[str, Any], key: str, where: str) -> datetime | None:
    """A date-time, or None when absent, null, empty, or Go's zero time ("0001-01-01T00:00:00Z": "not set")."""
    value = container.get(key)
    if value is None or value == "":
        return None
    parsed = timestamp(value, where_of(where, key))
    return None if parsed.year == 1 else parsed


def http_url(value: str | None) -> str | None:
    """``value`` if it is an absolute http(s) URL of sensible length, else None: links end up as hrefs, and a
    ``javascript:`` URL must never become one."""
    if value is None or len(value) > MAX_URL:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters; a cut text ends with an ellipsis so readers know it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stable_hash(value: Any) -> str:
    """A hex digest of ``value``'s canonical JSON: the same value always gives the same id."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def aware_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def judge_each(
    places: Sequence[tuple[Any, str]], window: range | None, read: Callable[[Any, str], Signal]
) -> Judgement:
    """Each alert of a request, with its JSON path, judged on its own: a signal, or a Refusal that carries the
    ParseError's message, so one wrong alert never costs its neighbours their page.

    ``window``: judge only the alerts at these indexes (a chunk of a large request); ``total`` counts them all.
    """
    accepted: list[tuple[int, Signal]] = []
    refused: list[Refusal] = []
    for index in window if window is not None else range(len(places)):
        if not 0 <= index < len(places):
            break
        alert, where = places[index]
        try:
            accepted.append((index, read(alert, where)))
        except ParseError as error:
            refused.append(Refusal(index, str(error)))
    return Judgement(len(places), tuple(accepted), tuple(refused))
