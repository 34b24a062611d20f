"""The status bucket: writes only what changed, stage by stage, and remembers what it wrote in a manifest.

A reader must never see a half-published page. Each S3 PUT is atomic per object, so the order does the rest: the
publish comes in stages (the stylesheet; incident pages; the feed, the JSON API and the history page; index.html;
the publisher's record), a stage written only once every object of the stages before it is (a link on a fresh
index never leads to a missing page), the manifest after everything. The objects of one stage are written together
by a bounded pool of threads (botocore clients are thread-safe): on S3 a PUT takes tens of milliseconds, so a first
publish of a thousand pages one by one would take tens of seconds. A failed PUT fails the publish before the next
stage, and the manifest is not written: it never claims an object that is not in the bucket.

An object whose bytes, type and caching are unchanged is not written again: a publish after one update writes a
handful of objects, not the whole site. A page given with its source (siren.domain.site.SitePage) whose source the
manifest already records is not even rendered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from siren.clients import client
from siren.domain.site import SiteEntry, SiteObject, SitePage
from siren.ports import PublishResult

MANIFEST_KEY = "_siren/manifest.json"
# PUTs in flight at once: a first publish writes every page (a thousand PUTs of tens of ms each on S3).
WRITERS = 16


def fingerprint(obj: SiteObject) -> str:
    digest = hashlib.sha256(obj.body)
    digest.update(f"\0{obj.content_type}\0{obj.cache_control}".encode())
    return digest.hexdigest()


@dataclass(slots=True)
class Manifest:
    """What the bucket holds: each object's fingerprint and, for pages given with one, the source it was rendered
    from. Written as ``{"objects": {...}, "sources": {...}}``; the first format (a flat map of fingerprints) is
    read as objects without sources, so those pages are rendered once more and recorded."""

    objects: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: bytes | None) -> Manifest:
        if body is None:
            return cls()
        try:
            document: Any = json.loads(body)
        except ValueError:
            return cls()  # unreadable: render and write everything again
        if not isinstance(document, dict):
            return cls()
        if isinstance(document.get("objects"), dict):
            sources = document.get("sources")
            return cls(_strings(document["objects"]), _strings(sources) if isinstance(sources, dict) else {})
        return cls(_strings(document))

    def to_json(self) -> bytes:
        return json.dumps({"objects": self.objects, "sources": self.sources}, sort_keys=True).encode()

    def holds(self, page: SitePage) -> bool:
        return page.key in self.objects and self.sources.get(page.key) == page.source


def _strings(mapping: dict[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping.items()}


@dataclass(slots=True)
class _Tally:
    written: int = 0
    unchanged: int = 0
    size: int = 0
    rendered: int = 0


@dataclass(frozen=True, slots=True)
class _Write:
    obj: SiteObject
    digest: str
    source: str | None  # the page's source, recorded once it is written


class StatusBucket:
    """``writers``: at most this many PUTs in flight (and never more than the S3 client keeps connections for)."""

    def __init__(self, bucket_name: str, writers: int = WRITERS) -> None:
        self._bucket = bucket_name
        self._writers = writers

    def read(self, key: str) -> bytes | None:
        """An object's bytes as published, or None when there is none."""
        s3 = client("s3")
        try:
            body: bytes = s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        return body

    def publish(self, stages: Sequence[Sequence[SiteEntry]]) -> PublishResult:
        """Write the changed objects of each stage together, a stage only once every write of the stages before it
        succeeded, then the manifest. A page whose source the manifest records is skipped without being rendered.

        A failed write fails the publish: the stages after it and the manifest are not written (the manifest
        claims only what was), and the next publish writes again what this one could not."""
        s3 = client("s3")
        previous = Manifest.parse(self.read(MANIFEST_KEY))
        manifest = Manifest(dict(previous.objects), dict(previous.sources))
        tally = _Tally()
        # botocore keeps max_pool_connections connections per client: more threads would open and drop extra ones.
        writers = max(1, min(self._writers, int(s3.meta.config.max_pool_connections)))
        with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="status-put") as pool:
            for stage in stages:
                # Rendering happens here, on this thread, while the pool writes what is already rendered.
                started = [
                    (pool.submit(self._put, s3, write.obj), write)
                    for entry in stage
                    if (write := _changed(entry, previous, manifest, tally)) is not None
                ]
                _wait_for_all([future for future, _ in started])
                for _, write in started:
                    manifest.objects[write.obj.key] = write.digest
                    if write.source is not None:
                        manifest.sources[write.obj.key] = write.source
                    tally.written += 1
                    tally.size += len(write.obj.body)
        if manifest != previous:
            self._put(s3, SiteObject(MANIFEST_KEY, manifest.to_json(), "application/json", "no-store"))
        return PublishResult(tally.written, tally.unchanged, tally.size, tally.rendered)

    def _put(self, s3: Any, obj: SiteObject) -> None:
        s3.put_object(
            Bucket=self._bucket,
            Key=obj.key,
            Body=obj.body,
            ContentType=obj.content_type,
            CacheControl=obj.cache_control,
        )


def _changed(entry: SiteEntry, previous: Manifest, manifest: Manifest, tally: _Tally) -> _Write | None:
    """What to write of ``entry`` (rendering a page only if its source is new), or None: the bucket holds it (a
    page rendered again to the same bytes has its new source recorded at once: those bytes are in the bucket)."""
    source = None
    if isinstance(entry, SitePage):
        if previous.holds(entry):
            tally.unchanged += 1
            return None
        obj = entry.render()
        tally.rendered += 1
        source = entry.source
    else:
        obj = entry
    digest = fingerprint(obj)
    if previous.objects.get(obj.key) == digest:
        tally.unchanged += 1
        if source is not None:
            manifest.sources[obj.key] = source
        return None
    return _Write(obj, digest, source)


def _wait_for_all(futures: Sequence[Future[None]]) -> None:
    """Wait for every write of a stage; on the first failure, cancel those not started and raise it once the
    ones in flight are done (with how many failed in all)."""
    done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    failed = [future for future in done if future.exception() is not None]
    if not failed:
        return
    for future in futures:
        future.cancel()
    wait(futures)
    errors = [error for future in futures if not future.cancelled() and (error := future.exception()) is not None]
    error = errors[0]
    cancelled = sum(future.cancelled() for future in futures)
    error.add_note(f"status bucket: {len(errors)} of {len(futures)} writes failed, {cancelled} not started")
    raise error
