"""A real Statuspage client reading Siren's status API: ``arez`` (PyPI; its ``arez.statuspage`` reads Atlassian
Statuspage's public v2 API, as served by https://status.hirezstudios.com) over HTTP with aiohttp.

``arez.statuspage.StatusPage.get_status`` fetches and parses summary.json; its model classes (Component,
ComponentGroup, Incident) are applied to components.json and incidents.json too, exactly as it applies them to the
summary. Anything arez cannot parse raises, which is the point: that is how a client in the wild fails.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ReadByClient:
    description: str
    impact: str
    components: dict[str, tuple[str, datetime]]  # id -> (status as arez titles it, created_at)
    groups: dict[str, list[str]]  # group id -> its components' ids
    incidents: dict[str, tuple[str, list[str]]]  # id -> (status, its updates' statuses): summary's unresolved
    all_incidents: dict[str, tuple[str, list[str]]]  # the same, from incidents.json (resolved ones too)
    maintenances: list[str]


async def _read(base_url: str) -> ReadByClient:
    from arez.statuspage import Component, ComponentGroup, Incident, StatusPage

    async with StatusPage(base_url, loop=asyncio.get_running_loop()) as page:
        current = await page.get_status()
        components_document: dict[str, Any] = await page.request("components.json")
        incidents_document: dict[str, Any] = await page.request("incidents.json")
    groups = {c["id"]: ComponentGroup(c) for c in components_document["components"] if c["group"]}
    listed = {
        c["id"]: Component(groups.get(c["group_id"]), c) for c in components_document["components"] if not c["group"]
    }
    everything = [Incident(i, listed) for i in incidents_document["incidents"]]
    return ReadByClient(
        description=current.status,
        impact=current.impact,
        components={c.id: (c.status, c.created_at) for c in current.components},
        groups={g.id: [c.id for c in g.components] for g in current.groups},
        incidents={i.id: (i.status, [u.status for u in i.updates]) for i in current.incidents},
        all_incidents={i.id: (i.status, [u.status for u in i.updates]) for i in everything},
        maintenances=[m.name for m in current.maintenances],
    )


def read_with_arez(base_url: str) -> ReadByClient:
    """What a Statuspage client makes of the page at ``base_url`` (the URL under which ``api/v2/`` is served)."""
    return asyncio.run(_read(base_url))
