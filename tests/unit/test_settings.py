from __future__ import annotations

import pytest

from siren.settings import Settings, SettingsError, environment, function_environment


def test_settings_come_from_the_function_environment(monkeypatch):
    monkeypatch.delenv("TABLE_NAME", raising=False)
    with function_environment({"TABLE_NAME": "incidents", "EVENT_BUS_NAME": "bus", "RAW_ALERT_TTL_DAYS": "7"}):
        settings = Settings.load()
        assert environment()["TABLE_NAME"] == "incidents"
    assert (settings.table_name, settings.event_bus_name, settings.raw_alert_ttl_days) == ("incidents", "bus", 7)
    assert "TABLE_NAME" not in environment()


def test_missing_and_malformed_settings_say_which(monkeypatch):
    monkeypatch.delenv("TABLE_NAME", raising=False)
    with function_environment({"EVENT_BUS_NAME": "bus"}), pytest.raises(SettingsError, match="TABLE_NAME"):
        Settings.load()
    with (
        function_environment({"TABLE_NAME": "t", "EVENT_BUS_NAME": "b", "RAW_ALERT_TTL_DAYS": "soon"}),
        pytest.raises(SettingsError, match="RAW_ALERT_TTL_DAYS"),
    ):
        Settings.load()
