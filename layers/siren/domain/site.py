"""The status site as the bucket holds it: objects with the headers each is served with.

A value shared by the renderer that makes them (siren.render), the use case that publishes them and the bucket
adapter that writes them, so it lives below all three.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SiteObject:
    """One object of the status bucket, with the headers it is served with."""

    key: str  # S3 key, e.g. "index.html", "incidents/INC-20261126-2341-3f9c1a.html", "api/v2/summary.json"
    body: bytes
    content_type: str
    cache_control: str


@dataclass(frozen=True, slots=True)
class SitePage:
    """An object rendered only when the site does not hold it from the same ``source`` already.

    ``source`` is a digest of everything the body is made from (the values shown and the renderer's own code and
    templates): equal sources give equal bytes, so a site whose record says the object was published from this
    source skips it without rendering it. An incident page is one: a thousand resolved incidents cost a thousand
    digests per publish, not a thousand renders."""

    key: str
    source: str
    render: Callable[[], SiteObject]


# What a publish hands the site, in stages (siren.ports.StatusSite.publish): a stage is written after the ones
# before it, its objects in any order.
SiteEntry = SiteObject | SitePage
