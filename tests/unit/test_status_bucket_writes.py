"""The status bucket's writes: stage by stage, the objects of a stage together, and nothing claimed that failed.

GIVEN the status bucket adapter on a stub S3 client (it records each PUT as it completes, and can fail one key)
WHEN a site is published in its stages (stylesheet; incident pages; feed, API and history; index; record)
THEN every PUT of a stage completes before any PUT of the next, the PUTs of one stage are in flight together, and a
failed PUT fails the publish with index.html, the record and the manifest unwritten, so the next publish writes
again what did not land.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from siren.adapters import status_bucket
from siren.adapters.status_bucket import MANIFEST_KEY, StatusBucket
from siren.domain.site import SiteEntry, SiteObject, SitePage
from siren.domain.status import ComponentStatus, Impact, PublicIncident, PublicStatus, PublicUpdate, snapshot_of_public
from siren.render.status_site import FEED_KEY, HISTORY_PAGE_KEY, INDEX_KEY, site_stages
from siren.render.status_view import incident_path

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
RECORD = "_siren/published-incidents.json"
PAGES = 6


class NoSuchKey(Exception):
    pass


@dataclass
class StubS3:
    """put_object/get_object of one bucket; ``completed``: keys in the order their PUT returned. ``failing``: a key
    whose PUT raises. ``meet``: how many PUTs of incident pages must be in flight at once before any returns (a
    barrier: a writer that PUTs one at a time breaks it, and the publish fails)."""

    objects: dict[str, bytes] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)
    failing: str | None = None
    meet: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)
    exceptions: Any = field(default_factory=lambda: SimpleNamespace(NoSuchKey=NoSuchKey))
    meta: Any = field(default_factory=lambda: SimpleNamespace(config=SimpleNamespace(max_pool_connections=10)))
    barrier: threading.Barrier | None = None

    def __post_init__(self) -> None:
        self.barrier = threading.Barrier(self.meet, timeout=10) if self.meet > 1 else None

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str, CacheControl: str) -> None:
        if self.barrier is not None and Key.startswith("incidents/"):
            self.barrier.wait()
        if Key == self.failing:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "stub"}}, "PutObject")
        with self.lock:
            self.objects[Key] = Body
            self.completed.append(Key)

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        if Key not in self.objects:
            raise NoSuchKey(Key)
        return {"Body": SimpleNamespace(read=lambda: self.objects[Key])}


def incident(n: int) -> PublicIncident:
    opened = NOW - timedelta(days=n + 1)
    return PublicIncident(
        id=f"INC-{opened:%Y%m%d-%H%M}-{n:06x}",
        title=f"Payments failing ({n})",
        status=PublicStatus.RESOLVED,
        impact=Impact.MAJOR,
        component_ids=(),
        component_status=ComponentStatus.PARTIAL_OUTAGE,
        created_at=opened,
        updated_at=opened + timedelta(minutes=30),
        resolved_at=opened + timedelta(minutes=30),
        updates=(PublicUpdate(opened + timedelta(minutes=30), PublicStatus.RESOLVED, f"Fixed {n}."),),
    )


def stages(title_suffix: str = "") -> list[list[SiteEntry]]:
    """The site of PAGES resolved incidents in its stages, and the publisher's record last (as StatusPage does)."""
    public = [incident(n) for n in range(PAGES)]
    snapshot = snapshot_of_public(
        page_name=f"Example{title_suffix}",
        page_url="https://status.example.com",
        components=[],
        public=public,
        overrides={},
        maintenances=[],
        now=NOW,
    )
    return [*site_stages(snapshot), [SiteObject(RECORD, b"{}", "application/json", "no-store")]]


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> StubS3:
    stub = StubS3(meet=PAGES)
    monkeypatch.setattr(status_bucket, "client", lambda service: stub)
    return stub


def keys(stage: Sequence[SiteEntry]) -> set[str]:
    return {entry.key for entry in stage}


