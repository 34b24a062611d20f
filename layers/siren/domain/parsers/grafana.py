"""Grafana-managed alerting's webhook contact point (the group document, "version": "1").

The same conventions as Alertmanager's (see :mod:`siren.domain.parsers.alertmanager`): one signal per alert with its
own status, dedup_key "grafana:" + fingerprint, delivery_id a hash of (fingerprint, status, startsAt, endsAt). The
link is the alert's panelURL, else its dashboardURL, else its generatorURL (the rule). Notifications of Grafana's
legacy dashboard alerting (``evalMatches``, ``ruleId``; removed in Grafana 11) are refused: they carry no alerts.
A sample: tests/events/grafana_webhook_firing.json.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from siren.domain.parsers._alerts import Family, judge_group
from siren.domain.signals import Judgement, ParseError, Signal, Source

GRAFANA: Final = Family(
    source=Source.GRAFANA,
    name="a Grafana alerting webhook notification",
    version="1",
    link_keys=("panelURL", "dashboardURL", "generatorURL"),
)


def parse_grafana(body: Any, received_at: datetime | None = None) -> list[Signal]:
    """The signals of a Grafana alerting notification (already decoded from JSON). Raises ParseError."""
    return judge_grafana(body, received_at).strict()


def judge_grafana(body: Any, received_at: datetime | None = None, window: range | None = None) -> Judgement:
    """A Grafana alerting notification judged alert by alert (see :func:`~siren.domain.parsers._alerts.judge_group`)."""
    if isinstance(body, dict) and "evalMatches" in body and "alerts" not in body:
        raise ParseError(
            "this is a legacy Grafana dashboard alert (evalMatches, ruleId): use a Grafana-managed alerting "
            "webhook contact point instead"
        )
    return judge_group(body, received_at, GRAFANA, window)
