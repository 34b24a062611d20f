"""The publisher's record of what it published, kept with the site (``_siren/published-incidents.json``): the
public face of every resolved incident it showed, and which public incidents were still open.

A resolved incident rarely changes, so a publish reads from the store only the unresolved incidents, those that
were open last time (they may have been resolved since) and those a lifecycle event named; the rest comes from this
record. It holds only what the site already publishes (the JSON API carries the same incidents), at full precision.

The record says which configuration and which code made it public (``made_by``): when either changes, it is not
used, and the next publish reads every incident again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from siren.domain import status as status_model
from siren.domain.status import (
    Component,
    ComponentStatus,
    Impact,
    PublicIncident,
    PublicStatus,
    PublicUpdate,
)
from siren.ports import IncidentRef

RECORD_KEY = "_siren/published-incidents.json"
_FORMAT = 1


def made_by(components: Sequence[Component], impact: Mapping[str, str]) -> str:
    """A digest of what decides an incident's public face: the components' services, the severity -> impact
    map, and the code of siren.domain.status (public_incident)."""
    digest = hashlib.sha256(Path(str(status_model.__file__)).read_bytes())
    digest.update(repr(([(c.id, c.services) for c in components], sorted(impact.items()), _FORMAT)).encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class PublishedIncidents:
    made_by: str
    settled: tuple[PublicIncident, ...]  # resolved in the store
    open: tuple[IncidentRef, ...]  # public and unresolved in the store at that publish

    def to_json(self) -> bytes:
        """Compact JSON, byte for byte ``json.dumps(document, ensure_ascii=False, separators=(",", ":"))``, each
        settled incident's text kept by what it shows (a publish writes the record whole, most of it as it was)."""
        head = _dumps({"format": _FORMAT, "made_by": self.made_by})[:-1]
        settled = ",".join(_incident_text(incident) for incident in self.settled)
        refs = _dumps([{"id": ref.id, "opened_at": ref.opened_at.isoformat()} for ref in self.open])
        return f'{head},"settled":[{settled}],"open":{refs}}}'.encode()

    @classmethod
    def parse(cls, body: bytes | None, expected_maker: str) -> PublishedIncidents | None:
        """The record, or None when there is none, it is unreadable, or another configuration or code made it."""
        if body is None:
            return None
        known = _last_record.get(expected_maker)
        if known is not None and known[0] == body:
            return known[1]  # the record this process wrote or read last: the same bytes, the same record
        try:
            document = json.loads(body)
            if document["format"] != _FORMAT or document["made_by"] != expected_maker:
                return None
            settled = tuple(_incident_of(entry) for entry in document["settled"])
            refs = tuple(IncidentRef(e["id"], datetime.fromisoformat(e["opened_at"])) for e in document["open"])
        except (ValueError, TypeError, KeyError):
            return None  # unreadable: every incident is read again
        return _remember(body, cls(expected_maker, settled, refs))


# The record this process last wrote or read, by its maker: a warm publisher reads back the record it wrote, and
# need not parse a thousand incidents to learn what it already holds.
_last_record: dict[str, tuple[bytes, PublishedIncidents]] = {}


def _remember(body: bytes, record: PublishedIncidents) -> PublishedIncidents:
    _last_record.clear()
    _last_record[record.made_by] = (body, record)
    return record


def record_of(maker: str, settled: Iterable[PublicIncident], open_incidents: Iterable[PublicIncident]) -> bytes:
    ordered = sorted(settled, key=lambda incident: incident.id)
    refs = sorted((IncidentRef(i.id, i.created_at) for i in open_incidents), key=lambda ref: ref.id)
    record = PublishedIncidents(maker, tuple(ordered), tuple(refs))
    body = record.to_json()
    _remember(body, record)
    return body


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@functools.lru_cache(maxsize=4096)
def _incident_text(incident: PublicIncident) -> str:
    return _dumps(_incident_json(incident))


def _time(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _incident_json(incident: PublicIncident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status.value,
        "impact": incident.impact.value,
        "component_ids": list(incident.component_ids),
        "component_status": incident.component_status.value,
        "created_at": _time(incident.created_at),
        "updated_at": _time(incident.updated_at),
        "resolved_at": _time(incident.resolved_at),
        "updates": [{"at": _time(u.at), "status": u.status.value, "body": u.body} for u in incident.updates],
    }


def _incident_of(entry: Mapping[str, Any]) -> PublicIncident:
    resolved_at = entry["resolved_at"]
    return PublicIncident(
        id=str(entry["id"]),
        title=str(entry["title"]),
        status=PublicStatus(entry["status"]),
        impact=Impact(entry["impact"]),
        component_ids=tuple(str(c) for c in entry["component_ids"]),
        component_status=ComponentStatus(entry["component_status"]),
        created_at=datetime.fromisoformat(entry["created_at"]),
        updated_at=datetime.fromisoformat(entry["updated_at"]),
        resolved_at=datetime.fromisoformat(resolved_at) if resolved_at is not None else None,
        updates=tuple(
            PublicUpdate(datetime.fromisoformat(u["at"]), PublicStatus(u["status"]), str(u["body"]))
            for u in entry["updates"]
        ),
    )
