"""The customer status page: its components, and what an open incident of each severity does to them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Self

from siren.domain.policy.serialization import PolicyPart, as_json, read_fields

_DEFAULT_IMPACT: Final = {
    "SEV1": "major_outage",
    "SEV2": "partial_outage",
    "SEV3": "degraded_performance",
    "SEV4": "operational",
    "SEV5": "operational",
}
COMPONENT_STATUSES: Final = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)
INCIDENT_COMPONENT_STATUSES: Final = COMPONENT_STATUSES[:4]


@dataclass(frozen=True, slots=True)
class StatusComponent(PolicyPart):
    name: str
    description: str = ""
    group: str | None = None
    services: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusPageConfig(PolicyPart):
    """The customer status page: its name, components (in display order) and what each severity does to them."""

    name: str = "Status"
    components: Mapping[str, StatusComponent] = field(default_factory=dict)
    # severity -> the status an open incident of that severity gives the components of its service
    impact: Mapping[str, str] = field(default_factory=lambda: dict(_DEFAULT_IMPACT))

    def components_of_service(self, service: str) -> tuple[str, ...]:
        return tuple(cid for cid, component in self.components.items() if service in component.services)

    def to_json(self) -> dict[str, Any]:
        """Components are a list with their ids: their display order must survive sorted keys."""
        components = [{"id": cid, **component.to_json()} for cid, component in self.components.items()]
        return {"name": self.name, "components": components, "impact": as_json(self.impact)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], key: str | None = None) -> Self:
        components = {
            entry["id"]: read_fields(StatusComponent, {name: value for name, value in entry.items() if name != "id"})
            for entry in data["components"]
        }
        return cls(name=data["name"], components=components, impact=dict(data["impact"]))
