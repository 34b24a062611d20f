"""PagerDuty's users, schedules, escalation policies and services, as siren.yaml sections.

The JSON is what PagerDuty's REST API v2 returns (https://developer.pagerduty.com/api-reference/):
- ``GET /users?include[]=contact_methods&include[]=notification_rules``: ``{"users": [...], "more": ...}``; a user
  has ``id``, ``name``, ``email``, ``time_zone``, ``contact_methods`` (``phone_contact_method`` /
  ``sms_contact_method`` with ``country_code`` and ``address``, ``email_contact_method``, ``push_notification_...``)
  and ``notification_rules`` (``start_delay_in_minutes``, ``contact_method``, ``urgency``).
- ``GET /schedules/{id}?since=..&until=..``: ``{"schedule": {...}}`` with ``time_zone``, ``schedule_layers``
  (each: ``start``, ``end`` (null: never), ``rotation_virtual_start``, ``rotation_turn_length_seconds``, ``users``
  (``[{"user": {"id": ...}}]``, in turn order), ``restrictions`` (``daily_restriction`` or ``weekly_restriction``:
  ``start_time_of_day`` "HH:MM:SS", ``duration_seconds``, ``start_day_of_week`` 1 = Monday .. 7, ISO 8601)), and
  ``final_schedule.rendered_schedule_entries`` (``start``, ``end``, ``user``) for the window asked. Layer fields as
  documented by PagerDuty's schedule API and its Terraform/Pulumi provider (``rotationVirtualStart``,
  ``rotationTurnLengthSeconds``, restriction ``type``/``startTimeOfDay``/``durationSeconds``/``startDayOfWeek``).
- ``GET /schedules/{id}/overrides?since=..&until=..``: ``{"overrides": [{"start", "end", "user"}]}``.
- ``GET /escalation_policies``: ``escalation_rules`` (``escalation_delay_in_minutes``, ``targets`` of type
  ``schedule_reference`` / ``user_reference``), ``num_loops`` (how many times the policy repeats after the first).
- ``GET /services``: ``name``, ``description``, ``status``, ``escalation_policy`` (a reference).
Lists page with ``offset``/``limit`` and answer ``more``; the token goes in ``Authorization: Token token=...``.

An export directory (``--from``) holds the same bodies: ``users.json``, ``schedules/<ID>.json`` (and
``schedules/<ID>.overrides.json``), ``escalation_policies.json``, ``services.json``; ``--save`` writes that layout.

The API lists a schedule's layers highest first (the layer that wins is ``schedule_layers[0]``, as in the API
reference's example and the web UI, where "Layer 2" is above "Layer 1"); Siren's last layer wins, so the order is
reversed. Turns of whole days hand off at the same local time across DST; restrictions are wall-clock windows.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from siren_cli.importers.common import (
    DAY,
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

VENDOR: Final = "PagerDuty"
DEFAULT_BASE_URL: Final = "https://api.pagerduty.com"
_PAGE: Final = 100
_NOTIFY: Final = {"sms_contact_method": "sms", "phone_contact_method": "voice", "email_contact_method": "email"}


@dataclass(slots=True)
class PagerDutyExport:
    users: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    overrides: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # schedule id -> overrides
    escalation_policies: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)

    def save(self, directory: Path) -> None:
        (directory / "schedules").mkdir(parents=True, exist_ok=True)
        _write(directory / "users.json", {"users": self.users})
        for schedule in self.schedules:
            _write(directory / "schedules" / f"{schedule['id']}.json", {"schedule": schedule})
            _write(
                directory / "schedules" / f"{schedule['id']}.overrides.json",
                {"overrides": self.overrides.get(schedule["id"], [])},
            )
        _write(directory / "escalation_policies.json", {"escalation_policies": self.escalation_policies})
        _write(directory / "services.json", {"services": self.services})


def read_export(directory: Path) -> PagerDutyExport:
    export = PagerDutyExport(
        users=_listed(read_json(directory, "users.json"), "users", directory / "users.json"),
        escalation_policies=_listed(
            read_json(directory, "escalation_policies.json"),
            "escalation_policies",
            directory / "escalation_policies.json",
        ),
        services=_listed(
            read_json(directory, "services.json", required=False) or {"services": []}, "services", directory
        ),
    )
    for path in sorted((directory / "schedules").glob("*.json")):
        if path.name.endswith(".overrides.json"):
            continue
        body = read_json(path.parent, path.name)
        if not isinstance(body, dict) or not isinstance(body.get("schedule"), dict):
            raise ExportError(f'{path}: expected the body of GET /schedules/{{id}}: {{"schedule": {{...}}}}')
        schedule = body["schedule"]
        export.schedules.append(schedule)
        overrides = read_json(path.parent, f"{path.stem}.overrides.json", required=False)
        if overrides is not None:
            export.overrides[schedule["id"]] = _listed(overrides, "overrides", path)
    return export


def fetch_export(client: JsonClient, since: datetime, until: datetime) -> PagerDutyExport:
    """Everything the import reads, from the API; ``since``/``until`` bound the final schedule and overrides."""
    window = {"since": since.isoformat(), "until": until.isoformat()}
    export = PagerDutyExport(
        users=_all_pages(client, "/users", "users", {"include[]": ["contact_methods", "notification_rules"]}),
        escalation_policies=_all_pages(client, "/escalation_policies", "escalation_policies", {}),
        services=_all_pages(client, "/services", "services", {}),
    )
    for listed in _all_pages(client, "/schedules", "schedules", {}):
        schedule = client.get(f"/schedules/{listed['id']}", window)["schedule"]
        export.schedules.append(schedule)
        export.overrides[schedule["id"]] = client.get(f"/schedules/{listed['id']}/overrides", window)["overrides"]
    return export


def convert(export: PagerDutyExport, as_of: datetime) -> Imported:
    """The siren.yaml sections; ``as_of`` is "now" for the export: what ended before it is history."""
    return _Converter(export, as_of).run()


# ---- the conversion -----------------------------------------------------------------------------------------


class _Converter:
    def __init__(self, export: PagerDutyExport, as_of: datetime) -> None:
        self.export = export
        self.as_of = as_of
        self.report = Report(VENDOR)
        self.users: dict[str, str] = {}  # PagerDuty id -> Siren id
        self.schedules: dict[str, str] = {}
        self.policies: dict[str, str] = {}

    def run(self) -> Imported:
        sections: dict[str, Any] = {"users": self._users()}
        sections["schedules"] = self._schedules()
        sections["escalation_policies"] = self._policies()
        sections["severity_policies"], sections["services"] = self._services()
        return Imported({key: value for key, value in sections.items() if value}, self.report)

    # -- users

    def _users(self) -> dict[str, Any]:
        names = Names()
        users: dict[str, Any] = {}
        for user in self.export.users:
            where = f'user "{user.get("name")}" ({user["id"]})'
            user_id = names.make(email_name(user.get("email")), user.get("name"), user["id"])
            entry: dict[str, Any] = {"name": user.get("name") or user_id}
            methods = user.get("contact_methods") or []
            phone = next((_phone(m) for m in methods if m.get("type") == "phone_contact_method" and _phone(m)), None)
            phone = phone or next((_phone(m) for m in methods if m.get("type") == "sms_contact_method"), None)
            if phone:
                entry["phone"] = phone
            if user.get("email"):
                entry["email"] = user["email"]
            if not phone and not user.get("email"):
                self.report.unmapped(where, "no phone and no email: Siren could not page this user, left out")
                continue
            if zone_named(user.get("time_zone")):
                entry["time_zone"] = user["time_zone"]
            notify = self._notify(user, where, has_phone=bool(phone), has_email=bool(user.get("email")))
            if notify:
                entry["notify"] = notify
            users[user_id] = entry
            self.users[user["id"]] = user_id
            self.report.named("users", user["id"], user_id)
        return users

    def _notify(self, user: dict[str, Any], where: str, *, has_phone: bool, has_email: bool) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        low_urgency = 0
        for rule in user.get("notification_rules") or []:
            if rule.get("urgency", "high") != "high":
                low_urgency += 1
                continue
            kind = (rule.get("contact_method") or {}).get("type", "")
            method = _NOTIFY.get(kind)
            if (
                method is None
                or (method in ("sms", "voice") and not has_phone)
                or (method == "email" and not has_email)
            ):
                self.report.unmapped(
                    where,
                    f"notification rule by {kind.removesuffix('_contact_method').replace('_', ' ') or 'unknown'}"
                    f" after {rule.get('start_delay_in_minutes', 0)} min: Siren pages by sms, voice, email or chat",
                )
                continue
            candidate = {"method": method, "after_minutes": int(rule.get("start_delay_in_minutes") or 0)}
            if candidate not in rules:
                rules.append(candidate)
        if low_urgency:
            self.report.unmapped(
                where,
                f"{low_urgency} low-urgency notification rule(s): Siren has no urgencies;"
                " its pages use the high-urgency rules",
            )
        return rules

    # -- schedules

    def _schedules(self) -> dict[str, Any]:
        names = Names()
        schedules: dict[str, Any] = {}
        for schedule in self.export.schedules:
            where = f'schedule "{schedule.get("name")}" ({schedule["id"]})'
            zone = zone_named(schedule.get("time_zone"))
            if zone is None:
                self.report.unmapped(where, f"time zone {schedule.get('time_zone')!r} is not an IANA zone: left out")
                continue
            layers = self._layers(schedule, zone, where)
            if not layers:
                self.report.unmapped(where, "no layer Siren can use: left out (policies that page it lose that target)")
                continue
            name = names.make(schedule.get("name"), schedule["id"])
            entry: dict[str, Any] = {"time_zone": zone.key, "layers": layers}
            overrides = self._overrides(schedule, zone, where)
            if overrides:
                entry["overrides"] = overrides
            schedules[name] = entry
            self.schedules[schedule["id"]] = name
            self.report.named("schedules", schedule["id"], name)
        return schedules

    def _layers(self, schedule: dict[str, Any], zone: ZoneInfo, where: str) -> list[dict[str, Any]]:
        names = Names()
        layers: list[dict[str, Any]] = []
        for layer in reversed(schedule.get("schedule_layers") or []):  # the API lists the winning layer first
            layer_where = f'{where}, layer "{layer.get("name")}"'
            if layer.get("end") and instant(layer["end"]) <= self.as_of:
                self.report.skipped(layer_where, f"ended {layer['end']}, before the import: history, not imported")
                continue
            participants = [self._user(entry.get("user") or {}, layer_where) for entry in layer.get("users") or []]
            if None in participants:
                participants = [user for user in participants if user is not None]
            if not participants:
                self.report.unmapped(layer_where, "no participant Siren knows: left out")
                continue
            turn = timedelta(seconds=int(layer["rotation_turn_length_seconds"]))
            if turn % DAY and turn % timedelta(hours=1):
                self.report.unmapped(
                    layer_where, f"turns of {turn}: Siren's rotations are whole hours or whole days: left out"
                )
                continue
            turns = Turns(turn, wall=not turn % DAY)
            start = instant(layer["start"])
            rotation, handoff = siren_rotation(
                turns, [p for p in participants if p], zone, instant(layer["rotation_virtual_start"]), start
            )
            if handoff < start and start > self.as_of:
                self.report.approximated(
                    layer_where,
                    f"starts {layer['start']}, in the middle of a turn: Siren has no layer start, so the layer"
                    f" starts at that turn's start ({rotation['handoff']} local)",
                )
            if not reads_back(handoff, zone):
                self.report.approximated(
                    layer_where,
                    f"hands off in the hour the DST change repeats: Siren reads {rotation['handoff']} as the first one",
                )
            if layer.get("end"):
                self.report.approximated(
                    layer_where,
                    f"ends {layer['end']}: Siren's layers do not end; remove this layer from siren.yaml then",
                )
            entry: dict[str, Any] = {"name": names.make(layer.get("name"), layer.get("id")), **rotation}
            restrict = self._restrictions(layer.get("restrictions") or [], layer_where)
            if restrict is not None:
                if not restrict:
                    continue
                entry["restrict"] = restrict
            layers.append(entry)
        return layers

    def _restrictions(self, restrictions: list[dict[str, Any]], where: str) -> list[dict[str, Any]] | None:
        """Siren windows; None for an unrestricted layer; [] when none could be read (the layer is left out)."""
        if not restrictions:
            return None
        windows: list[dict[str, Any]] = []
        for restriction in restrictions:
            start = time.fromisoformat(str(restriction.get("start_time_of_day", "")).removesuffix("Z"))
            length = timedelta(seconds=int(restriction.get("duration_seconds") or 0))
            kind = restriction.get("type")
            if length <= timedelta(0):
                self.report.skipped(where, f"a {kind} of no time: it restricts nothing")
            elif kind == "daily_restriction" and length <= DAY:
                windows += split_window(start, length, None)
            elif kind == "weekly_restriction" and length <= timedelta(days=7):
                windows += split_window(start, length, int(restriction["start_day_of_week"]) - 1)
            else:
                self.report.unmapped(where, f"restriction {kind} of {length}: Siren cannot say it")
        if not windows:
            self.report.unmapped(where, "none of its restrictions can be said in Siren: layer left out")
        return merge_days(windows)

    def _overrides(self, schedule: dict[str, Any], zone: ZoneInfo, where: str) -> list[dict[str, Any]]:
        overrides: list[dict[str, Any]] = []
        given = self.export.overrides.get(schedule["id"], [])
        for override in sorted(given, key=lambda o: instant(o["start"])):
            start, end = instant(override["start"]), instant(override["end"])
            if end <= self.as_of:
                continue  # over before the import
            override_where = f"{where}, override {override['start']} to {override['end']}"
            user = self._user(override.get("user") or {}, override_where)
            if user is None:
                continue
            for moment, label in ((start, "starts"), (end, "ends")):
                if not reads_back(moment, zone):
                    self.report.approximated(
                        override_where,
                        f"{label} in the hour the DST change repeats:"
                        f" Siren reads {local_text(moment, zone)} as the first one",
                    )
            overrides.append({"user": user, "start": local_text(start, zone), "end": local_text(end, zone)})
        return overrides

    def _user(self, reference: dict[str, Any], where: str) -> str | None:
        user = self.users.get(reference.get("id", ""))
        if user is None:
            self.report.unmapped(
                where, f"user {reference.get('summary') or reference.get('id')} is not among the imported users"
            )
        return user

    # -- escalation policies and services

    def _policies(self) -> dict[str, Any]:
        names = Names()
        policies: dict[str, Any] = {}
        for policy in self.export.escalation_policies:
            where = f'escalation policy "{policy.get("name")}" ({policy["id"]})'
            levels: list[dict[str, Any]] = []
            for number, rule in enumerate(policy.get("escalation_rules") or [], start=1):
                level_where = f"{where}, level {number}"
                targets = [t for target in rule.get("targets") or [] if (t := self._target(target, level_where))]
                if rule.get("escalation_rule_assignment_strategy", {}).get("type") == "round_robin":
                    self.report.approximated(level_where, "round robin: Siren pages every target of a level at once")
                if not targets:
                    self.report.unmapped(level_where, "no target Siren can page: level left out")
                    continue
                delay = max(int(rule.get("escalation_delay_in_minutes") or 1), 1)
                levels.append({"targets": targets, "delay_minutes": delay})
            if not levels:
                self.report.unmapped(where, "no level Siren can page: left out")
                continue
            name = names.make(policy.get("name"), policy["id"])
            entry: dict[str, Any] = {"levels": levels}
            if int(policy.get("num_loops") or 0):
                entry["repeat"] = int(policy["num_loops"]) + 1
            policies[name] = entry
            self.policies[policy["id"]] = name
            self.report.named("escalation_policies", policy["id"], name)
        return policies

    def _target(self, target: dict[str, Any], where: str) -> dict[str, str] | None:
        kind = str(target.get("type", "")).removesuffix("_reference")
        if kind == "schedule":
            schedule = self.schedules.get(target.get("id", ""))
            if schedule is None:
                self.report.unmapped(where, f"schedule {target.get('summary') or target.get('id')} was not imported")
            return {"schedule": schedule} if schedule else None
        if kind == "user":
            user = self._user(target, where)
            return {"user": user} if user else None
        self.report.unmapped(where, f"a {kind or 'target'} target: Siren's levels page schedules and users")
        return None

    def _services(self) -> tuple[dict[str, Any], dict[str, Any]]:
        names = Names()
        services: dict[str, Any] = {}
        chosen: Counter[str] = Counter()
        for service in self.export.services:
            policy = self.policies.get((service.get("escalation_policy") or {}).get("id", ""))
            if policy:
                chosen[policy] += 1
        default = chosen.most_common(1)[0][0] if chosen else next(iter(self.policies.values()), None)
        for service in self.export.services:
            where = f'service "{service.get("name")}" ({service["id"]})'
            name = names.make(service.get("name"), service["id"])
            entry: dict[str, Any] = {}
            if service.get("description"):
                entry["description"] = str(service["description"])
            services[name] = entry
            self.report.named("services", service["id"], name)
            policy_ref = service.get("escalation_policy") or {}
            policy = self.policies.get(policy_ref.get("id", ""))
            if policy != default:
                self.report.unmapped(
                    where,
                    f"pages through {policy_ref.get('summary') or policy_ref.get('id')}: Siren chooses the escalation"
                    f' policy by severity (severity_policies), not by service; every severity pages "{default}"',
                )
            if service.get("status") == "disabled":
                self.report.approximated(where, "disabled in PagerDuty: imported as a normal service")
            for key, meaning in (("acknowledgement_timeout", "re-triggers"), ("auto_resolve_timeout", "resolves")):
                if service.get(key):
                    self.report.unmapped(
                        where, f"{key} {service[key]} s ({meaning} by itself): Siren has no such timer"
                    )
        severity_policies = {"default": default} if default else {}
        return severity_policies, services


# ---- helpers ------------------------------------------------------------------------------------------------


def _phone(method: dict[str, Any]) -> str | None:
    digits = "".join(ch for ch in str(method.get("address", "")) if ch.isdigit())
    code = str(method.get("country_code", ""))
    return f"+{code}{digits}" if digits and code else None


def _listed(body: Any, key: str, where: Path) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise ExportError(f'{where}: expected a PagerDuty list body {{"{key}": [...]}}')
    return list(body[key])


def _all_pages(client: JsonClient, path: str, key: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        body = client.get(path, {**query, "limit": _PAGE, "offset": offset})
        page = body.get(key) or []
        items += page
        if not body.get("more") or not page:
            return items
        offset += len(page)


def _write(path: Path, body: Any) -> None:
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
