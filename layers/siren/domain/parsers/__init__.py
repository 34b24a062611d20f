"""Parsers: raw alert payloads of every source family become :class:`~siren.domain.signals.Signal` s.

Pure functions (no I/O, no clock): each takes a decoded payload and returns signals, or raises
:class:`~siren.domain.signals.ParseError` with a message that says what was wrong and where. Never another
exception, whatever the payload.

- :func:`parse_cloudwatch_event`: EventBridge "CloudWatch Alarm State Change" and "CloudWatch Alarm Contributor
  State Change" events (:data:`CLOUDWATCH_DETAIL_TYPES`), one signal.
- :func:`parse_cloudwatch_sns_message`: the notification CloudWatch alarm actions publish to SNS, one signal.
- :func:`parse_cloudwatch_alarm_action`: the payload of an alarm action that invokes a Lambda function directly
  (``alarmData``), one signal. The three CloudWatch paths give the same dedup key for the same alarm.
- :data:`PARSERS_BY_SOURCE`: the webhook families by URL path (``/alertmanager``, ``/grafana``, ``/datadog``,
  ``/generic``, and ``/canary``: Siren's own end-to-end canary, in the generic format), each
  ``(body, received_at) -> list[Signal]``, one signal per alert of the body (the first wrong alert raises).
- :data:`JUDGES_BY_SOURCE`: the same families judged alert by alert, ``(body, received_at, window) -> Judgement``:
  a ParseError only when the body is not that family's document at all; each wrong alert is a
  :class:`~siren.domain.signals.Refusal` (its index and reason) and its neighbours are still signals. ``window``
  judges a chunk of a large request (the indexes of its alerts).
- :func:`decode_json`: a body's JSON, refused (ParseError) when malformed or nested deeper than
  :data:`MAX_JSON_DEPTH`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from siren.domain.parsers._common import MAX_JSON_DEPTH, decode_json
from siren.domain.parsers.alertmanager import judge_alertmanager, parse_alertmanager
from siren.domain.parsers.cloudwatch import DETAIL_TYPES as CLOUDWATCH_DETAIL_TYPES
from siren.domain.parsers.cloudwatch import (
    parse_cloudwatch_alarm_action,
    parse_cloudwatch_event,
    parse_cloudwatch_sns_message,
)
from siren.domain.parsers.datadog import judge_datadog, parse_datadog
from siren.domain.parsers.generic import judge_canary, judge_generic, parse_canary, parse_generic
from siren.domain.parsers.grafana import judge_grafana, parse_grafana
from siren.domain.signals import Judgement, Signal

WebhookParser = Callable[[Any, datetime], list[Signal]]
WebhookJudge = Callable[[Any, datetime, "range | None"], Judgement]

PARSERS_BY_SOURCE: Final[Mapping[str, WebhookParser]] = MappingProxyType(
    {
        "alertmanager": parse_alertmanager,
        "grafana": parse_grafana,
        "datadog": parse_datadog,
        "generic": parse_generic,
        "canary": parse_canary,
    }
)

JUDGES_BY_SOURCE: Final[Mapping[str, WebhookJudge]] = MappingProxyType(
    {
        "alertmanager": judge_alertmanager,
        "grafana": judge_grafana,
        "datadog": judge_datadog,
        "generic": judge_generic,
        "canary": judge_canary,
    }
)

__all__ = [
    "CLOUDWATCH_DETAIL_TYPES",
    "JUDGES_BY_SOURCE",
    "MAX_JSON_DEPTH",
    "PARSERS_BY_SOURCE",
    "WebhookJudge",
    "WebhookParser",
    "decode_json",
    "parse_alertmanager",
    "parse_canary",
    "parse_cloudwatch_alarm_action",
    "parse_cloudwatch_event",
    "parse_cloudwatch_sns_message",
    "parse_datadog",
    "parse_generic",
    "parse_grafana",
]
