"""What a page is, once for every record Siren keeps: the leadership report, the postmortem, the game-day scorecard
and ``make bench`` all count pages with this module, so they agree about the same incident.

A **page** is a notification that reached a person on a person's channel: an SMS, a voice call or an email, sent
successfully (a ``paged`` timeline entry that names the user and one of those channels). Not pages:

- a chat post (the team's channel, nobody in particular): counted apart, as a chat post;
- a dry run (Siren's canary checks the SMS path without sending anything);
- a marker that names a role or a person without a channel ("paging erin as incident commander"): the pages
  that follow it are counted, the marker is not.

A **failed attempt** is a send to a person that failed (a ``page_failed`` entry naming the user and the channel).
Fallbacks: a failed End User Messaging SMS followed by a successful SNS SMS, or a failed call followed by a text,
is ONE page delivered and ONE failed attempt; the person was reached. A person is **unreached** at a moment when
every attempt to reach them then failed: their failed attempts of one send (one user, one time: a page task
records all of its attempts, fallbacks included, at the time it starts sending) with no page beside them.

Pure: no I/O; reads only the timeline entries it is given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siren.domain.incidents import TimelineEntry, TimelineKind

PERSON_CHANNELS = frozenset({"sms", "voice", "email"})
CHAT_CHANNEL = "chat"


@dataclass(frozen=True, slots=True)
class Page:
    """One send to one person: delivered (a page) or not (a failed attempt)."""

    at: datetime
    user: str
    channel: str  # sms, voice or email
    via: str  # the provider: eum, sns, ses...
    role: str | None  # "commander", "comms" for a role's pages; None for the escalation's levels
    drill: bool


def _person_send(entry: TimelineEntry) -> Page | None:
    data: dict[str, Any] = dict(entry.data)
    if data.get("dry_run") or data.get("canary"):
        return None
    user, channel = data.get("user"), data.get("channel")
    if not isinstance(user, str) or not user or channel not in PERSON_CHANNELS:
        return None
    role = data.get("role")
    return Page(
        entry.at, user, str(channel), str(data.get("via") or ""), str(role) if role else None, bool(data.get("drill"))
    )


def as_page(entry: TimelineEntry) -> Page | None:
    """The page ``entry`` records, or None when it records no page (see the module's definition). Streams of
    entries (the report's month of activity) are counted with this, one entry at a time."""
    return _person_send(entry) if entry.kind is TimelineKind.PAGED else None


def as_failed_attempt(entry: TimelineEntry) -> Page | None:
    return _person_send(entry) if entry.kind is TimelineKind.PAGE_FAILED else None


def is_chat_post(entry: TimelineEntry) -> bool:
    return entry.kind is TimelineKind.PAGED and entry.data.get("channel") == CHAT_CHANNEL


@dataclass(frozen=True, slots=True)
class PageCount:
    pages: tuple[Page, ...]  # in timeline order
    failed_attempts: tuple[Page, ...]
    unreached: tuple[tuple[str, datetime], ...]  # (user, when): every attempt to reach them then failed
    chat_posts: int
    chat_failures: int

    @property
    def total(self) -> int:
        return len(self.pages)

    @property
    def responders(self) -> list[str]:
        """Everyone paged, in the order they were first paged."""
        return list(dict.fromkeys(page.user for page in self.pages))

    def by_user(self) -> Counter[str]:
        return Counter(page.user for page in self.pages)

    @property
    def first_at(self) -> datetime | None:
        return min((page.at for page in self.pages), default=None)


def count_pages(entries: Iterable[TimelineEntry]) -> PageCount:
    """The pages, failed attempts, unreached people and chat posts of a timeline (any order)."""
    ordered = sorted(entries, key=lambda entry: entry.at)
    pages, failed = [], []
    chat_posts = chat_failures = 0
    for entry in ordered:
        if (page := as_page(entry)) is not None:
            pages.append(page)
        elif (attempt := as_failed_attempt(entry)) is not None:
            failed.append(attempt)
        elif entry.data.get("channel") == CHAT_CHANNEL:
            chat_posts += entry.kind is TimelineKind.PAGED
            chat_failures += entry.kind is TimelineKind.PAGE_FAILED
    reached = {(page.user, page.at) for page in pages}
    unreached = tuple(dict.fromkeys((a.user, a.at) for a in failed if (a.user, a.at) not in reached))
    return PageCount(tuple(pages), tuple(failed), unreached, chat_posts, chat_failures)
