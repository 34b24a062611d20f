"""Statuspage's public v2 API (as https://metastatuspage.com/api/v2 serves it), built as data: dicts the site
serializes with json.dumps, never text from a template, so no value typed by a person can break the JSON.

Ids, order and groups are those of the HTML pages (siren.render.status_view), so the two never disagree.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from siren.domain.status import Impact, MaintenanceStatus, PublicStatus
from siren.render.status_view import entries, incident_path, require_safe_ids, slug, url_part
from siren.render.text import utc

if TYPE_CHECKING:
    from siren.domain.status import ComponentView, Maintenance, PublicIncident, StatusSnapshot


def _api_time(at: datetime | None) -> str | None:
    """Statuspage's timestamps: ISO 8601 in UTC with milliseconds, '2026-11-27T03:15:00.000Z'."""
    if at is None:
        return None
    # isoformat truncates to the millisecond as the division did, and costs a fifth of strftime (13 calls an incident)
    return utc(at).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def page_id(page_name: str) -> str:
    """A stable id for the page, from its name ('Example Status' -> 'example-status')."""
    return slug(page_name) or "status"


def _page_json(snapshot: StatusSnapshot) -> dict[str, Any]:
    return {
        "id": page_id(snapshot.page_name),
        "name": snapshot.page_name,
        "url": snapshot.page_url,
        "time_zone": snapshot.time_zone,
        "updated_at": _api_time(snapshot.generated_at),
    }


def _components_json(snapshot: StatusSnapshot) -> list[dict[str, Any]]:
    """Components in display order, groups included (Statuspage lists a group as a component with ``group``
    true and its members' ids, before its members)."""
    pid, updated = page_id(snapshot.page_name), _api_time(snapshot.generated_at)

    def created(views: Iterable[ComponentView]) -> str | None:
        # A group appeared with its first component.
        return _api_time(min((view.created_at or snapshot.generated_at for view in views), default=None))

    def component(**fields: Any) -> dict[str, Any]:
        return {
            "id": fields["id"],
            "name": fields["name"],
            "status": fields["status"],
            "created_at": fields["created"],
            "updated_at": updated,
            "position": fields["position"],
            "description": fields["description"],
            "showcase": fields["showcase"],
            "start_date": None,
            "group_id": fields["group_id"],
            "page_id": pid,
            "group": fields["group"],
            "only_show_if_degraded": False,
        }

    out: list[dict[str, Any]] = []
    for entry in entries(snapshot.components):
        if entry.name is not None:
            group = component(
                id=entry.group_id,
                name=entry.name,
                status=entry.status.value,
                position=len(out) + 1,
                description=None,
                showcase=False,
                group_id=None,
                group=True,
                created=created(row.view for row in entry.rows),
            )
            group["components"] = [row.view.component.id for row in entry.rows]
            out.append(group)
        for row in entry.rows:
            view = row.view
            child = component(
                id=view.component.id,
                name=view.component.name,
                status=view.status.value,
                position=len(out) + 1,
                description=view.component.description or None,
                showcase=True,
                group_id=entry.group_id,
                group=False,
                created=created([view]),
            )
            out.append(child)
    return out


def _monitoring_at(incident: PublicIncident) -> datetime | None:
    times = [update.at for update in incident.updates if update.status is PublicStatus.MONITORING]
    return min(times, default=None)


