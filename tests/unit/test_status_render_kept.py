"""What a warm publisher keeps between publishes, and that keeping it changes no byte.

GIVEN the test site's snapshot (hostile text, groups, a maintenance window) and changed copies of it
WHEN the JSON API, the Atom feed and the publisher's record are made from each incident's kept text
THEN they are byte for byte what serializing the whole documents gives, a changed incident is made again (and only
it), and a record read back is the record written.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from siren.app import status_record
from siren.app.status_record import PublishedIncidents, record_of
from siren.domain.status import PublicUpdate
from siren.render import status_site
from siren.render.status_api import api_bodies, api_documents
from tests.unit.test_status_render import MAINTENANCE, NOW, RESOLVED, UNRESOLVED, snapshot


def compact(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def variants():
    later = replace(RESOLVED, id="INC-20261120-0100-bbbbbb", title='Quotes " and \\ and ✓', component_ids=())
    return [
        snapshot(),
        snapshot(page_name="Another name", page_url="https://other.example.com"),
        snapshot(history=(RESOLVED, later), maintenances=()),
        snapshot(unresolved=(), history=(), maintenances=(MAINTENANCE,)),
    ]


@pytest.mark.parametrize("snap", variants())
def test_api_bodies_are_the_documents_serialized(snap):
    documents = api_documents(snap)
    bodies = api_bodies(snap)
    assert bodies.keys() == documents.keys()
    for path, document in documents.items():
        assert bodies[path] == compact(document), path


def test_an_incident_shown_again_is_not_serialized_again_and_a_changed_one_is():
    from siren.render import status_api

    api_bodies(snapshot())
    before = status_api._incident_text.cache_info()
    # WHEN the same incidents are published again, with one of them updated
    update = PublicUpdate(NOW - timedelta(minutes=1), UNRESOLVED.updates[0].status, "Still on it.")
    changed = replace(UNRESOLVED, updates=(update, *UNRESOLVED.updates))
    bodies = api_bodies(snapshot(unresolved=(changed,)))
    after = status_api._incident_text.cache_info()
    # THEN only the changed incident's text is made, and the documents say the update
    assert after.misses - before.misses == 1
    assert b"Still on it." in bodies["incidents.json"]


def test_the_feed_makes_only_the_changed_incidents_entry():
    status_site.render_feed(snapshot())
    before = status_site._entry_xml.cache_info()
    changed = replace(RESOLVED, title="A new public title")
    feed = status_site.render_feed(snapshot(history=(changed,)))
    assert status_site._entry_xml.cache_info().misses - before.misses == 1
    assert b"A new public title" in feed


def test_the_record_reads_back_as_written_from_its_bytes_alone():
    body = record_of("maker", [RESOLVED], [UNRESOLVED])
    written = status_record._last_record["maker"][1]
    assert body == compact(json.loads(body))  # the kept texts make what json.dumps makes
    # WHEN another process (which kept nothing) reads it THEN it finds the record this one wrote
    status_record._last_record.clear()
    assert PublishedIncidents.parse(body, "maker") == written
    assert PublishedIncidents.parse(body, "another maker") is None
    assert PublishedIncidents.parse(body[:-1], "maker") is None
