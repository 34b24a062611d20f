"""The importers on recorded exports of two organisations: Siren's on-call answer on the imported config equals
the vendor's own final schedule (PagerDuty) or timeline (Opsgenie), at 1,000 instants across DST changes.

GIVEN an export whose final schedule was rendered by the independent reference in ``import_reference`` (and is
checked against it here, with a few entries checked by hand), WHEN it is imported, THEN Siren's ``on_call``
(the domain's own calculator, on the config as Siren's loader reads the written YAML) names the same person.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siren.config import load_config_text
from siren.domain.oncall import on_call
from siren.domain.policy import SirenConfig
from siren_cli.importers import opsgenie, pagerduty
from siren_cli.importers.common import render_yaml
from tests.unit.import_reference import opsgenie_on_call, pagerduty_on_call, parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"
ACME = FIXTURES / "pagerduty-acme"
GLOBEX = FIXTURES / "opsgenie-globex"
ACME_WINDOW = (parse("2026-03-02T00:00:00-05:00"), parse("2026-03-16T00:00:00-04:00"))  # US DST starts Mar 8
GLOBEX_WINDOW = (parse("2026-10-19T00:00:00+02:00"), parse("2026-11-02T00:00:00+01:00"))  # EU Oct 25, US Nov 1


def _loaded(imported: Any) -> SirenConfig:
    return load_config_text(render_yaml(imported), "imported.yaml")


ACME_EXPORT = pagerduty.read_export(ACME)
ACME_IMPORTED = pagerduty.convert(ACME_EXPORT, ACME_WINDOW[0])
ACME_CONFIG = _loaded(ACME_IMPORTED)
GLOBEX_EXPORT = opsgenie.read_export(GLOBEX)
GLOBEX_IMPORTED = opsgenie.convert(GLOBEX_EXPORT, GLOBEX_WINDOW[0])
GLOBEX_CONFIG = _loaded(GLOBEX_IMPORTED)


def _pd_final(schedule: dict[str, Any], at: datetime) -> str | None:
    """PagerDuty's own answer: the rendered final schedule entry covering ``at``."""
    entries = schedule["final_schedule"]["rendered_schedule_entries"]
    return next((e["user"]["id"] for e in entries if parse(e["start"]) <= at < parse(e["end"])), None)


def _og_final(timeline: dict[str, Any], at: datetime) -> set[str]:
    periods = [p for rotation in timeline["finalTimeline"]["rotations"] for p in rotation["periods"]]
    return {p["recipient"]["id"] for p in periods if parse(p["startDate"]) <= at < parse(p["endDate"])}


def _acme_answers(at: datetime) -> list[tuple[str, str | None, str | None]]:
    names = ACME_IMPORTED.report.names
    answers = []
    for schedule in ACME_EXPORT.schedules:
        expected = _pd_final(schedule, at)
        siren = on_call(ACME_CONFIG.schedules[names["schedules"][schedule["id"]]], at)
        answers.append((schedule["name"], None if expected is None else names["users"][expected], siren))
    return answers


def _globex_answers(at: datetime) -> list[tuple[str, set[str], set[str]]]:
    names = GLOBEX_IMPORTED.report.names
    answers = []
    for schedule in GLOBEX_EXPORT.schedules:
        expected = {names["users"][user] for user in _og_final(GLOBEX_EXPORT.timelines[schedule["id"]], at)}
        siren = on_call(GLOBEX_CONFIG.schedules[names["schedules"][schedule["id"]]], at)
        answers.append((schedule["name"], expected, set() if siren is None else {siren}))
    return answers


def _seconds(window: tuple[datetime, datetime]) -> st.SearchStrategy[datetime]:
    span = int((window[1] - window[0]).total_seconds())
    return st.integers(0, span - 1).map(lambda second: window[0] + timedelta(seconds=second))


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(_seconds(ACME_WINDOW))
def test_siren_agrees_with_pagerdutys_final_schedule(at: datetime) -> None:
    for schedule, expected, siren in _acme_answers(at):
        assert siren == expected, f"{schedule} at {at.isoformat()}"


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(_seconds(GLOBEX_WINDOW))
def test_siren_agrees_with_opsgenies_timeline(at: datetime) -> None:
    for schedule, expected, siren in _globex_answers(at):
        assert len(expected) <= 1, f"{schedule}: the fixture's rotations must not overlap at {at.isoformat()}"
        assert siren == expected, f"{schedule} at {at.isoformat()}"


def test_siren_agrees_at_every_handoff_of_the_final_schedules() -> None:
    """Random instants rarely land on a handoff: try each entry's first and last second too."""
    boundaries = {
        parse(entry[key]) + offset
        for schedule in ACME_EXPORT.schedules
        for entry in schedule["final_schedule"]["rendered_schedule_entries"]
        for key in ("start", "end")
        for offset in (timedelta(0), timedelta(seconds=-1))
    }
    inside = sorted(at for at in boundaries if ACME_WINDOW[0] <= at < ACME_WINDOW[1])
    assert len(inside) > 50
    for at in inside:
        for schedule, expected, siren in _acme_answers(at):
            assert siren == expected, f"{schedule} at {at.isoformat()}"
    og_boundaries = {
        parse(period[key]) + offset
        for timeline in GLOBEX_EXPORT.timelines.values()
        for rotation in timeline["finalTimeline"]["rotations"]
        for period in rotation["periods"]
        for key in ("startDate", "endDate")
        for offset in (timedelta(0), timedelta(seconds=-1))
    }
    for at in sorted(at for at in og_boundaries if GLOBEX_WINDOW[0] <= at < GLOBEX_WINDOW[1]):
        for schedule, people, siren_people in _globex_answers(at):
            assert siren_people == people, f"{schedule} at {at.isoformat()}"