def test_each_stage_is_written_after_the_one_before_and_the_manifest_last(s3: StubS3) -> None:
    site = stages()
    result = StatusBucket("status").publish(site)

    # THEN every object is written once, and the PUTs of a stage all completed before any of the next stage
    expected = [keys(stage) for stage in site] + [{MANIFEST_KEY}]
    assert len(s3.completed) == sum(len(stage) for stage in expected) == result.written + 1
    position = {key: n for n, key in enumerate(s3.completed)}
    for earlier, later in pairwise(expected):
        assert max(position[key] for key in earlier) < min(position[key] for key in later)
    # and the stages are what a reader needs first: pages before the documents linking them, index, record
    assert keys(site[1]) == {incident_path(incident(n).id) for n in range(PAGES)}
    assert {FEED_KEY, HISTORY_PAGE_KEY} <= keys(site[2]) and keys(site[3]) == {INDEX_KEY}
    assert s3.completed[-2:] == [RECORD, MANIFEST_KEY]


def test_the_pages_of_a_stage_are_in_flight_together(s3: StubS3) -> None:
    # GIVEN a stub that lets no page PUT return before PAGES of them are in flight (a one-by-one writer fails)
    result = StatusBucket("status").publish(stages())
    assert result.rendered == PAGES


def test_one_writer_cannot_meet_the_barrier(s3: StubS3) -> None:
    # The barrier above can fail: with a single writer the pages are written one by one and it breaks.
    s3.barrier = threading.Barrier(PAGES, timeout=1)  # waits for what cannot come: no need to wait long
    with pytest.raises(threading.BrokenBarrierError):
        StatusBucket("status", writers=1).publish(stages())
    assert INDEX_KEY not in s3.objects and MANIFEST_KEY not in s3.objects


def test_a_failed_put_fails_the_publish_and_leaves_index_record_and_manifest_unwritten(s3: StubS3) -> None:
    s3.barrier = None
    site = stages()
    failing = incident_path(incident(2).id)
    s3.failing = failing

    # WHEN one incident page's PUT fails
    with pytest.raises(ClientError) as raised:
        StatusBucket("status").publish(site)

    # THEN the publish fails, saying how many writes failed, and nothing after that stage is written
    assert any("1 of" in note for note in raised.value.__notes__)
    assert failing not in s3.objects
    assert not {INDEX_KEY, RECORD, MANIFEST_KEY, FEED_KEY} & set(s3.objects)

    # and the next publish writes what did not land (the manifest never claimed it), then records it
    s3.failing = None
    s3.completed.clear()
    StatusBucket("status").publish(site)
    assert failing in s3.completed and {INDEX_KEY, RECORD, MANIFEST_KEY} <= set(s3.completed)


def test_an_unchanged_site_writes_nothing_and_renders_no_page(s3: StubS3) -> None:
    s3.barrier = None
    StatusBucket("status").publish(stages())
    s3.completed.clear()
    again = StatusBucket("status").publish(stages())
    assert s3.completed == [] and again.written == 0 and again.rendered == 0
    # a new page name changes every page's source: each page is rendered and written again, in its stage
    renamed = StatusBucket("status").publish(stages(" Renamed"))
    assert renamed.rendered == PAGES and s3.completed[-1] == MANIFEST_KEY


def test_a_page_rendered_again_to_the_same_bytes_is_not_written_but_its_source_is_recorded(s3: StubS3) -> None:
    s3.barrier = None
    obj = SiteObject("incidents/INC-1.html", b"<p>same</p>", "text/html", "public")
    StatusBucket("status").publish([[SitePage(obj.key, "source-1", lambda: obj)]])
    s3.completed.clear()
    result = StatusBucket("status").publish([[SitePage(obj.key, "source-2", lambda: obj)]])
    assert result.rendered == 1 and result.written == 0
    assert s3.completed == [MANIFEST_KEY]  # only the manifest: it now records source-2
    third = StatusBucket("status").publish([[SitePage(obj.key, "source-2", lambda: obj)]])
    assert third.rendered == 0
