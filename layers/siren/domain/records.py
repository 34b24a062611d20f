"""What the store hands back besides incidents: a raw alert, an incident with its timeline, an action item."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from siren.domain.incidents import Incident, TimelineEntry


@dataclass(frozen=True, slots=True)
class RawAlert:
    """A delivery as it arrived: kept for the timeline and the postmortem; its key makes a redelivery a no-op."""

    source: str
    delivery_id: str
    received_at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class IncidentView:
    incident: Incident
    timeline: list[TimelineEntry]


@dataclass(frozen=True, slots=True)
class ActionItemRecord:
    id: str
    incident_id: str
    title: str
    owner: str
    due: date
    created_at: datetime
    created_by: str
    done_at: datetime | None = None
    done_by: str | None = None

    def is_overdue(self, today: date) -> bool:
        """Open and past its due date (due today is not yet overdue): the report, the postmortem draft and
        ``siren actions list --overdue`` all ask this one question."""
        return self.done_at is None and self.due < today