@pytest.mark.parametrize("schedule", ACME_EXPORT.schedules, ids=lambda s: s["name"])
def test_the_recorded_final_schedule_is_the_reference_calculation(schedule: dict[str, Any]) -> None:
    """The fixture's final schedule is what the vendor's documented rules give (checked every 15 minutes)."""
    overrides = ACME_EXPORT.overrides[schedule["id"]]
    moment = ACME_WINDOW[0]
    while moment < ACME_WINDOW[1]:
        assert _pd_final(schedule, moment) == pagerduty_on_call(schedule, overrides, moment), moment.isoformat()
        moment += timedelta(minutes=15)


@pytest.mark.parametrize("schedule", GLOBEX_EXPORT.schedules, ids=lambda s: s["name"])
def test_the_recorded_timeline_is_the_reference_calculation(schedule: dict[str, Any]) -> None:
    overrides = GLOBEX_EXPORT.overrides[schedule["id"]]
    timeline = GLOBEX_EXPORT.timelines[schedule["id"]]
    moment = GLOBEX_WINDOW[0]
    while moment < GLOBEX_WINDOW[1]:
        assert _og_final(timeline, moment) == opsgenie_on_call(schedule, overrides, moment), moment.isoformat()
        moment += timedelta(minutes=30)


def _entry_at(schedule_id: str, text: str) -> str | None:
    schedule = next(s for s in ACME_EXPORT.schedules if s["id"] == schedule_id)
    user = _pd_final(schedule, parse(text))
    return None if user is None else ACME_IMPORTED.report.names["users"][user]


def test_hand_checked_entries_around_the_us_dst_change() -> None:
    """Worked out by hand from the layers (see the fixture): the reference and the fixture say the same."""
    # Weekly layer: Alice, Bob, Carol from Jan 5 09:00; Mar 2 is 8 weeks on (8 % 3 = 2: Carol), Mar 9 is Alice.
    assert _entry_at("PSPRIM1", "2026-03-02T12:00:00-05:00") == "carol-schmidt"
    assert _entry_at("PSPRIM1", "2026-03-09T09:00:00-04:00") == "alice-martin"  # 09:00 local, a day after DST
    assert _entry_at("PSPRIM1", "2026-03-09T08:59:59-04:00") == "erin-walsh"  # Nights: 2-day turns, turn 31
    # The override spans the skipped hour: 01:00 EST to 05:00 EDT is three real hours of Erin.
    assert _entry_at("PSPRIM1", "2026-03-08T01:00:00-05:00") == "erin-walsh"
    assert _entry_at("PSPRIM1", "2026-03-08T04:59:59-04:00") == "erin-walsh"
    assert _entry_at("PSPRIM1", "2026-03-08T05:00:00-04:00") == "frank-osei"  # Weekend Europe, 9 weeks on
    # Database: 12-hour turns of real time in UTC from Jan 5 08:00 (Carol, Frank, Dave): Mar 2 08:00 is turn 112.
    assert _entry_at("PSDBA03", "2026-03-02T08:00:00Z") == "frank-osei"


def test_the_output_is_the_sections_siren_validates() -> None:
    text = render_yaml(ACME_IMPORTED)
    assert text.startswith("# Imported by `siren import pagerduty`")
    config = load_config_text(text, "imported.yaml")
    assert set(config.schedules) == {"primary-on-call", "secondary", "database"}
    assert config.escalation_policies["acme-standard"].repeat == 3  # num_loops 2: three runs in all
    assert [len(level.targets) for level in config.escalation_policies["database-critical"].levels] == [1, 2, 1]
    assert config.severity_policies["default"] == "acme-standard"  # what most services page through
    assert set(config.services) == {"checkout-api", "payments", "orders-db"}
    globex = GLOBEX_CONFIG.escalation_policies["sre-escalation"]
    assert [level.delay_minutes for level in globex.levels] == [10, 15, 10]  # rules at 0, 10 (two), 25; wait 10
    assert globex.repeat == 3
    assert GLOBEX_CONFIG.users["lena-fischer"].phone is None
    assert GLOBEX_CONFIG.users["katja-nowak"].phone == "+48601234567"


def test_the_reports_list_what_the_realistic_exports_cannot_say() -> None:
    acme = json.loads(json.dumps(ACME_IMPORTED.report.to_json()))
    reasons = [(item["kind"], item["source"], item["reason"]) for item in acme["items"]]
    assert any("push notification" in reason for _, _, reason in reasons)
    assert any(kind == "skipped" and "Weekly (before February)" in source for kind, source, _ in reasons)
    assert any("Orders DB" in source and "by severity" in reason for _, source, reason in reasons)
    globex = [(item.kind, item.source, item.reason) for item in GLOBEX_IMPORTED.report.items]
    assert any(source.endswith("to Databases") and "team recipient" in reason for _, source, reason in globex)
    assert any("'next'" in reason for _, _, reason in globex)
    assert any(kind == "approximated" and "if-not-closed" in reason for kind, _, reason in globex)
    assert any("mobile app" in reason for _, _, reason in globex)
    assert not any("overlap" in reason for _, _, reason in globex)  # the fixture's rotations take turns


def test_the_windows_are_across_dst_changes() -> None:
    for window, zone in ((ACME_WINDOW, "America/New_York"), (GLOBEX_WINDOW, "Europe/Berlin")):
        from zoneinfo import ZoneInfo

        offsets = {w.astimezone(ZoneInfo(zone)).utcoffset() for w in window}
        assert len(offsets) == 2, zone
    assert ACME_WINDOW[0].tzinfo is UTC
