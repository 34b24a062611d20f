"""The people who can be paged, and how each wants to be told."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from siren.domain.policy.serialization import KEY, PolicyPart


class NotificationMethod(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"
    CHAT = "chat"


@dataclass(frozen=True, slots=True)
class NotificationRule(PolicyPart):
    """Notify by ``method`` this many minutes after the page started, unless it was acknowledged by then."""

    method: NotificationMethod
    after_minutes: int = 0


DEFAULT_NOTIFY: Final[tuple[NotificationRule, ...]] = (
    NotificationRule(NotificationMethod.SMS, 0),
    NotificationRule(NotificationMethod.EMAIL, 0),
    NotificationRule(NotificationMethod.VOICE, 2),
)


@dataclass(frozen=True, slots=True)
class User(PolicyPart):
    """A person who can be paged; ``id`` is the key under ``users`` that schedules and policies refer to."""

    id: str = field(metadata=KEY)
    name: str  # as people know them; the id when not given
    phone: str | None = None  # E.164
    email: str | None = None
    time_zone: str = "UTC"  # IANA; where the person is, for showing them times
    # Without `notify`: DEFAULT_NOTIFY, less the methods the user has no phone or email for.
    notify: tuple[NotificationRule, ...] = DEFAULT_NOTIFY
    # Their Slack member id (U... or W...): a click or /siren command from it acts as this user.
    slack: str | None = None


def user_for_slack(users: Mapping[str, User], slack_id: str) -> User | None:
    """The Siren user mapped to Slack member ``slack_id`` (ids are unique across users: the validator holds it)."""
    return next((user for user in users.values() if user.slack == slack_id), None)
