"""Opsgenie's users, schedules, escalations and teams, as siren.yaml sections.

The JSON is what Opsgenie's REST API v2 returns (https://docs.opsgenie.com/docs/api-overview), each body
``{"data": ..., "took": ..., "requestId": ...}``:
- ``GET /v2/users`` (``id``, ``username`` (the email), ``fullName``, ``timeZone``; pages by ``paging.next``) and
  ``GET /v2/users/{id}/contacts`` (``method`` email/sms/voice/mobile, ``to``: "1-4255550101" for phones).
- ``GET /v2/schedules?expand=rotation``: ``timezone`` and ``rotations`` (``type`` daily/weekly/hourly, ``length``,
  ``startDate``, ``endDate``, ``participants`` of type user/team/escalation/none in turn order, ``timeRestriction``
  of type ``time-of-day`` (``restriction``: startHour/startMin/endHour/endMin) or ``weekday-and-time-of-day``
  (``restrictions``: startDay/startHour/startMin/endDay/endHour/endMin)), as documented for Opsgenie's schedule
  rotation API and its SDK models (CreateScheduleRotationPayload: "daily, weekly and hourly"; participants
  "escalations, teams, users or the reserved word none").
- ``GET /v2/schedules/{id}/overrides`` (``user``, ``startDate``, ``endDate``, ``rotations``) and
  ``GET /v2/schedules/{id}/timeline`` (``finalTimeline.rotations[].periods[]``: startDate, endDate, recipient).
- ``GET /v2/escalations``: ``rules`` (``condition``, ``notifyType``, ``delay.timeAmount`` counted from the alert,
  ``recipient`` of type user/schedule/team) and ``repeat`` (``waitInterval``, ``count``).
- ``GET /v2/teams``: imported as Siren services (name and description).
The key goes in ``Authorization: GenieKey ...``.

An export directory (``--from``) holds ``users.json``, ``users/<id>.contacts.json``, ``schedules.json``,
``schedules/<id>.overrides.json``, ``schedules/<id>.timeline.json``, ``escalations.json``, ``teams.json``.

Opsgenie pages everyone on call where rotations overlap; Siren has one person per schedule (the last layer wins),
so overlaps are reported. Rules with the same delay page together, as one Siren level.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from siren_cli.importers.common import (
    DAY,
    WEEK,
    ExportError,
    Imported,
    JsonClient,
    Names,
    Report,
    Turns,
    email_name,
    instant,
    local_text,
    merge_days,
    read_json,
    reads_back,
    siren_rotation,
    split_window,
    zone_named,
)

VENDOR: Final = "Opsgenie"
DEFAULT_BASE_URL: Final = "https://api.opsgenie.com"
_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNITS: Final = {"hourly": timedelta(hours=1), "daily": DAY, "weekly": WEEK}


@dataclass(slots=True)
class OpsgenieExport:
    users: list[dict[str, Any]] = field(default_factory=list)
    contacts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user id -> contacts
    schedules: list[dict[str, Any]] = field(default_factory=list)
    overrides: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # schedule id -> overrides
    timelines: dict[str, dict[str, Any]] = field(default_factory=dict)  # schedule id -> timeline data
    escalations: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        for folder in ("users", "schedules"):
            (directory / folder).mkdir(parents=True, exist_ok=True)
        _write(directory / "users.json", self.users)
        for user_id, contacts in self.contacts.items():
            _write(directory / "users" / f"{user_id}.contacts.json", contacts)
        _write(directory / "schedules.json", self.schedules)
        for schedule_id, overrides in self.overrides.items():
            _write(directory / "schedules" / f"{schedule_id}.overrides.json", overrides)
        for schedule_id, timeline in self.timelines.items():
            _write(directory / "schedules" / f"{schedule_id}.timeline.json", timeline)
        _write(directory / "escalations.json", self.escalations)
        _write(directory / "teams.json", self.teams)


def read_export(directory: Path) -> OpsgenieExport:
    export = OpsgenieExport(
        users=_data_list(read_json(directory, "users.json"), directory / "users.json"),
        schedules=_data_list(read_json(directory, "schedules.json"), directory / "schedules.json"),
        escalations=_data_list(read_json(directory, "escalations.json"), directory / "escalations.json"),
        teams=_data_list(read_json(directory, "teams.json", required=False) or {"data": []}, directory),
    )
    for user in export.users:
        contacts = read_json(directory / "users", f"{user['id']}.contacts.json", required=False)
        if contacts is not None:
            export.contacts[user["id"]] = _data_list(contacts, directory / "users")
    for schedule in export.schedules:
        overrides = read_json(directory / "schedules", f"{schedule['id']}.overrides.json", required=False)
        if overrides is not None:
            export.overrides[schedule["id"]] = _data_list(overrides, directory / "schedules")
        timeline = read_json(directory / "schedules", f"{schedule['id']}.timeline.json", required=False)
        if timeline is not None:
            export.timelines[schedule["id"]] = timeline["data"]
    return export


def fetch_export(client: JsonClient, since: datetime, days: int) -> OpsgenieExport:
    """Everything the import reads, from the API; the timelines cover ``days`` days from ``since``."""
    export = OpsgenieExport(
        users=_all_pages(client, "/v2/users"),
        schedules=client.get("/v2/schedules", {"expand": "rotation"})["data"],
        escalations=client.get("/v2/escalations")["data"],
        teams=client.get("/v2/teams")["data"],
    )
    for user in export.users:
        export.contacts[user["id"]] = client.get(f"/v2/users/{user['id']}/contacts")["data"]
    for schedule in export.schedules:
        export.overrides[schedule["id"]] = client.get(f"/v2/schedules/{schedule['id']}/overrides")["data"]
        export.timelines[schedule["id"]] = client.get(
            f"/v2/schedules/{schedule['id']}/timeline",
            {"date": since.isoformat(), "interval": days, "intervalUnit": "days"},
        )["data"]
    return export


def convert(export: OpsgenieExport, as_of: datetime) -> Imported:
    """The siren.yaml sections; ``as_of`` is "now" for the export: what ended before it is history."""
    return _Converter(export, as_of).run()


class _Converter:
    def __init__(self, export: OpsgenieExport, as_of: datetime) -> None:
        self.export = export
        self.as_of = as_of
        self.report = Report(VENDOR)
        self.users: dict[str, str] = {}
        self.schedules: dict[str, str] = {}

    def run(self) -> Imported:
        sections: dict[str, Any] = {"users": self._users()}
        sections["schedules"] = self._schedules()
        sections["escalation_policies"] = policies = self._policies()
        if policies:
            sections["severity_policies"] = {"default": next(iter(policies))}
            if len(policies) > 1:
                self.report.unmapped(
                    "escalations",
                    "Opsgenie routes alerts to an escalation by team and routing rules; Siren chooses the policy by"
                    f' severity (severity_policies): every severity pages "{next(iter(policies))}" until you map them',
                )
        sections["services"] = self._services()
        return Imported({key: value for key, value in sections.items() if value}, self.report)

    def _users(self) -> dict[str, Any]:
        names = Names()
        users: dict[str, Any] = {}
        for user in self.export.users:
            where = f'user "{user.get("fullName")}" ({user.get("username")})'
            user_id = names.make(email_name(user.get("username")), user.get("fullName"), user["id"])
            entry: dict[str, Any] = {"name": user.get("fullName") or user_id, "email": user["username"]}
            for contact in self.export.contacts.get(user["id"], []):
                if not (contact.get("status") or {}).get("enabled", True):
                    continue
                if contact.get("method") in ("sms", "voice") and "phone" not in entry:
                    entry["phone"] = "+" + "".join(ch for ch in str(contact.get("to", "")) if ch.isdigit())
                elif contact.get("method") == "mobile":
                    self.report.unmapped(where, "the Opsgenie mobile app: Siren pages by sms, voice, email or chat")
            if zone_named(user.get("timeZone")):
                entry["time_zone"] = user["timeZone"]
            users[user_id] = entry
            self.users[user["id"]] = user_id
            self.report.named("users", user["id"], user_id)
        if users:
            self.report.approximated(
                "notification rules", "not imported: Siren's default (sms and email at once, voice after 2 minutes)"
            )
        return users

    def _schedules(self) -> dict[str, Any]:
        names = Names()
        schedules: dict[str, Any] = {}
        for schedule in self.export.schedules:
            where = f'schedule "{schedule.get("name")}"'
            zone = zone_named(schedule.get("timezone"))
            if zone is None:
                self.report.unmapped(where, f"time zone {schedule.get('timezone')!r} is not an IANA zone: left out")
                continue
            if not schedule.get("enabled", True):
                self.report.approximated(where, "disabled in Opsgenie: imported as an active schedule")
            layers = self._layers(schedule, zone, where)
            if not layers:
                self.report.unmapped(where, "no rotation Siren can use: left out")
                continue
            name = names.make(schedule.get("name"), schedule["id"])
            entry: dict[str, Any] = {"time_zone": zone.key, "layers": layers}
            overrides = self._overrides(schedule, zone, where)
            if overrides:
                entry["overrides"] = overrides
            schedules[name] = entry
            self.schedules[schedule["id"]] = name
            self.report.named("schedules", schedule["id"], name)
            self._check_overlaps(schedule, where)
        return schedules

    def _layers(self, schedule: dict[str, Any], zone: ZoneInfo, where: str) -> list[dict[str, Any]]:
        names = Names()
        layers: list[dict[str, Any]] = []
        for rotation in sorted(schedule.get("rotations") or [], key=lambda r: r.get("order", 0)):
            rotation_where = f'{where}, rotation "{rotation.get("name")}"'
            if rotation.get("endDate") and instant(rotation["endDate"]) <= self.as_of:
                self.report.skipped(rotation_where, f"ended {rotation['endDate']}, before the import")
                continue
            participants: list[str] = []
            for participant in rotation.get("participants") or []:
                user = self.users.get(participant.get("id", "")) if participant.get("type") == "user" else None
                if user is None:
                    self.report.unmapped(
                        rotation_where,
                        f"a {participant.get('type')} participant ({participant.get('name') or participant.get('id')}):"
                        " Siren's participants are users; their turns go to the next user",
                    )
                    continue
                participants.append(user)
            if not participants:
                self.report.unmapped(rotation_where, "no user participant: left out")
                continue
            kind = rotation.get("type", "")
            if kind not in _UNITS:
                self.report.unmapped(rotation_where, f"rotation type {kind!r}: Siren knows daily, weekly, hourly")
                continue
            turns = Turns(_UNITS[kind] * int(rotation.get("length") or 1), wall=kind != "hourly")
            start = instant(rotation["startDate"])
            fields, handoff = siren_rotation(turns, participants, zone, start, start)
            if not reads_back(handoff, zone):
                self.report.approximated(rotation_where, "hands off in the hour a DST change repeats")
            if rotation.get("endDate"):
                self.report.approximated(
                    rotation_where, f"ends {rotation['endDate']}: Siren's layers do not end; remove it then"
                )
            entry: dict[str, Any] = {"name": names.make(rotation.get("name"), rotation.get("id")), **fields}
            restriction = rotation.get("timeRestriction")
            if restriction:
                windows = self._restriction(restriction, rotation_where)
                if not windows:
                    continue
                entry["restrict"] = windows
            layers.append(entry)
        return layers

    def _restriction(self, restriction: dict[str, Any], where: str) -> list[dict[str, Any]]:
        if restriction.get("type") == "time-of-day":
            window = restriction.get("restriction") or {}
            start = time(int(window["startHour"]), int(window["startMin"]))
            end = time(int(window["endHour"]), int(window["endMin"]))
            return [{"start": start.isoformat("minutes"), "end": end.isoformat("minutes")}]
        if restriction.get("type") == "weekday-and-time-of-day":
            windows: list[dict[str, Any]] = []
            for window in restriction.get("restrictions") or []:
                first, last = _WEEKDAYS.index(window["startDay"]), _WEEKDAYS.index(window["endDay"])
                opens = timedelta(days=first, hours=window["startHour"], minutes=window["startMin"])
                closes = timedelta(days=last, hours=window["endHour"], minutes=window["endMin"])
                length = (closes - opens) % WEEK or WEEK
                windows += split_window(time(int(window["startHour"]), int(window["startMin"])), length, first)
            return merge_days(windows)
        self.report.unmapped(where, f"time restriction {restriction.get('type')!r}: left out with its rotation")
        return []

    def _overrides(self, schedule: dict[str, Any], zone: ZoneInfo, where: str) -> list[dict[str, Any]]:
        overrides: list[dict[str, Any]] = []
        all_rotations = {rotation["id"] for rotation in schedule.get("rotations") or []}
        for override in sorted(self.export.overrides.get(schedule["id"], []), key=lambda o: instant(o["startDate"])):
            start, end = instant(override["startDate"]), instant(override["endDate"])
            if end <= self.as_of:
                continue
            override_where = f"{where}, override {override['startDate']} to {override['endDate']}"
            user = self.users.get((override.get("user") or {}).get("id", ""))
            if user is None:
                self.report.unmapped(override_where, "not a user Siren knows: left out")
                continue
            limited = {rotation.get("id") for rotation in override.get("rotations") or []}
            if limited and limited != all_rotations:
                self.report.approximated(
                    override_where, "limited to some rotations in Opsgenie: Siren's overrides cover the whole schedule"
                )
            for moment in (start, end):
                if not reads_back(moment, zone):
                    self.report.approximated(override_where, "starts or ends in the hour a DST change repeats")
            overrides.append({"user": user, "start": local_text(start, zone), "end": local_text(end, zone)})
        return overrides

    def _check_overlaps(self, schedule: dict[str, Any], where: str) -> None:
        """Where the export's own timeline has two people at once, Siren (one person per schedule) differs."""
        timeline = self.export.timelines.get(schedule["id"])
        if not timeline:
            return
        periods = sorted(
            (instant(p["startDate"]), instant(p["endDate"]))
            for rotation in (timeline.get("finalTimeline") or {}).get("rotations") or []
            for p in rotation.get("periods") or []
        )
        for (_, first_end), (second_start, _) in pairwise(periods):
            if second_start < first_end:
                self.report.unmapped(
                    where,
                    f"rotations overlap (from {second_start.isoformat()}): Opsgenie pages everyone on call, Siren"
                    " one person per schedule (the last layer); split the schedule to page both",
                )
                return

    def _policies(self) -> dict[str, Any]:
        names = Names()
        policies: dict[str, Any] = {}
        for escalation in self.export.escalations:
            where = f'escalation "{escalation.get("name")}"'
            by_delay: dict[int, list[dict[str, str]]] = {}
            for rule in escalation.get("rules") or []:
                delay = _minutes(rule.get("delay") or {})
                recipient = rule.get("recipient") or {}
                rule_where = f"{where}, rule after {delay} min to {recipient.get('name') or recipient.get('username')}"
                if rule.get("condition", "if-not-acked") != "if-not-acked":
                    self.report.approximated(
                        rule_where, f"condition {rule['condition']}: Siren escalates until acknowledged"
                    )
                if rule.get("notifyType", "default") != "default":
                    self.report.unmapped(
                        rule_where, f"notifies {rule['notifyType']!r}: Siren pages whoever is on call now: left out"
                    )
                    continue
                target = self._target(recipient, rule_where)
                if target is not None and target not in by_delay.setdefault(delay, []):
                    by_delay[delay].append(target)
            delays = sorted(delay for delay, targets in by_delay.items() if targets)
            if not delays:
                self.report.unmapped(where, "no rule Siren can page: left out")
                continue
            if delays[0]:
                self.report.approximated(
                    where, f"the first rule waits {delays[0]} min: Siren pages the first level at once"
                )
            repeat = escalation.get("repeat") or {}
            wait = int(repeat.get("waitInterval") or 0)
            levels = [
                {"targets": by_delay[delay], "delay_minutes": max(following - delay, 1)}
                for delay, following in zip(delays, [*delays[1:], delays[-1] + max(wait, 1)], strict=True)
            ]
            entry: dict[str, Any] = {"levels": levels}
            if int(repeat.get("count") or 0):
                entry["repeat"] = int(repeat["count"]) + 1
            name = names.make(escalation.get("name"), escalation["id"])
            policies[name] = entry
            self.report.named("escalation_policies", escalation["id"], name)
        return policies

    def _target(self, recipient: dict[str, Any], where: str) -> dict[str, str] | None:
        kind = recipient.get("type")
        if kind == "schedule" and recipient.get("id") in self.schedules:
            return {"schedule": self.schedules[recipient["id"]]}
        if kind == "user" and recipient.get("id") in self.users:
            return {"user": self.users[recipient["id"]]}
        reason = "was not imported" if kind in ("schedule", "user") else "Siren's levels page schedules and users"
        self.report.unmapped(where, f"a {kind} recipient: {reason}: left out")
        return None

    def _services(self) -> dict[str, Any]:
        names = Names()
        services: dict[str, Any] = {}
        for team in self.export.teams:
            name = names.make(team.get("name"), team["id"])
            services[name] = {"description": str(team["description"])} if team.get("description") else {}
            self.report.named("services", team["id"], name)
        return services


def _minutes(delay: dict[str, Any]) -> int:
    amount = int(delay.get("timeAmount") or 0)
    return {"hours": 60, "days": 1440}.get(str(delay.get("timeUnit", "minutes")), 1) * amount


def _data_list(body: Any, where: Path) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ExportError(f'{where}: expected an Opsgenie body {{"data": [...]}}')
    return list(body["data"])


def _all_pages(client: JsonClient, path: str) -> list[dict[str, Any]]:
    body = client.get(path, {"limit": 100, "offset": 0})
    items = list(body["data"])
    while (body.get("paging") or {}).get("next") and body["data"]:
        body = client.get(body["paging"]["next"])
        items += body["data"]
    return items


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps({"data": data}, indent=2) + "\n", encoding="utf-8")
