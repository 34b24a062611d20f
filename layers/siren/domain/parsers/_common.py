"""What every parser needs: typed reads of untrusted JSON that fail with a ParseError naming the place, timestamps,
bounded text and stable hashes.

Every reader takes ``where``, the JSON path of the value ("alerts[2].labels"), so that the sender reads exactly what
was wrong and where. Optional fields that are present but ``null`` count as absent: senders write ``null`` for
"nothing here" (CloudWatch's ``"AlarmDescription": null``), and that is not an error.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from siren.domain.signals import ParseError

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


def where_of(parent: str, key: str | int) -> str:
    """The JSON path of ``key`` under ``parent``: "alerts[2]", "alerts[2].labels", "detail.state"."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def describe(value: Any) -> str:
    """A JSON type name for messages: "a string", "null", "an array"."""
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (bool, "a boolean"),
        ((int, float), "a number"),
        (str, "a string"),
        (Mapping, "an object"),
        (Sequence, "an array"),
    )
    if value is None:
        return "null"
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParseError(f"{where} must be an object, not {describe(value)}")
    return value


def optional_mapping(container: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """The object at ``key``, or an empty one when it is absent or null."""
    value = container.get(key)
    if value is None:
        return {}
    return mapping(value, where_of(where, key))


def sequence(value: Any, where: str) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ParseError(f"{where} must be an array, not {describe(value)}")
    return value


def required_str(container: Mapping[str, Any], key: str, where: str, *, max_length: int | None = None) -> str:
    """A string that must be there and must not be blank."""
    path = where_of(where, key)
    if key not in container or container[key] is None:
        raise ParseError(f"{path} is required")
    value = container[key]
    if not isinstance(value, str):
        raise ParseError(f"{path} must be a string, not {describe(value)}")
    if not value.strip():
        raise ParseError(f"{path} must not be empty")
    if max_length is not None and len(value) > max_length:
        raise ParseError(f"{path} must be at most {max_length} characters, not {len(value)}")
    return value


def optional_str(container: Mapping[str, Any], key: str, where: str, *, max_length: int | None = None) -> str | None:
    """A string, or None when it is absent, null or blank."""
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"{where_of(where, key)} must be a string, not {describe(value)}")
    if max_length is not None and len(value) > max_length:
        raise ParseError(f"{where_of(where, key)} must be at most {max_length} characters, not {len(value)}")
    return value if value.strip() else None


def string_map(value: Any, where: str) -> dict[str, str]:
    """An object whose values are all strings (labels, annotations, dimensions)."""
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and isinstance(item, str) for key, item in value.items()
    ):
        raise ParseError(f"{where} must be an object of strings")
    return dict(value)


def optional_string_map(container: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = container.get(key)
    if value is None:
        return {}
    return string_map(value, where_of(where, key))


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
