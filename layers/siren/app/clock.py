"""The use cases' default clock: a module-level function rather than a lambda per class, so that every
dataclass of dependencies shares one default and its repr names it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
