"""How the policy becomes the normalized JSON shipped to Lambda, and back: one generic walk over the dataclasses.

Each field is written under its own name, with enums as their values, tuples as lists, date-times and times of day
as ISO text without needless seconds, and ``None`` left out (absent means "inherit" or "none"). A field marked
:data:`KEY` is the key its object is filed under in the parent (a user's id, a schedule's name), so it is not
repeated inside; one marked :data:`OMIT_EMPTY` is left out when empty. The few types whose JSON is shaped otherwise
override :meth:`PolicyPart.to_json` (and :meth:`PolicyPart.from_json`).

Reading back (:meth:`PolicyPart.from_json`) trusts its input: the deployed JSON is what ``SirenConfig.to_json``
wrote at synth, after ``siren.config`` validated siren.yaml. Lambda reads it with this walk, not through the
validators, which cost a cold function more than a third of ``import boto3`` (the YAML reader, the section
validators and their error reporting). ``siren.config.config_from_json`` stays the way to read JSON from anyone
else: it checks everything and names every problem.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, Field, fields
from datetime import datetime, time
from typing import Any, Final, Self

KEY: Final[Mapping[str, str]] = {"json": "key"}
OMIT_EMPTY: Final[Mapping[str, str]] = {"json": "omit_empty"}


class PolicyPart:
    """A frozen dataclass of the policy whose JSON is the generic one (see the module's docstring)."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        shaped: dict[str, Any] = {}
        for part in fields(self):  # type: ignore[arg-type]
            rule = part.metadata.get("json")
            value = as_json(getattr(self, part.name))
            if rule == "key" or value is None or (rule == "omit_empty" and not value):
                continue
            shaped[part.name] = value
        return shaped

    @classmethod
    def from_json(cls, data: Mapping[str, Any], key: str | None = None) -> Self:
        """The part :meth:`to_json` wrote (``key``: what it is filed under in its parent, for a :data:`KEY` field).
        Absent fields take their defaults, as ``to_json`` leaves out ``None`` and empty :data:`OMIT_EMPTY` ones."""
        return read_fields(cls, data, key)


P = typing.TypeVar("P", bound=PolicyPart)


def read_fields(cls: type[P], data: Mapping[str, Any], key: str | None = None) -> P:
    """The generic reading of :meth:`PolicyPart.from_json`, for the overrides to call on the data they reshaped."""
    values: dict[str, Any] = {}
    for part, hint in _typed_fields(cls):
        if part.metadata.get("json") == "key":
            values[part.name] = key
        elif part.name in data:
            values[part.name] = from_json_value(hint, data[part.name])
    return cls(**values)


_TYPED_FIELDS: dict[type, tuple[tuple[Field[Any], Any], ...]] = {}


def _typed_fields(cls: type) -> tuple[tuple[Field[Any], Any], ...]:
    """The dataclass's init fields with their types resolved (the modules use ``from __future__ import annotations``,
    so the annotations are text until resolved here, once per class)."""
    typed = _TYPED_FIELDS.get(cls)
    if typed is None:
        hints = typing.get_type_hints(cls)
        typed = _TYPED_FIELDS[cls] = tuple((part, hints[part.name]) for part in fields(cls) if part.init)
    return typed


def from_json_value(hint: Any, value: Any, key: str | None = None) -> Any:
    """``value``, as :func:`as_json` wrote it, read back as the type ``hint`` names."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(hint) if member is not type(None)]
        if value is None:
            return None
        return from_json_value(_member_for(members, value), value, key)
    if origin is tuple:
        (item_hint, *_) = typing.get_args(hint)
        return tuple(from_json_value(item_hint, item) for item in value)
    if origin is Mapping or origin is dict:
        _, item_hint = typing.get_args(hint)
        return {name: from_json_value(item_hint, item, name) for name, item in value.items()}
    if isinstance(hint, type):
        if issubclass(hint, PolicyPart):
            return hint.from_json(value, key)
        if issubclass(hint, enum.Enum):
            return hint(value)
        if hint is datetime or hint is time:
            return hint.fromisoformat(value)
    return value


def _member_for(members: list[Any], value: Any) -> Any:
    """Which member of a union ``value`` was written from: the only one, else the first policy part whose fields
    hold every key of ``value`` and all its required ones (a severity rule is a ``when`` rule or a ``use`` rule)."""
    if len(members) == 1:
        return members[0]
    for member in members:
        if isinstance(member, type) and issubclass(member, PolicyPart) and isinstance(value, Mapping):
            names = {part.name for part, _ in _typed_fields(member)}
            required = {
                part.name
                for part, _ in _typed_fields(member)
                if part.default is MISSING and part.default_factory is MISSING and part.metadata.get("json") != "key"
            }
            if set(value) <= names and required <= set(value):
                return member
    raise ValueError(f"{value!r} is none of {members!r}")


def as_json(value: object) -> Any:
    """``value`` as JSON: policy parts by their ``to_json``, the rest as the module's docstring says."""
    if isinstance(value, PolicyPart):
        return value.to_json()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | time):
        return clock_text(value)
    if isinstance(value, tuple | list):
        return [as_json(item) for item in value]
    if isinstance(value, Mapping):
        return {key: as_json(item) for key, item in value.items()}
    return value


def clock_text(moment: datetime | time) -> str:
    """ISO text to the minute, unless the time has seconds: "2026-01-05T09:00", "22:00"."""
    return moment.isoformat(timespec="minutes" if not (moment.second or moment.microsecond) else "auto")
