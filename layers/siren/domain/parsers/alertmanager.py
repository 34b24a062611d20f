"""Prometheus Alertmanager's webhook (``webhook_configs``), payload version "4".

One signal per alert of the group, with the alert's own status. dedup_key is "alertmanager:" + the alert's
fingerprint (computed from its labels the way Alertmanager does when a sender leaves it out); delivery_id is a hash of
(fingerprint, status, startsAt, endsAt), so a redelivered notification gives the same ids and a re-fire after a
resolve (a new startsAt) gives new ones. occurred_at is startsAt for a firing alert, endsAt for a resolved one (or the
time it was received when endsAt is missing). A sample: tests/events/alertmanager_webhook_v4_firing.json.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from siren.domain.parsers._alerts import Family, judge_group, parse_group
from siren.domain.signals import Judgement, Signal, Source

ALERTMANAGER: Final = Family(
    source=Source.ALERTMANAGER,
    name="an Alertmanager webhook v4 notification",
    version="4",
    link_keys=("generatorURL",),
)


def parse_alertmanager(body: Any, received_at: datetime | None = None) -> list[Signal]:
    """The signals of an Alertmanager notification (already decoded from JSON). Raises ParseError."""
    return parse_group(body, received_at, ALERTMANAGER)


def judge_alertmanager(body: Any, received_at: datetime, window: range | None = None) -> Judgement:
    """An Alertmanager notification judged alert by alert (see :func:`~siren.domain.parsers._alerts.judge_group`)."""
    return judge_group(body, received_at, ALERTMANAGER, window)
