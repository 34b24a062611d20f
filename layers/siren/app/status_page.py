"""The customer status page: what people set (component statuses, maintenance, public updates) and publishing.

Publishing reacts to every lifecycle event (and runs every few minutes, for maintenance windows that start or
end and for the uptime day that rolls over). It is coalesced (see StatusPageState.request_publish): a burst of
events becomes one or two publishes, and two publishers never race each other.

It is incremental. The store is read for the unresolved incidents, those unresolved at the last publish and those
the lifecycle events named (siren.app.status_record keeps the rest, as published); a full read happens when there
is no usable record and on every scheduled run (``full``), which also catches what no event named (an import).
Of the site, incident pages are rendered only when what they show changed (siren.domain.site.SitePage); the
feed, the JSON API, the history page and the index, which read every incident and the time, every publish.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from siren.app.clock import utc_now
from siren.app.status_record import RECORD_KEY, PublishedIncidents, made_by, record_of
from siren.domain.incidents import EVENT_SOURCE, Incident, IncidentError, IncidentStatus
from siren.domain.policy import COMPONENT_STATUSES, SirenConfig
from siren.domain.site import SiteEntry, SiteObject
from siren.domain.status import (
    HISTORY_DAYS,
    Component,
    Maintenance,
    PublicIncident,
    StatusSnapshot,
    public_incident,
    snapshot_of_public,
)
from siren.domain.subscribe_form import FormUrlError, subscribe_action
from siren.observability import logger
from siren.ports import IncidentRef, IncidentRepository, PublishResult, StatusPageState, StatusSite
from siren.render.status_api import first_published_in
from siren.render.status_site import API_PREFIX, site_stages

# A resolved incident stays in the history for HISTORY_DAYS after it is resolved, so look back further than that
# for when it was opened.
LOOKBACK = timedelta(days=HISTORY_DAYS + 30)
LEASE = timedelta(minutes=2)
MAX_ROUNDS = 5
UNRESOLVED = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RECOVERED)
# More named incidents than this in one publish: one read of them all is cheaper than a Query each.
MAX_TOUCHED = 50
# An incident is found on the by-time index by the instant it opened.
_INSTANT = timedelta(microseconds=1)
JSON_RECORD = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class PublishReport:
    published: bool
    rounds: int
    written: int = 0
    unchanged: int = 0
    bytes_written: int = 0
    rendered: int = 0  # incident pages rendered (the feed, API, history and index are rendered every publish)


def publish_trigger(event: Mapping[str, Any]) -> tuple[list[IncidentRef], bool]:
    """What a trigger asks of a publish: (the incidents it names, whether to read every incident). A lifecycle
    event names its incident; a status page change names none; anything else (the schedule) reads everything,
    which also catches what no event announced (incidents imported in bulk)."""
    if event.get("source") != EVENT_SOURCE:
        return [], True
    detail = event.get("detail")
    if not isinstance(detail, Mapping) or not isinstance(detail.get("incident_id"), str):
        return [], False
    try:
        opened_at = datetime.fromisoformat(str(detail["opened_at"]))
    except (KeyError, ValueError):
        return [], True  # an incident we cannot find by itself: read them all
    return [IncidentRef(detail["incident_id"], opened_at)], False


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
    # The subscriptions function URL (SUBSCRIPTIONS_URL): the index's subscribe form posts there; none, no form.
    subscriptions_url: str = ""

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
        """What the page shows now, from every incident in the store; with ``site``, components keep the
        ``created_at`` they were first published with (read back from the published components.json)."""
        return self._snapshot(self._public_incidents(self.clock())[0], site, self.clock())

    def _snapshot(self, public: list[PublicIncident], site: StatusSite | None, now: datetime) -> StatusSnapshot:
        overrides, windows = self.page_state.status_page_items()
        page = self.config.status_page
        published = site.read(API_PREFIX + "components.json") if site is not None else None
        snapshot = snapshot_of_public(
            page_name=page.name,
            page_url=self.page_url,
            components=components_of(self.config),
            public=public,
            overrides=overrides,
            maintenances=windows,
            now=now,
            first_published=first_published_in(published) if published else None,
        )
        return replace(snapshot, subscribe_url=self._subscribe_url())

    def _subscribe_url(self) -> str | None:
        """The form's action, or None: a page without a form beats a page that sends readers' addresses in clear
        or astray, and beats no page at all (the publish goes on; the refusal is logged at every publish)."""
        if not self.subscriptions_url:
            return None
        try:
            return subscribe_action(self.subscriptions_url)
        except FormUrlError as error:
            logger.warning("status page published without its subscribe form", extra={"reason": str(error)})
            return None

    def _public(self, incident: Incident) -> PublicIncident | None:
        return public_incident(incident, components_of(self.config), self.config.status_page.impact)

    def _maker(self) -> str:
        return made_by(components_of(self.config), self.config.status_page.impact)

    def _public_incidents(
        self, now: datetime, record: PublishedIncidents | None = None, touched: Sequence[IncidentRef] = ()
    ) -> tuple[list[PublicIncident], list[PublicIncident]]:
        """(every public incident shown, those of them resolved in the store). From the store alone without a
        ``record``; else the unresolved incidents, the ones open at the last publish and the ``touched`` ones
        from the store, and the rest from the record."""
        unresolved = [i for status in UNRESOLVED for i in self.incidents.list_by_status(status, limit=1000)]
        live = {incident.id: incident for incident in unresolved}
        if record is None or len(touched) > MAX_TOUCHED:
            settled: dict[str, PublicIncident] = {}
            for incident in self.incidents.iter_opened_between(now - LOOKBACK, now + timedelta(minutes=5)):
                self._sort(incident, live, settled)
        else:
            reread = {ref.id: ref for ref in (*record.open, *touched) if ref.id not in live}
            settled = {incident.id: incident for incident in record.settled if incident.id not in reread}
            for ref in reread.values():
                for incident in self.incidents.iter_opened_between(ref.opened_at, ref.opened_at + _INSTANT):
                    if incident.id == ref.id:
                        self._sort(incident, live, settled)
        since = now - LOOKBACK  # as a full read finds them: opened within the look-back
        kept = [incident for incident in settled.values() if incident.created_at >= since]
        shown = [found for incident in live.values() if (found := self._public(incident))]
        return shown + kept, kept

    def _sort(self, incident: Incident, live: dict[str, Incident], settled: dict[str, PublicIncident]) -> None:
        """An incident read from the store, to the live ones or, made public, to the settled ones."""
        if incident.status is not IncidentStatus.RESOLVED:
            live.setdefault(incident.id, incident)  # unresolved but not (yet) on the by-status index
        elif (found := self._public(incident)) is not None:
            settled[incident.id] = found
        else:
            settled.pop(incident.id, None)  # no longer for customers (e.g. made a drill, or its notes removed)

    def publish_now(self, site: StatusSite, touched: Sequence[IncidentRef] = (), full: bool = False) -> PublishResult:
        """Render what changed and write it, once, without coordination (the coalescing publish calls this).
        ``touched``: incidents a lifecycle event said changed; ``full``: read every incident from the store."""
        now = self.clock()
        maker = self._maker()
        record = None if full else PublishedIncidents.parse(site.read(RECORD_KEY), maker)
        public, settled = self._public_incidents(now, record, touched)
        stages: list[list[SiteEntry]] = site_stages(self._snapshot(public, site, now))
        settled_ids = {incident.id for incident in settled}
        still_open = [incident for incident in public if incident.id not in settled_ids]
        # Last, after every page: the record says what the site shows only once it does.
        stages.append([SiteObject(RECORD_KEY, record_of(maker, settled, still_open), JSON_RECORD, "no-store")])
        return site.publish(stages)

    def publish(self, site: StatusSite, touched: Sequence[IncidentRef] = (), full: bool = False) -> PublishReport:
        """Ask for a publish (naming the ``touched`` incidents) and, unless another publisher holds the lease (it
        will see the request), publish until no request came in meanwhile."""
        self.page_state.request_publish(self.clock(), touched)
        owner = uuid.uuid4().hex
        written = unchanged = size = rendered = 0
        for rounds in range(1, MAX_ROUNDS + 1):
            requests = self.page_state.acquire_publish_lease(owner, self.clock(), LEASE)
            if requests is None:
                return PublishReport(rounds > 1, rounds - 1, written, unchanged, size, rendered)
            result = self.publish_now(site, requests.touched, full=full and rounds == 1)
            written, unchanged, size, rendered = (
                written + result.written,
                unchanged + result.unchanged,
                size + result.bytes_written,
                rendered + result.rendered,
            )
            if self.page_state.release_publish_lease(owner, requests.up_to):
                return PublishReport(True, rounds, written, unchanged, size, rendered)
        # Requests keep coming faster than publishes: leave the lease to expire; the next trigger publishes.
        return PublishReport(True, MAX_ROUNDS, written, unchanged, size, rendered)