def _update_json(update_id: str, incident_id: str, status: str, body: str, at: datetime) -> dict[str, Any]:
    return {
        "id": update_id,
        "status": status,
        "body": body,
        "incident_id": incident_id,
        "created_at": _api_time(at),
        "updated_at": _api_time(at),
        "display_at": _api_time(at),
        "affected_components": None,
        # Every public update is meant for subscribers (Siren publishes each one to the Atom feed), so a client
        # that relays only notified updates relays these; Siren posts no tweets.
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _affected_json(item: PublicIncident | Maintenance, components: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [components[cid] for cid in item.component_ids if cid in components]


def _incident_json(
    snapshot: StatusSnapshot, incident: PublicIncident, components: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    fields = dict(_incident_fields(incident, snapshot.page_url, page_id(snapshot.page_name)))
    fields["components"] = _affected_json(incident, components)
    return fields


@functools.lru_cache(maxsize=4096)
def _incident_fields(incident: PublicIncident, page_url: str, pid: str) -> Mapping[str, Any]:
    """An incident's fields but its components (which carry their current status), kept by what they show: a
    publish lists every incident, most of them as they were. Read-only: callers copy it."""
    created, updated = _api_time(incident.created_at), _api_time(incident.updated_at)
    count = len(incident.updates)
    # Numbered from the oldest, so an update keeps its id when newer ones arrive.
    updates = [
        _update_json(f"{incident.id}-{count - index}", incident.id, update.status.value, update.body, update.at)
        for index, update in enumerate(incident.updates)
    ]
    return MappingProxyType(
        {
            "id": incident.id,
            "name": incident.title,
            "status": incident.status.value,
            "created_at": created,
            "updated_at": updated,
            "monitoring_at": _api_time(_monitoring_at(incident)),
            "resolved_at": _api_time(incident.resolved_at),
            "impact": incident.impact.value,
            "shortlink": f"{page_url}/{incident_path(incident.id)}",
            "started_at": created,
            "page_id": pid,
            "incident_updates": updates,
        }
    )


@functools.lru_cache(maxsize=4096)
def _incident_text(incident: PublicIncident, page_url: str, pid: str) -> str:
    """An incident's fields but its components as JSON text, without the closing brace (see api_bodies)."""
    return _dumps(dict(_incident_fields(incident, page_url, pid)))[:-1]


def _maintenance_json(
    snapshot: StatusSnapshot, window: Maintenance, components: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    status = window.status(snapshot.generated_at)
    created = window.created_at or window.starts_at
    updated = created if status is MaintenanceStatus.SCHEDULED else max(created, window.starts_at)
    update = _update_json(f"{window.id}-1", window.id, MaintenanceStatus.SCHEDULED.value, window.body, created)
    return {
        "id": window.id,
        "name": window.title,
        "status": status.value,
        "created_at": _api_time(created),
        "updated_at": _api_time(updated),
        "monitoring_at": None,
        "resolved_at": _api_time(window.ends_at) if status is MaintenanceStatus.COMPLETED else None,
        "impact": Impact.MAINTENANCE.value,
        "shortlink": f"{snapshot.page_url}/#{url_part(window.id)}",
        "started_at": _api_time(window.starts_at),
        "page_id": page_id(snapshot.page_name),
        "incident_updates": [update],
        "components": _affected_json(window, components),
        "scheduled_for": _api_time(window.starts_at),
        "scheduled_until": _api_time(window.ends_at),
    }


def api_documents(snapshot: StatusSnapshot) -> dict[str, dict[str, Any]]:
    """Statuspage's public v2 documents, by path under api/v2/."""
    return _documents(snapshot, lambda incident, by_id: _incident_json(snapshot, incident, by_id))


def api_bodies(snapshot: StatusSnapshot) -> dict[str, bytes]:
    """The documents of :func:`api_documents` as the site publishes them (compact JSON, UTF-8), byte for byte
    ``json.dumps(document, ensure_ascii=False, separators=(",", ":"))``, made from each incident's JSON text kept
    by what it shows: only its components (their current status) are serialized again."""
    page_url, pid = snapshot.page_url, page_id(snapshot.page_name)
    component_text: dict[str, str] = {}

    def incident_text(incident: PublicIncident, by_id: dict[str, dict[str, Any]]) -> _JsonText:
        affected = []
        for cid in incident.component_ids:
            if cid in by_id:
                if cid not in component_text:
                    component_text[cid] = _dumps(by_id[cid])
                affected.append(component_text[cid])
        head = _incident_text(incident, page_url, pid)
        return _JsonText(f'{head},"components":[{",".join(affected)}]}}')

    documents = _documents(snapshot, incident_text)
    return {path: _encode(document).encode("utf-8") for path, document in documents.items()}


def _documents(
    snapshot: StatusSnapshot, incident_json: Callable[[PublicIncident, dict[str, dict[str, Any]]], Any]
) -> dict[str, dict[str, Any]]:
    require_safe_ids(snapshot.incidents)
    page = _page_json(snapshot)
    status = {"indicator": snapshot.indicator.value, "description": snapshot.description}
    components = _components_json(snapshot)
    by_id = {component["id"]: component for component in components if not component["group"]}
    unresolved = [incident_json(incident, by_id) for incident in snapshot.unresolved]
    history = [incident_json(incident, by_id) for incident in snapshot.history]
    windows = [_maintenance_json(snapshot, window, by_id) for window in snapshot.maintenances]
    upcoming = [w for w in windows if w["status"] == MaintenanceStatus.SCHEDULED.value]
    active = [w for w in windows if w["status"] == MaintenanceStatus.IN_PROGRESS.value]
    return {
        "summary.json": {
            "page": page,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": windows,
            "status": status,
        },
        "status.json": {"page": page, "status": status},
        "components.json": {"page": page, "components": components},
        "incidents.json": {"page": page, "incidents": unresolved + history},
        "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "scheduled-maintenances.json": {"page": page, "scheduled_maintenances": windows},
        "scheduled-maintenances/upcoming.json": {"page": page, "scheduled_maintenances": upcoming},
        "scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": active},
    }


class _JsonText(str):
    """JSON text already serialized as :func:`_dumps` would: :func:`_encode` writes it as it is."""

    __slots__ = ()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _encode(value: Any) -> str:
    """``_dumps(value)``, with _JsonText inside dicts and lists written as it is."""
    if isinstance(value, _JsonText):
        return value
    if isinstance(value, dict):
        return "{" + ",".join(f"{_dumps(str(key))}:{_encode(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list) and any(isinstance(item, _JsonText) for item in value):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    return _dumps(value)


def first_published_in(components_document: bytes) -> dict[str, datetime]:
    """When each component first appeared, read back from a published ``components.json`` (the page is its own
    record of what it has shown). Anything unreadable counts as never published: that component appears now."""
    try:
        document = json.loads(components_document)
        entries_found = document["components"]
    except (ValueError, TypeError, KeyError):
        return {}
    found: dict[str, datetime] = {}
    for entry in entries_found if isinstance(entries_found, list) else []:
        if not isinstance(entry, dict) or entry.get("group") or not isinstance(entry.get("id"), str):
            continue
        try:
            created = datetime.fromisoformat(str(entry["created_at"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            continue
        if created.tzinfo is not None:
            found[entry["id"]] = created
    return found
