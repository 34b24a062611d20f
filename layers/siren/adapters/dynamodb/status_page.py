"""The status page's own state (siren.ports.StatusPageState): overrides, maintenance windows, the publish lease.

All of it is one partition (pk=STATUSPAGE), read in one Query when the site is rendered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from siren.adapters.dynamodb.table import Item, StringListAttribute, bound_table, iso, won
from siren.domain.status import ComponentOverride, ComponentStatus, Maintenance
from siren.ports import IncidentRef, PublishRequests

STATUS_PAGE_PK = "STATUSPAGE"


class StatusOverrideItem(Item, discriminator="status_override"):
    """pk=STATUSPAGE sk=COMPONENT#<id>: a component status set by hand."""

    status = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()


class MaintenanceItem(Item, discriminator="maintenance"):
    """pk=STATUSPAGE sk=MAINT#<id>: a scheduled maintenance window."""

    title = UnicodeAttribute()
    components = StringListAttribute(default=list)
    starts_at = UnicodeAttribute()
    ends_at = UnicodeAttribute()
    body = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    actor = UnicodeAttribute()


class PublishStateItem(Item, discriminator="publish_state"):
    """pk=STATUSPAGE sk=PUBLISH: coalesces status page publishes (a request mark, the incidents the requests
    named, and a lease)."""

    requested_at = UnicodeAttribute(null=True)
    touched = UnicodeSetAttribute(null=True)  # "<opened_at>|<incident id>"
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)


class DynamoStatusPage:
    """Component overrides, maintenance windows, and the publisher's request counter and lease."""

    def __init__(self, table_name: str) -> None:
        self._table = bound_table(table_name)
        self._overrides = self._table.model(StatusOverrideItem)
        self._windows = self._table.model(MaintenanceItem)
        self._publish = self._table.model(PublishStateItem)

    def set_component_status(self, component_id: str, status: str, actor: str, now: datetime) -> None:
        """A component status set by hand; ``operational`` clears it (incidents decide again)."""
        key = (STATUS_PAGE_PK, f"COMPONENT#{component_id}")
        if status == "operational":
            self._overrides(*key).delete()
            return
        self._overrides(*key, status=status, at=iso(now), actor=actor).save()

    def add_maintenance(self, window: Maintenance, actor: str) -> None:
        self._windows(
            STATUS_PAGE_PK,
            f"MAINT#{window.id}",
            title=window.title,
            components=list(window.component_ids),
            starts_at=iso(window.starts_at),
            ends_at=iso(window.ends_at),
            body=window.body or None,
            created_at=iso(window.created_at or datetime.now(UTC)),
            actor=actor,
        ).save(condition=self._windows.pk.does_not_exist())

    # Publishing is coalesced: every trigger marks a request; one publisher at a time holds a lease and publishes
    # until no request came in while it worked. Concurrent triggers then cost one extra publish, not one each,
    # and an older snapshot can never overwrite a newer one.
    def request_publish(self, now: datetime, touched: Sequence[IncidentRef] = ()) -> str:
        """Mark a request, and the incidents it says changed, in one update (so a publisher that saw the mark
        sees them too)."""
        marker = f"{iso(now)}#{uuid.uuid4().hex[:8]}"
        state = self._publish
        actions: list[Action] = [state.requested_at.set(marker), state.kind.set(state)]
        if touched:
            actions.append(state.touched.add({f"{iso(ref.opened_at)}|{ref.id}" for ref in touched}))
        state(STATUS_PAGE_PK, "PUBLISH").update(actions=actions)
        return marker

    def acquire_publish_lease(self, owner: str, now: datetime, lease: timedelta) -> PublishRequests | None:
        """Take the lease (free, expired, or ours already); returns the request mark it publishes up to and the
        incidents the requests named."""
        state = self._publish
        moment = int(now.timestamp())
        item = state(STATUS_PAGE_PK, "PUBLISH")
        try:
            item.update(
                actions=[
                    state.lease_owner.set(owner),
                    state.lease_until.set(moment + int(lease.total_seconds())),
                    state.kind.set(state),
                ],
                condition=state.lease_until.does_not_exist()
                | (state.lease_until < moment)
                | (state.lease_owner == owner),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        # update() reads the item back (ALL_NEW) into ``item``
        return PublishRequests(str(item.requested_at or ""), tuple(_refs(item.touched or set())))

    def release_publish_lease(self, owner: str, published_up_to: str) -> bool:
        """Give the lease back if no request came in since ``published_up_to``; False: publish again. The named
        incidents are forgotten with it: a request that named more changed the mark, so the release fails."""
        state = self._publish
        return won(
            lambda: state(STATUS_PAGE_PK, "PUBLISH").update(
                actions=[state.lease_owner.remove(), state.lease_until.remove(), state.touched.remove()],
                condition=(state.lease_owner == owner) & (state.requested_at == published_up_to),
            )
        )

    def status_page_items(self) -> tuple[dict[str, ComponentOverride], list[Maintenance]]:
        """Component statuses set by hand and maintenance windows: one Query on the status page's partition."""
        overrides: dict[str, ComponentOverride] = {}
        windows: list[Maintenance] = []
        for item in self._table.base.query(STATUS_PAGE_PK, consistent_read=True):
            if isinstance(item, StatusOverrideItem):
                component_id = item.sk.removeprefix("COMPONENT#")
                overrides[component_id] = ComponentOverride(
                    component_id, ComponentStatus(item.status), datetime.fromisoformat(item.at)
                )
            elif isinstance(item, MaintenanceItem):
                windows.append(
                    Maintenance(
                        id=item.sk.removeprefix("MAINT#"),
                        title=item.title,
                        component_ids=tuple(item.components or ()),
                        starts_at=datetime.fromisoformat(item.starts_at),
                        ends_at=datetime.fromisoformat(item.ends_at),
                        body=item.body or "",
                        created_at=datetime.fromisoformat(item.created_at),
                    )
                )
        return overrides, windows


def _refs(marks: set[str]) -> list[IncidentRef]:
    refs = []
    for mark in sorted(marks):
        opened_at, _, incident_id = mark.partition("|")
        try:
            refs.append(IncidentRef(incident_id, datetime.fromisoformat(opened_at)))
        except ValueError:
            continue  # not written by request_publish: nothing to find by it
    return refs
