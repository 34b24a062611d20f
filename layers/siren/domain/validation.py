"""The one validation toolkit: reading untrusted data (alert payloads, siren.yaml) and saying what is wrong where.

Both readers name the place of a problem by the same JSON path ("alerts[2].labels", "services.checkout.flapping")
and quote values the same way. They differ in what a problem does, because their readers differ: the parsers
(:mod:`siren.domain.parsers`) answer a machine, so the first problem refuses the alert (a :class:`ParseError`,
through the readers below); the configuration (:mod:`siren.config.fields`) answers a person, so it records every
problem with its line and reads on.

Optional fields that are present but ``null`` count as absent: senders write ``null`` for "nothing here"
(CloudWatch's ``"AlarmDescription": null``), and that is not an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from siren.domain.signals import ParseError

# An email address as Siren accepts one (siren.yaml's users, the status page's subscribers): the WHATWG "valid
# email address", without the quoted forms and IP literals that no one types and some mail APIs refuse.
EMAIL: Final = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def shown(value: object) -> str:
    """A value as a configuration problem quotes it: strings in double quotes, other scalars as YAML writes them."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


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


def quoted(value: Any) -> str:
    """A value as a parser's message shows it: a string as Python writes it ('ALARM'), anything else by its type."""
    return repr(value) if isinstance(value, str) else describe(value)


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
