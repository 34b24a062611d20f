"""Making signed acknowledgement links for pages (see :mod:`siren.app.ack_links` for honouring them).

Its own module so that the paging functions, which only make links, do not import what answers them (the
confirmation pages and their Jinja2 templates, the incident changes).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from siren.domain.ack import AckAction, sign_ack_link

# Long enough for a page sent at night to be answered in the morning; an incident that is still open by then
# has been paged again with fresh links.
LINK_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class LinkSigner:
    """Makes links for pages; ``secret`` is read when a link is made (cached by the caller's secret reader)."""

    base_url: str
    secret: Callable[[], bytes]
    lifetime: timedelta = LINK_LIFETIME

    def link(self, incident_id: str, action: AckAction, user: str, now: datetime) -> str:
        return sign_ack_link(
            self.base_url, incident_id, action, user, now + self.lifetime, secrets.token_urlsafe(16), self.secret()
        )
