"""The store's models bound to tables at run time (siren.adapters.dynamodb.table) against DynamoDB in the embedded
local AWS: two tables in one process keep apart, a Query of the base model returns each table's own kinds, and the
incident's version is checked by PynamoDB's VersionAttribute exactly as the hand-written conditions did."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from siren.adapters.dynamodb import dynamo_store, forget
from siren.adapters.dynamodb.incident_items import IncidentItem
from siren.adapters.dynamodb.table import bound_table
from siren.domain.incidents import Incident, IncidentStatus, KeyState, Outcome, TimelineEntry, TimelineKind
from siren.domain.records import RawAlert
from siren.domain.signals import SignalStatus
from siren.ports import ConcurrentChange, DuplicateDelivery

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def create_table(runtime, name):
    runtime.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def opened(incident_id="INC-1", dedup_key="k1"):
    incident = Incident(
        id=incident_id,
        status=IncidentStatus.OPEN,
        severity="SEV2",
        title="checkout errors",
        service="checkout",
        dedup_key=dedup_key,
        source="cloudwatch",
        opened_at=NOW,
        last_seen_at=NOW,
    )
    key = KeyState(dedup_key, incident_id, SignalStatus.FIRING, (NOW,), version=1)
    entry = TimelineEntry(NOW, TimelineKind.OPENED, "system", "opened")
    return Outcome("opened", "first signal", incident, None, key, (entry,))


def acknowledged(previous):
    changed = replace(previous, status=IncidentStatus.ACKNOWLEDGED, acknowledged_by="bob", version=previous.version + 1)
    return Outcome(
        "acknowledged",
        "by bob",
        changed,
        previous,
        None,
        (TimelineEntry(NOW, TimelineKind.ACKNOWLEDGED, "bob", "ack"),),
    )


def test_two_tables_in_one_process_keep_their_items_and_kinds_apart(bare_inprocess):
    create_table(bare_inprocess, "BindingA")
    create_table(bare_inprocess, "BindingB")
    first, second = dynamo_store("BindingA"), dynamo_store("BindingB")

    first.incidents.apply(opened("INC-A"), None)
    second.incidents.apply(opened("INC-B"), None)

    # Each table's base model reads its incident and timeline back as that table's kinds (one Query, two kinds).
    view = first.incidents.view("INC-A")
    assert view is not None and view.incident.id == "INC-A" and [e.kind for e in view.timeline] == [TimelineKind.OPENED]
    assert first.incidents.view("INC-B") is None and second.incidents.view("INC-A") is None
    table_a, table_b = bound_table("BindingA"), bound_table("BindingB")
    assert table_a.model(IncidentItem) is not table_b.model(IncidentItem)
    assert issubclass(table_a.model(IncidentItem), IncidentItem)
    assert table_a.model(IncidentItem).Meta.table_name == "BindingA"


def test_the_version_a_change_was_decided_on_must_still_be_stored(bare_inprocess):
    create_table(bare_inprocess, "Versions")
    incidents = dynamo_store("Versions").incidents
    raw = RawAlert("cloudwatch", "delivery-1", NOW, {"alarm": "checkout"})
    incidents.apply(opened(), raw)
    stored = incidents.get("INC-1")
    assert stored is not None and stored.version == 1 and incidents.key_state("k1").version == 1

    with pytest.raises(DuplicateDelivery):  # the same delivery again: its raw alert is the guard
        incidents.apply(opened(), raw)
    with pytest.raises(ConcurrentChange):  # another delivery that would open it again: the incident exists
        incidents.apply(opened(), RawAlert("cloudwatch", "delivery-2", NOW, {}))

    incidents.apply(acknowledged(stored), None)
    assert incidents.get("INC-1").version == 2  # type: ignore[union-attr]
    with pytest.raises(ConcurrentChange):  # decided on version 1, which is no longer stored
        incidents.apply(acknowledged(stored), None)


def test_a_change_that_skips_a_version_is_refused_before_anything_is_written(bare_inprocess):
    create_table(bare_inprocess, "Skips")
    incidents = dynamo_store("Skips").incidents
    incidents.apply(opened(), None)
    stored = incidents.get("INC-1")
    assert stored is not None
    skipping = replace(acknowledged(stored), incident=replace(stored, version=stored.version + 2))

    with pytest.raises(ValueError, match="version"):
        incidents.apply(skipping, None)
    assert incidents.get("INC-1") == stored


def test_the_cheap_duplicate_path_adds_one_to_the_stored_version_unread(bare_inprocess):
    create_table(bare_inprocess, "Duplicates")
    incidents = dynamo_store("Duplicates").incidents
    incidents.apply(opened(), None)  # remembered as open: the next duplicate takes the one-request path
    entry = TimelineEntry(NOW, TimelineKind.ALERT_APPENDED, "system", "again")

    assert incidents.append_duplicate("k1", entry, RawAlert("cloudwatch", "d2", NOW, {})) == "INC-1"
    stored = incidents.get("INC-1")
    assert stored is not None and (stored.version, stored.alert_count) == (2, 2)


def test_forget_drops_the_bound_models(bare_inprocess):
    create_table(bare_inprocess, "Forgotten")
    before = bound_table("Forgotten")
    assert bound_table("Forgotten") is before

    forget()

    assert bound_table("Forgotten") is not before
