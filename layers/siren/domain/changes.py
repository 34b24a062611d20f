"""Changes of a service (deploys, configuration changes), as PagerDuty's change events carry them: context for
the responders of the service's next incident ("what changed just before this"), never an incident themselves.

Pure: the value recorded, the window read back for an incident, and its timeline entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from siren.domain.incidents import TimelineEntry, TimelineKind

# How far back from an incident's opening a change counts as "just before this": an hour covers a deploy's
# rollout and the alert's own delay (a `for: 10m` rule, say) without dragging in yesterday's releases.
CHANGES_BEFORE_INCIDENT: Final = timedelta(minutes=60)
# At most this many changes are shown (the latest ones): a page must stay short, and the timeline entries of one
# step are written in one transaction (DynamoDB's limit: 100 items).
MAX_CHANGES_SHOWN: Final = 10
# A change's custom_details larger than this (as JSON) are not kept: its summary still is.
MAX_DETAILS_CHARS: Final = 16_000
CHANGE_ACTOR: Final = "changes"


@dataclass(frozen=True, slots=True)
class ChangeLink:
    href: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceChange:
    """One change of ``service`` at ``at``. ``id`` is the change's content hash: the same event sent twice (a
    sender's retry with the same timestamp) is one change."""

    service: str
    at: datetime
    summary: str
    id: str
    source: str | None = None
    integration: str | None = None
    custom_details: Any = None  # any JSON value, as sent (None when too large to keep)
    links: tuple[ChangeLink, ...] = ()


def service_change(
    service: str,
    at: datetime,
    summary: str,
    *,
    source: str | None = None,
    integration: str | None = None,
    custom_details: Any = None,
    links: Sequence[ChangeLink] = (),
) -> ServiceChange:
    """A change with its content-hash id (custom_details dropped when larger than MAX_DETAILS_CHARS)."""
    details_json = json.dumps(custom_details, sort_keys=True, separators=(",", ":"), default=str)
    if len(details_json) > MAX_DETAILS_CHARS:
        custom_details, details_json = None, "null"
    content = json.dumps(
        [
            service,
            at.astimezone(UTC).isoformat(),
            summary,
            source,
            integration,
            details_json,
            [[link.href, link.text] for link in links],
        ],
        separators=(",", ":"),
    )
    change_id = hashlib.sha256(content.encode()).hexdigest()[:16]
    return ServiceChange(service, at, summary, change_id, source, integration, custom_details, tuple(links))


def change_window(opened_at: datetime) -> tuple[datetime, datetime]:
    """The changes shown for an incident: those of the hour before it opened (its opening included). Anchored on
    the opening, not on the reader's clock, so that a retried step or page reads the same changes."""
    return opened_at - CHANGES_BEFORE_INCIDENT, opened_at


def change_entries(changes: Sequence[ServiceChange]) -> list[TimelineEntry]:
    """One timeline entry per change, at the change's own time (so the timeline reads in order)."""
    return [
        TimelineEntry(
            change.at,
            TimelineKind.CHANGE,
            CHANGE_ACTOR,
            f"change: {change.summary}" + (f" ({change.source})" if change.source else ""),
            {
                "change_id": change.id,
                "service": change.service,
                "source": change.source,
                "integration": change.integration,
                "links": [{"href": link.href, "text": link.text} for link in change.links],
            },
        )
        for change in changes
    ]
