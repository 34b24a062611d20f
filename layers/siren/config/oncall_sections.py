"""The validators of the on-call sections: users, schedules, escalation policies, severity policies, roles."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from siren.config.fields import Field, first_at, or_default
from siren.config.values import (
    check_name,
    read_email,
    read_local_datetime,
    read_phone,
    read_references,
    read_time_of_day,
    read_time_zone,
)
from siren.domain.policy import (
    DEFAULT_NOTIFY,
    ROTATION_HOURS,
    SEVERITY_POLICY_KEYS,
    EscalationLevel,
    EscalationPolicy,
    NotificationMethod,
    NotificationRule,
    Override,
    Restriction,
    Roles,
    Rotation,
    Schedule,
    ScheduleLayer,
    Target,
    TargetKind,
    User,
    Weekday,
)
from siren.domain.policy.serialization import clock_text
from siren.domain.signals import SEVERITIES
from siren.domain.validation import shown

if TYPE_CHECKING:
    from siren.domain.policy import SirenConfig


SLACK_MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,}")  # a Slack member id: U (or W, Enterprise Grid) and more


def read_users(given: Field) -> dict[str, User]:
    users: dict[str, User] = {}
    slack_owners: dict[str, str] = {}  # Slack member id -> the user who has it: one Slack person is one Siren user
    for user_id, entry in given.entries():
        check_name(entry, user_id, "user")
        with entry.fields() as key:
            name = key["name"].string()
            phone = read_phone(key["phone"])
            email = read_email(key["email"])
            time_zone = read_time_zone(key["time_zone"])
            notify = _notify(key["notify"], has_phone=key["phone"].exists, has_email=key["email"].exists)
            slack = _slack_id(key["slack"], user_id, slack_owners)
        if notify is None:
            notify = tuple(rule for rule in DEFAULT_NOTIFY if _reachable(rule.method, key["phone"], key["email"]))
            if not notify and not (key["phone"].exists or key["email"].exists):
                entry.problem("give a phone or an email: without either nobody can page this user", at_key=True)
        users[user_id] = User(user_id, name or user_id, phone, email, time_zone or "UTC", notify, slack)
    return users


def _slack_id(given: Field, user_id: str, owners: dict[str, str]) -> str | None:
    slack = given.string()
    if slack is None:
        return None
    if not SLACK_MEMBER_ID.fullmatch(slack):
        given.problem(
            f"must be a Slack member id such as U024BE7LH (its profile's 'Copy member ID'; got {shown(slack)})"
        )
        return None
    if slack in owners:
        given.problem(f"{slack} is already user {owners[slack]}'s: a Slack member can act as one Siren user only")
        return None
    owners[slack] = user_id
    return slack


def _reachable(method: NotificationMethod, phone: Field, email: Field) -> bool:
    if method in (NotificationMethod.SMS, NotificationMethod.VOICE):
        return phone.exists
    return email.exists if method is NotificationMethod.EMAIL else True


def _notify(given: Field, *, has_phone: bool, has_email: bool) -> tuple[NotificationRule, ...] | None:
    if not given.exists:
        return None
    rules: list[NotificationRule] = []
    items = given.items()
    for item in items:
        with item.fields() as key:
            method = key["method"].choice(NotificationMethod)
            after = key["after_minutes"].integer(minimum=0)
        if not key["method"].exists:
            key["method"].problem("required: one of " + ", ".join(NotificationMethod))
        elif method in (NotificationMethod.SMS, NotificationMethod.VOICE) and not has_phone:
            key["method"].problem(f"{method} needs the user's phone")
        elif method is NotificationMethod.EMAIL and not has_email:
            key["method"].problem("email needs the user's email")
        if method is not None:
            rule = NotificationRule(method, or_default(after, 0))
            if rule in rules:
                item.problem(f"the same rule twice ({method} after {rule.after_minutes} minutes)")
            rules.append(rule)
    if not items and isinstance(given.value, list):
        given.problem("give at least one rule, or leave notify out for the default ones")
    return tuple(dict.fromkeys(rules))


def read_schedules(given: Field) -> dict[str, Schedule]:
    schedules: dict[str, Schedule] = {}
    for name, entry in given.entries():
        check_name(entry, name, "schedule")
        with entry.fields() as key:
            time_zone = read_time_zone(key["time_zone"], required=True)
            layers = _layers(key["layers"])
            overrides = _overrides(key["overrides"])
        schedules[name] = Schedule(name, time_zone or "UTC", layers, overrides)
    return schedules


def _layers(given: Field) -> tuple[ScheduleLayer, ...]:
    if not given.exists:
        given.problem("required: a schedule needs at least one layer")
        return ()
    first_line: dict[str, int | None] = {}
    layers = [_layer(item, first_line) for item in given.items()]
    if not layers and isinstance(given.value, list):
        given.problem("a schedule needs at least one layer")
    return tuple(layer for layer in layers if layer is not None)


def _layer(given: Field, first_line: dict[str, int | None]) -> ScheduleLayer | None:
    with given.fields() as key:
        name = key["name"].string()
        rotation = key["rotation"].choice(Rotation)
        length_hours = key["length_hours"].integer(minimum=1)
        handoff = read_local_datetime(key["handoff"])
        participants = read_references(key["participants"], "user")
        restrict = _restrictions(key["restrict"])
    for required in ("name", "rotation", "handoff", "participants"):
        if not key[required].exists:
            key[required].problem("required")
    if name is not None:
        if name in first_line:
            key["name"].problem(f"duplicate layer name {shown(name)}{first_at(first_line[name])}")
        first_line.setdefault(name, key["name"].line)
    if participants == () and key["participants"].exists:
        key["participants"].problem("give at least one participant")
    if rotation is Rotation.CUSTOM and not key["length_hours"].exists:
        key["length_hours"].problem('required with rotation "custom"')
    elif rotation is not None and rotation in ROTATION_HOURS and length_hours not in (None, ROTATION_HOURS[rotation]):
        key["length_hours"].problem(
            f"a {rotation} rotation is {ROTATION_HOURS[rotation]} hours (got {length_hours}):"
            ' use rotation "custom" for other lengths'
        )
    if name is None or rotation is None or handoff is None or not participants:
        return None
    if rotation is Rotation.CUSTOM and length_hours is None:
        return None
    return ScheduleLayer(
        name=name,
        rotation=rotation,
        handoff=handoff,
        participants=participants,
        length_hours=length_hours if rotation is Rotation.CUSTOM else None,
        restrict=restrict,
    )


def _restrictions(given: Field) -> tuple[Restriction, ...] | None:
    if given.value is None:  # absent, or written as null: no restriction
        return None
    windows = [_restriction(item) for item in given.items()]
    if not windows and isinstance(given.value, list):
        given.problem("give at least one window, or leave restrict out for a layer that is always on call")
    return tuple(window for window in windows if window is not None)


def _restriction(given: Field) -> Restriction | None:
    with given.fields() as key:
        start = read_time_of_day(key["start"])
        end = read_time_of_day(key["end"])
        days = _days(key["days"])
    for required in ("start", "end"):
        if not key[required].exists:
            key[required].problem('required: a time of day such as "09:00"')
    if start is None or end is None:
        return None
    return Restriction(start, end, or_default(days, tuple(Weekday)))


def _days(given: Field) -> tuple[Weekday, ...] | None:
    if not given.exists:
        return None
    days = [item.choice(Weekday) for item in given.items()]
    if not days and isinstance(given.value, list):
        given.problem("give at least one day, or leave days out for every day")
    chosen = {day for day in days if day is not None}
    return tuple(day for day in Weekday if day in chosen)  # in week order


def _overrides(given: Field) -> tuple[Override, ...]:
    overrides: list[Override] = []
    for item in given.items():
        with item.fields() as key:
            user = key["user"].string()
            start = read_local_datetime(key["start"])
            end = read_local_datetime(key["end"])
        for required in ("user", "start", "end"):
            if not key[required].exists:
                key[required].problem("required")
        if user is not None:
            key["user"].refers_to("user", user)
        if start is not None and end is not None and end <= start:
            key["end"].problem(f"must be after start ({clock_text(start)})")
        elif user is not None and start is not None and end is not None:
            overrides.append(Override(user, start, end))
    return tuple(overrides)


def read_escalation_policies(given: Field) -> dict[str, EscalationPolicy]:
    policies: dict[str, EscalationPolicy] = {}
    for name, entry in given.entries():
        check_name(entry, name, "escalation policy")
        with entry.fields() as key:
            repeat = key["repeat"].integer(minimum=1)
            levels = tuple(level for level in map(_level, key["levels"].items()) if level is not None)
        if not key["levels"].exists:
            key["levels"].problem("required: a policy needs at least one level")
        elif not levels and isinstance(key["levels"].value, list) and not key["levels"].value:
            key["levels"].problem("a policy needs at least one level")
        policies[name] = EscalationPolicy(name, levels, or_default(repeat, 1))
    return policies


def _level(given: Field) -> EscalationLevel | None:
    with given.fields() as key:
        targets = [_target(item) for item in key["targets"].items()]
        delay = key["delay_minutes"].integer(minimum=1)
    if not key["targets"].exists:
        key["targets"].problem("required: the schedules and users this level pages")
    elif not targets and isinstance(key["targets"].value, list):
        key["targets"].problem("a level needs at least one target")
    if not key["delay_minutes"].exists:
        key["delay_minutes"].problem("required: the minutes to wait for an acknowledgement before the next level")
    chosen = tuple(dict.fromkeys(target for target in targets if target is not None))
    return None if delay is None or not chosen else EscalationLevel(chosen, delay)


def _target(given: Field) -> Target | None:
    with given.fields() as key:
        schedule = key["schedule"].string()
        user = key["user"].string()
    if key["schedule"].exists and key["user"].exists:
        given.problem('a target is either "schedule" or "user", not both')
    elif not key["schedule"].exists and not key["user"].exists and isinstance(given.value, dict | None):
        given.problem('a target needs "schedule" or "user"')
    elif schedule is not None:
        key["schedule"].refers_to("schedule", schedule)
        return Target(TargetKind.SCHEDULE, schedule)
    elif user is not None:
        key["user"].refers_to("user", user)
        return Target(TargetKind.USER, user)
    return None


def read_severity_policies(given: Field) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for severity, entry in given.entries():
        policy = entry.string()
        if severity not in SEVERITY_POLICY_KEYS:
            same_but_case = [key for key in SEVERITY_POLICY_KEYS if key.lower() == severity.lower()]
            hint = (
                f'did you mean "{same_but_case[0]}"?'
                if same_but_case
                else "known keys: " + ", ".join(SEVERITY_POLICY_KEYS)
            )
            entry.problem(f"unknown key ({hint})", at_key=True)
        elif policy is not None:
            entry.refers_to("escalation policy", policy)
            chosen[severity] = policy
    return chosen


def check_every_severity_has_a_policy(config: SirenConfig, given: Field) -> None:
    """With escalation policies (or a severity mapped to one), every severity must page through one."""
    written = given.value if isinstance(given.value, dict) else {}
    if not config.escalation_policies and not written:
        return  # no escalation configured: nothing pages yet
    if not given.exists:
        given.problem('required with escalation_policies: the policy for each severity, or a "default"')
        return
    missing = [severity for severity in SEVERITIES if severity not in written]
    if missing and "default" not in written and isinstance(given.value, dict | None):
        given.problem(
            f"no escalation policy for {', '.join(missing)}: map each severity, or give a default", at_key=True
        )


def read_roles(given: Field) -> Roles | None:
    if given.value is None:  # absent, or written as null: no roles are paged
        return None
    with given.fields() as key:
        severities = [item.severity() for item in key["severities"].items()]
        commander = _target(key["commander"]) if key["commander"].exists else None
        comms = _target(key["comms"]) if key["comms"].exists else None
    if not isinstance(given.value, dict):
        return None
    if not key["severities"].exists:
        key["severities"].problem("required: the severities whose incidents page these roles")
    elif not severities and isinstance(key["severities"].value, list):
        key["severities"].problem("give at least one severity")
    if not key["commander"].exists and not key["comms"].exists:
        given.problem('give a "commander", a "comms" or both')
    chosen = {severity for severity in severities if severity is not None}
    return Roles(tuple(severity for severity in SEVERITIES if severity in chosen), commander, comms)
