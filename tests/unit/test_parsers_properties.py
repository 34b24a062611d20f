"""Whatever arrives, a parser returns signals or raises ParseError: never a KeyError, a TypeError, or a crash.

Two sources of input: arbitrary JSON (with the field names the parsers look for mixed into the keys, so that the
generated documents get past the first checks), and the real samples in tests/events with one thing broken (a key
dropped, or a value replaced by arbitrary JSON) anywhere in the document.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siren.domain.parsers import (
    parse_alertmanager,
    parse_cloudwatch_alarm_action,
    parse_cloudwatch_event,
    parse_cloudwatch_sns_message,
    parse_datadog,
    parse_generic,
    parse_grafana,
)
from siren.domain.signals import ParseError, Signal

EVENTS = Path(__file__).parent.parent / "events"
RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The names parsers look for, so that generated objects often have the right keys with the wrong values.
KNOWN_KEYS = [
    "id",
    "detail-type",
    "time",
    "resources",
    "detail",
    "alarmName",
    "state",
    "value",
    "timestamp",
    "reason",
    "previousState",
    "configuration",
    "metrics",
    "metricStat",
    "metric",
    "dimensions",
    "name",
    "namespace",
    "expression",
    "alarmRule",
    "alarmContributor",
    "attributes",
    "actionsSuppressedBy",
    "muteDetail",
    "mutedByArn",
    "AlarmName",
    "AlarmArn",
    "AWSAccountId",
    "Region",
    "NewStateValue",
    "OldStateValue",
    "NewStateReason",
    "StateChangeTime",
    "AlarmDescription",
    "Trigger",
    "Metrics",
    "MetricStat",
    "Metric",
    "Dimensions",
    "MetricName",
    "Namespace",
    "Expression",
    "AlarmRule",
    "version",
    "alerts",
    "status",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "fingerprint",
    "generatorURL",
    "panelURL",
    "dashboardURL",
    "commonLabels",
    "receiver",
    "externalURL",
    "dedup_key",
    "title",
    "service",
    "severity",
    "summary",
    "occurred_at",
    "event_id",
    "link",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "4",
            "1",
            "firing",
            "resolved",
            "ALARM",
            "OK",
            "INSUFFICIENT_DATA",
            "SEV2",
            "CloudWatch Alarm State Change",
            "CloudWatch Alarm Contributor State Change",
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
            "2019-10-02T17:04:40.989+0000",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+14:00",
            "Asia Pacific (Tokyo)",
            "https://example.com/x",
            "SELECT MAX(x) FROM y GROUP BY z",
            "lone \ud800 surrogate",  # JSON can carry one ("\\ud800"); UTF-8 cannot
            "\u0663\u0660\u0661\u0669-10-02T17:04:40Z",  # Arabic-Indic digits are digits to a regex
            "ANOMALY_DETECTION_BAND(m1, 2)",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=12,
)


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def sns_message(name: str) -> Any:
    return json.loads(load(name)["Records"][0]["Sns"]["Message"])


def outcome(call: Callable[[], Signal | list[Signal]]) -> list[Signal]:
    """The signals of ``call``, checked; [] when it raised ParseError. Any other exception fails the test."""
    try:
        result = call()
    except ParseError as error:
        assert str(error), "a ParseError says what was wrong"
        return []
    signals = result if isinstance(result, list) else [result]
    assert all(isinstance(signal, Signal) for signal in signals)
    for signal in signals:
        assert signal.occurred_at.tzinfo is UTC
        assert 0 < len(signal.title) <= 255
        assert len(signal.summary) <= 4000
        assert signal.dedup_key.split(":", 1)[0] in ("cloudwatch", "alertmanager", "grafana", "generic", "datadog")
        assert signal.delivery_id
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in signal.details.items())
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in signal.hints.labels.items())
        assert signal.link is None or signal.link.startswith(("http://", "https://"))
    return signals


PARSERS: dict[str, Callable[[Any], Signal | list[Signal]]] = {
    "cloudwatch_event": parse_cloudwatch_event,
    "cloudwatch_sns": lambda body: parse_cloudwatch_sns_message(body, "m-1"),
    "alertmanager": lambda body: parse_alertmanager(body, RECEIVED),
    "grafana": lambda body: parse_grafana(body, RECEIVED),
    "generic": lambda body: parse_generic(body, RECEIVED),
    "cloudwatch_lambda": parse_cloudwatch_alarm_action,
    "datadog": lambda body: parse_datadog(body, RECEIVED),
}


@pytest.mark.parametrize("parser", sorted(PARSERS))
@SETTINGS
@given(body=JSON)
def test_arbitrary_json_gives_signals_or_a_parse_error(parser, body):
    outcome(lambda: PARSERS[parser](body))


@SETTINGS
@given(body=JSON)
def test_an_sns_message_as_text_parses_as_its_object_does(body):
    as_object = outcome(lambda: parse_cloudwatch_sns_message(body, "m-1"))

    assert outcome(lambda: parse_cloudwatch_sns_message(json.dumps(body), "m-1")) == as_object


@SETTINGS
@given(text=st.text(max_size=40), message_id=JSON)
def test_arbitrary_sns_text_and_message_ids(text, message_id):
    outcome(lambda: parse_cloudwatch_sns_message(text, message_id))


# -- the real samples, broken in one place ---------------------------------------------------------------------------
SAMPLES: dict[str, tuple[Callable[[Any], Signal | list[Signal]], list[Any]]] = {
    "cloudwatch_event": (
        parse_cloudwatch_event,
        [
            load(path.name)
            for path in sorted(EVENTS.glob("cw_alarm_*.json"))
            if "_sns_" not in path.name and "_lambda_action_" not in path.name
        ],
    ),
    "cloudwatch_lambda": (
        parse_cloudwatch_alarm_action,
        [load(path.name) for path in sorted(EVENTS.glob("cw_alarm_lambda_action_*.json"))],
    ),
    "datadog": (PARSERS["datadog"], [load(p.name) for p in sorted(EVENTS.glob("datadog_*.json"))]),
    "cloudwatch_sns": (
        PARSERS["cloudwatch_sns"],
        [sns_message(path.name) for path in sorted(EVENTS.glob("cw_alarm_sns_*.json"))],
    ),
    "alertmanager": (PARSERS["alertmanager"], [load(p.name) for p in sorted(EVENTS.glob("alertmanager_*.json"))]),
    "grafana": (PARSERS["grafana"], [load(p.name) for p in sorted(EVENTS.glob("grafana_*.json"))]),
    "generic": (PARSERS["generic"], [load(p.name) for p in sorted(EVENTS.glob("generic_*.json"))]),
}


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every place in a JSON document, the document itself first."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def mutated(document: Any, path: tuple[str | int, ...], drop: bool, replacement: Any) -> Any:
    """``document`` with the value at ``path`` dropped (or, at the root, replaced) or replaced by ``replacement``."""
    if not path:
        return replacement
    result = copy.deepcopy(document)
    parent = result
    for step in path[:-1]:
        parent = parent[step]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return result


@st.composite
def broken_samples(draw: st.DrawFn, family: str) -> Any:
    document = draw(st.sampled_from(SAMPLES[family][1]))
    path = draw(st.sampled_from(list(paths(document))))
    return mutated(document, path, drop=draw(st.booleans()), replacement=draw(JSON))


def test_every_sample_parses_unbroken():
    for family, (parse, documents) in SAMPLES.items():
        assert documents, f"no samples for {family}"
        for document in documents:
            assert outcome(lambda document=document, parse=parse: parse(document)), family


@pytest.mark.parametrize("family", sorted(SAMPLES))
@SETTINGS
@given(data=st.data())
def test_a_sample_broken_anywhere_gives_signals_or_a_parse_error(family, data):
    parse = SAMPLES[family][0]

    outcome(lambda: parse(data.draw(broken_samples(family))))
