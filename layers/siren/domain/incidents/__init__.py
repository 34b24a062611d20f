"""Incidents: what they are (:mod:`.model`), what a signal does to them (:mod:`.decisions`), and what people do to
them (:mod:`.actions`). Pure: the store reads and writes, these modules decide. Every name is importable from here.
"""

from siren.domain.incidents.actions import (
    ROLES,
    acknowledge,
    assign_role,
    change_severity,
    normalize_severity,
    post_public_update,
    resolve,
    sort_newest_first,
)
from siren.domain.incidents.decisions import (
    check_signal_time,
    decide,
    is_flapping,
)
from siren.domain.incidents.model import (
    EVENT_SOURCE,
    MAX_CLOCK_SKEW,
    PUBLIC_BODY_MAX,
    PUBLIC_STATUSES,
    PUBLIC_TITLE_MAX,
    SYSTEM_ACTOR,
    UNRESOLVED,
    Incident,
    IncidentError,
    IncidentStatus,
    KeyState,
    LifecycleEvent,
    LifecycleEventType,
    Outcome,
    PublicNote,
    TimelineEntry,
    TimelineKind,
    new_incident_id,
)
from siren.domain.severity import SeverityDecision

__all__ = [
    "EVENT_SOURCE",
    "MAX_CLOCK_SKEW",
    "PUBLIC_BODY_MAX",
    "PUBLIC_STATUSES",
    "PUBLIC_TITLE_MAX",
    "ROLES",
    "SYSTEM_ACTOR",
    "UNRESOLVED",
    "Incident",
    "IncidentError",
    "IncidentStatus",
    "KeyState",
    "LifecycleEvent",
    "LifecycleEventType",
    "Outcome",
    "PublicNote",
    "SeverityDecision",
    "TimelineEntry",
    "TimelineKind",
    "acknowledge",
    "assign_role",
    "change_severity",
    "check_signal_time",
    "decide",
    "is_flapping",
    "new_incident_id",
    "normalize_severity",
    "post_public_update",
    "resolve",
    "sort_newest_first",
]
