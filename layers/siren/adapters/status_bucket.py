"""The status bucket: writes only what changed, index last, and remembers what it wrote in a manifest.

A reader must never see a half-published page. Each S3 PUT is atomic per object, so the order does the rest:
incident pages, feeds and the JSON API first, ``index.html`` last (a link on a fresh index never leads to a
missing page), the manifest after everything. An object whose bytes, type and caching are unchanged is not
written again: a publish after one update writes a handful of objects, not the whole site.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from siren.clients import client
from siren.domain.site import SiteObject
from siren.ports import PublishResult

MANIFEST_KEY = "_siren/manifest.json"


def _fingerprint(obj: SiteObject) -> str:
    digest = hashlib.sha256(obj.body)
    digest.update(f"\0{obj.content_type}\0{obj.cache_control}".encode())
    return digest.hexdigest()


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

    def _manifest(self) -> dict[str, str]:
        body = self.read(MANIFEST_KEY)
        if body is None:
            return {}
        try:
            manifest: Any = json.loads(body)
        except ValueError:
            return {}  # unreadable: write everything again
        return {str(k): str(v) for k, v in manifest.items()} if isinstance(manifest, dict) else {}

    def publish(self, objects: Sequence[SiteObject]) -> PublishResult:
        """Write ``objects`` in the given order (the renderer puts index.html last), skipping unchanged ones."""
        s3 = client("s3")
        previous = self._manifest()
        manifest = dict(previous)
        written = unchanged = size = 0
        for obj in objects:
            fingerprint = _fingerprint(obj)
            if previous.get(obj.key) == fingerprint:
                unchanged += 1
                continue
            s3.put_object(
                Bucket=self._bucket,
                Key=obj.key,
                Body=obj.body,
                ContentType=obj.content_type,
                CacheControl=obj.cache_control,
            )
            manifest[obj.key] = fingerprint
            written += 1
            size += len(obj.body)
        if written:
            s3.put_object(
                Bucket=self._bucket,
                Key=MANIFEST_KEY,
                Body=json.dumps(manifest, sort_keys=True).encode(),
                ContentType="application/json",
                CacheControl="no-store",
            )
        return PublishResult(written, unchanged, size)
