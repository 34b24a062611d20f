"""How the policy becomes the normalized JSON shipped to Lambda: one generic walk over the dataclasses.

Each field is written under its own name, with enums as their values, tuples as lists, date-times and times of day
as ISO text without needless seconds, and ``None`` left out (absent means "inherit" or "none"). A field marked
:data:`KEY` is the key its object is filed under in the parent (a user's id, a schedule's name), so it is not
repeated inside; one marked :data:`OMIT_EMPTY` is left out when empty. The few types whose JSON is shaped otherwise
override :meth:`PolicyPart.to_json`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime, time
from typing import Any, Final

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
