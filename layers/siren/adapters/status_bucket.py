"""The status bucket: writes only what changed, index last, and remembers what it wrote in a manifest.

A reader must never see a half-published page. Each S3 PUT is atomic per object, so the order does the rest:
incident pages, feeds and the JSON API first, ``index.html`` last (a link on a fresh index never leads to a
missing page), the manifest after everything. An object whose bytes, type and caching are unchanged is not
written again: a publish after one update writes a handful of objects, not the whole site. A page given with its
source (siren.domain.site.SitePage) whose source the manifest already records is not even rendered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from siren.clients import client
from siren.domain.site import SiteEntry, SiteObject, SitePage
from siren.ports import PublishResult

MANIFEST_KEY = "_siren/manifest.json"


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


class StatusBucket:
    def __init__(self, bucket_name: str) -> None:
        self._bucket = bucket_name

    def read(self, key: str) -> bytes | None:
        """An object's bytes as published, or None when there is none."""
        s3 = client("s3")
        try:
            body: bytes = s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        return body

    def publish(self, objects: Sequence[SiteEntry]) -> PublishResult:
        """Write ``objects`` in the given order (the renderer puts index.html last), skipping unchanged ones;
        a page whose source the manifest records is skipped without being rendered."""
        s3 = client("s3")
        previous = Manifest.parse(self.read(MANIFEST_KEY))
        manifest = Manifest(dict(previous.objects), dict(previous.sources))
        written = unchanged = size = rendered = 0
        for entry in objects:
            if isinstance(entry, SitePage):
                if previous.holds(entry):
                    unchanged += 1
                    continue
                obj = entry.render()
                rendered += 1
                manifest.sources[entry.key] = entry.source
            else:
                obj = entry
            digest = fingerprint(obj)
            if previous.objects.get(obj.key) == digest:
                unchanged += 1
                continue
            s3.put_object(
                Bucket=self._bucket,
                Key=obj.key,
                Body=obj.body,
                ContentType=obj.content_type,
                CacheControl=obj.cache_control,
            )
            manifest.objects[obj.key] = digest
            written += 1
            size += len(obj.body)
        if manifest != previous:
            s3.put_object(
                Bucket=self._bucket,
                Key=MANIFEST_KEY,
                Body=manifest.to_json(),
                ContentType="application/json",
                CacheControl="no-store",
            )
        return PublishResult(written, unchanged, size, rendered)
