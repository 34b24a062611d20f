"""The status site as the bucket holds it: objects with the headers each is served with.

A value shared by the renderer that makes them (siren.render), the use case that publishes them and the bucket
adapter that writes them, so it lives below all three.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SiteObject:
    """One object of the status bucket, with the headers it is served with."""

    key: str  # S3 key, e.g. "index.html", "incidents/INC-20261126-2341-3f9c1a.html", "api/v2/summary.json"
    body: bytes
    content_type: str
    cache_control: str
