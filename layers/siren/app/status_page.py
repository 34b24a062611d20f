"""The customer status page: what people set (component statuses, maintenance, public updates) and publishing.

Publishing reacts to every lifecycle event (and runs every few minutes, for maintenance windows that start or
end and for the uptime day that rolls over). It is coalesced (see StatusPageState.request_publish): a burst of
events becomes one or two publishes, and two publishers never race each other.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, timedelta

from siren.app.clock import utc_now
from siren.domain.incidents import Incident, IncidentError, IncidentStatus
from siren.domain.policy import COMPONENT_STATUSES, SirenConfig
from siren.domain.status import HISTORY_DAYS, Component, Maintenance, StatusSnapshot, build_snapshot
from siren.ports import IncidentRepository, PublishResult, StatusPageState, StatusSite
from siren.render.status_api import first_published_in
from siren.render.status_site import API_PREFIX, render_site

# A resolved incident stays in the history for HISTORY_DAYS after it is resolved, so look back further than that
# for when it was opened.
LOOKBACK = timedelta(days=HISTORY_DAYS + 30)
LEASE = timedelta(minutes=2)
MAX_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class PublishReport:
    published: bool
    rounds: int
    written: int = 0
    unchanged: int = 0
    bytes_written: int = 0


def components_of(config: SirenConfig) -> list[Component]:
    return [
        Component(cid, c.name, c.description, c.group, c.services) for cid, c in config.status_page.components.items()
    ]


@dataclass(frozen=True, slots=True, eq=False)
class StatusPage:
    incidents: IncidentRepository
    page_state: StatusPageState
    config: SirenConfig
    page_url: str
    _: KW_ONLY
    clock: Callable[[], datetime] = utc_now

    # -- what people set ----------------------------------------------------------------------------------
    def set_component_status(self, component_id: str, status: str, actor: str) -> None:
        if component_id not in self.config.status_page.components:
            known = ", ".join(self.config.status_page.components) or "none are configured"
            raise IncidentError(f"unknown component {component_id!r} (components: {known})")
        if status not in COMPONENT_STATUSES:
            raise IncidentError(f"status must be one of {', '.join(COMPONENT_STATUSES)}, got {status!r}")
        self.page_state.set_component_status(component_id, status, actor, self.clock())

    def add_maintenance(
        self, *, title: str, component_ids: list[str], starts_at: datetime, ends_at: datetime, body: str, actor: str
    ) -> Maintenance:
        title = " ".join(title.split())
        if not title or len(title) > 200:
            raise IncidentError("a maintenance title is 1 to 200 characters")
        unknown = [c for c in component_ids if c not in self.config.status_page.components]
        if unknown or not component_ids:
            known = ", ".join(self.config.status_page.components)
            raise IncidentError(f"unknown or no components {unknown} (components: {known})")
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise IncidentError("start and end need a time zone (e.g. 2026-12-01T02:00Z)")
        if ends_at <= starts_at:
            raise IncidentError("the maintenance must end after it starts")
        now = self.clock()
        window = Maintenance(
            id=f"MNT-{starts_at.astimezone(UTC):%Y%m%d-%H%M}-{secrets.token_hex(3)}",
            title=title,
            component_ids=tuple(component_ids),
            starts_at=starts_at,
            ends_at=ends_at,
            body=body.strip(),
            created_at=now,
        )
        self.page_state.add_maintenance(window, actor)
        return window

    # -- publishing -----------------------------------------------------------------------------------------
    def snapshot(self, site: StatusSite | None = None) -> StatusSnapshot:
        """What the page shows now; with ``site``, components keep the ``created_at`` they were first published
        with (read back from the published components.json)."""
        now = self.clock()
        overrides, windows = self.page_state.status_page_items()
        page = self.config.status_page
        published = site.read(API_PREFIX + "components.json") if site is not None else None
        return build_snapshot(
            page_name=page.name,
            page_url=self.page_url,
            components=components_of(self.config),
            impact=page.impact,
            incidents=self._shown_incidents(now),
            overrides=overrides,
            maintenances=windows,
            now=now,
            first_published=first_published_in(published) if published else None,
        )

    def _shown_incidents(self, now: datetime) -> Iterator[Incident]:
        seen: set[str] = set()
        for status in (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RECOVERED):
            for incident in self.incidents.list_by_status(status, limit=1000):
                seen.add(incident.id)
                yield incident
        for incident in self.incidents.iter_opened_between(now - LOOKBACK, now + timedelta(minutes=5)):
            if incident.id not in seen:
                seen.add(incident.id)
                yield incident

    def publish_now(self, site: StatusSite) -> PublishResult:
        """Render and write the site once, without coordination (the coalescing publish calls this)."""
        return site.publish(render_site(self.snapshot(site)))

    def publish(self, site: StatusSite) -> PublishReport:
        """Ask for a publish and, unless another publisher holds the lease (it will see the request), publish
        until no request came in meanwhile."""
        self.page_state.request_publish(self.clock())
        owner = uuid.uuid4().hex
        written = unchanged = size = 0
        for rounds in range(1, MAX_ROUNDS + 1):
            up_to = self.page_state.acquire_publish_lease(owner, self.clock(), LEASE)
            if up_to is None:
                return PublishReport(rounds > 1, rounds - 1, written, unchanged, size)
            result = self.publish_now(site)
            written, unchanged, size = (
                written + result.written,
                unchanged + result.unchanged,
                size + result.bytes_written,
            )
            if self.page_state.release_publish_lease(owner, up_to):
                return PublishReport(True, rounds, written, unchanged, size)
        # Requests keep coming faster than publishes: leave the lease to expire; the next trigger publishes.
        return PublishReport(True, MAX_ROUNDS, written, unchanged, size)
