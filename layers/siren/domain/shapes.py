"""What the pure renderers read of an incident, as one Protocol that each extends with what it alone may read.

A Protocol, not ``siren.domain.incidents.Incident`` itself: the full Incident serves in production and a small
summary in tests, and a renderer's parameter type says which fields it can reach. That is why the base holds
no title: the incident's own title is internal (an alarm's name, an ARN, a person's number), and the status
page, whose Protocol extends this one with only what people wrote for customers, cannot read it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class IncidentLike(Protocol):
    """Which incident, how bad, where and since when (``siren.domain.incidents.Incident`` is one)."""

    @property
    def id(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def opened_at(self) -> datetime: ...
