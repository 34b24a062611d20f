"""Siren's declarative configuration: ``siren.yaml`` at the repo root, checked in and deployed with the stack.

Two ways in, one schema. People write YAML, and every problem is reported as ``file:line: field: message``,
all of them at once, so one edit fixes a file. Lambda gets the same configuration as normalized JSON
(:meth:`SirenConfig.to_json`), read back by :func:`config_from_json` through the very same validators, so the
two readings cannot drift apart; that path never imports PyYAML.

Adding a section (status page components, report settings...) takes a frozen dataclass with a ``to_json`` method,
a validator ``def _section(field: _Field) -> Section`` written with the :class:`_Field` helpers, and one line
in :func:`_config`. The helpers record wrong types, bad values and unknown keys as problems and return None,
so a validator falls back to a default and carries on looking for more problems. Validation is plain code on
purpose: a schema library such as pydantic costs about 300 ms of Lambda cold start.
"""

from __future__ import annotations

import contextlib
import difflib
import enum
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from siren.domain.signals import SEVERITIES, Source

if TYPE_CHECKING:
    import yaml


class OnRecovery(enum.StrEnum):
    """What a resolved signal does to its open incident."""

    RESOLVE = "resolve"  # the incident resolves by itself
    RECOVER = "recover"  # the incident is marked recovered; a person resolves it


class InsufficientData(enum.StrEnum):
    """What CloudWatch's INSUFFICIENT_DATA state counts as."""

    IGNORE = "ignore"
    ALERT = "alert"  # as firing
    RECOVER = "recover"  # as resolved


class BuiltinRule(enum.StrEnum):
    """Severity rules that read what the sender said, named by ``use:`` in ``severity.rules``."""

    EXPLICIT = "explicit"  # SeverityHints.explicit
    DESCRIPTION_TAG = "description_tag"  # a "[SEV2]" tag in the description or the title
    SEVERITY_LABEL = "severity_label"  # the "severity" label through severity.label_map


# Rule names a severity decision records when no configured rule made it ("declared": `siren declare`).
RESERVED_RULE_NAMES: Final = frozenset({"service-default", "default", "declared"})
DEFAULT_LABEL_MAP: Final[Mapping[str, str]] = {
    "critical": "SEV1",
    "high": "SEV2",
    "error": "SEV2",
    "warning": "SEV3",
    "info": "SEV4",
}
_SERVICE_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]*")


# ---- the configuration ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flapping:
    """This many firing<->resolved transitions of one dedup key within the window: flapping, no new page."""

    transitions: int = 4
    window_minutes: int = 30

    def to_json(self) -> dict[str, Any]:
        return {"transitions": self.transitions, "window_minutes": self.window_minutes}


@dataclass(frozen=True, slots=True)
class FlappingOverride:
    """A service's flapping settings; None inherits ``defaults.flapping``."""

    transitions: int | None = None
    window_minutes: int | None = None

    def to_json(self) -> dict[str, Any]:
        return _without_none({"transitions": self.transitions, "window_minutes": self.window_minutes})


@dataclass(frozen=True, slots=True)
class Defaults:
    severity: str = "SEV3"
    on_recovery: OnRecovery = OnRecovery.RESOLVE
    insufficient_data: InsufficientData = InsufficientData.IGNORE
    flapping: Flapping = Flapping()

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "on_recovery": self.on_recovery.value,
            "insufficient_data": self.insufficient_data.value,
            "flapping": self.flapping.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Service:
    """A service's settings; None inherits from ``defaults``."""

    name: str
    description: str = ""
    alarm_patterns: tuple[str, ...] = ()  # fnmatch globs on CloudWatch alarm names, case-sensitive
    default_severity: str | None = None
    on_recovery: OnRecovery | None = None
    insufficient_data: InsufficientData | None = None
    flapping: FlappingOverride = FlappingOverride()

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "description": self.description,
                "alarm_patterns": list(self.alarm_patterns),
                "default_severity": self.default_severity,
                "on_recovery": _value_of(self.on_recovery),
                "insufficient_data": _value_of(self.insufficient_data),
                "flapping": self.flapping.to_json() or None,
            }
        )


@dataclass(frozen=True, slots=True)
class Match:
    """The ``when`` of a rule: every field given must match (AND)."""

    alarm_name: str | None = None  # fnmatch glob, case-sensitive
    namespace: str | None = None
    metric: str | None = None
    service: str | None = None  # the resolved service
    source: Source | None = None
    labels: Mapping[str, str] = field(default_factory=dict)  # each label must be equal

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "alarm_name": self.alarm_name,
                "namespace": self.namespace,
                "metric": self.metric,
                "service": self.service,
                "source": _value_of(self.source),
                "labels": dict(self.labels) or None,
            }
        )


@dataclass(frozen=True, slots=True)
class WhenRule:
    """Give ``severity`` to signals that match ``when``."""

    name: str
    when: Match
    severity: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "when": self.when.to_json(), "severity": self.severity}


@dataclass(frozen=True, slots=True)
class UseRule:
    """Take the severity the sender stated, one of the ways :class:`BuiltinRule` names."""

    name: str
    use: BuiltinRule

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "use": self.use.value}


SeverityRule = WhenRule | UseRule

DEFAULT_RULES: Final[tuple[SeverityRule, ...]] = (
    UseRule("explicit", BuiltinRule.EXPLICIT),
    UseRule("description_tag", BuiltinRule.DESCRIPTION_TAG),
    UseRule("severity_label", BuiltinRule.SEVERITY_LABEL),
)


@dataclass(frozen=True, slots=True)
class SeverityConfig:
    # Keys are lowercase: a "severity" label's value is looked up lowercased.
    label_map: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LABEL_MAP))
    rules: tuple[SeverityRule, ...] = DEFAULT_RULES  # in order, the first match wins

    def to_json(self) -> dict[str, Any]:
        return {"label_map": dict(self.label_map), "rules": [rule.to_json() for rule in self.rules]}


# ---- on call: people, schedules, escalation ---------------------------------------------------------------


class NotificationMethod(enum.StrEnum):
    SMS = "sms"
    VOICE = "voice"
    EMAIL = "email"
    CHAT = "chat"


class Rotation(enum.StrEnum):
    DAILY = "daily"  # hands off at the handoff's local time every day (a shift is 23 or 25 hours across DST)
    WEEKLY = "weekly"  # the same, every 7 days
    CUSTOM = "custom"  # every length_hours hours of real elapsed time


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """Monday 0 to Sunday 6, as :meth:`datetime.date.weekday`."""
        return list(Weekday).index(self)


class TargetKind(enum.StrEnum):
    SCHEDULE = "schedule"  # whoever is on call on the schedule when the level pages
    USER = "user"


ROTATION_HOURS: Final[Mapping[Rotation, int]] = {Rotation.DAILY: 24, Rotation.WEEKLY: 168}
SEVERITY_POLICY_KEYS: Final = ("default", *SEVERITIES)


@dataclass(frozen=True, slots=True)
class NotificationRule:
    """Notify by ``method`` this many minutes after the page started, unless it was acknowledged by then."""

    method: NotificationMethod
    after_minutes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method.value, "after_minutes": self.after_minutes}


DEFAULT_NOTIFY: Final[tuple[NotificationRule, ...]] = (
    NotificationRule(NotificationMethod.SMS, 0),
    NotificationRule(NotificationMethod.EMAIL, 0),
    NotificationRule(NotificationMethod.VOICE, 2),
)


@dataclass(frozen=True, slots=True)
class User:
    """A person who can be paged; ``id`` is the key under ``users`` that schedules and policies refer to."""

    id: str
    name: str  # as people know them; the id when not given
    phone: str | None = None  # E.164
    email: str | None = None
    time_zone: str = "UTC"  # IANA; where the person is, for showing them times
    # Without `notify`: DEFAULT_NOTIFY, less the methods the user has no phone or email for.
    notify: tuple[NotificationRule, ...] = DEFAULT_NOTIFY

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "name": self.name,
                "phone": self.phone,
                "email": self.email,
                "time_zone": self.time_zone,
                "notify": [rule.to_json() for rule in self.notify],
            }
        )


@dataclass(frozen=True, slots=True)
class Restriction:
    """A window of local time, starting on each of ``days``, during which a restricted layer has someone.

    A window whose end is not after its start ends on the next day ("22:00" to "06:00"); start == end is 24 hours.
    """

    start: time
    end: time
    days: tuple[Weekday, ...] = tuple(Weekday)

    def to_json(self) -> dict[str, Any]:
        return {"start": _time_text(self.start), "end": _time_text(self.end), "days": [day.value for day in self.days]}


@dataclass(frozen=True, slots=True)
class ScheduleLayer:
    """A rotation: ``participants`` take turns, one shift each, from ``handoff`` on."""

    name: str
    rotation: Rotation
    handoff: datetime  # naive: a wall-clock time in the schedule's time zone, the start of the first shift
    participants: tuple[str, ...]  # user ids, in turn order
    length_hours: int | None = None  # custom rotations only
    restrict: tuple[Restriction, ...] | None = None  # None: the layer covers all the time

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "name": self.name,
                "rotation": self.rotation.value,
                "length_hours": self.length_hours,
                "handoff": _local_text(self.handoff),
                "participants": list(self.participants),
                "restrict": None if self.restrict is None else [window.to_json() for window in self.restrict],
            }
        )


@dataclass(frozen=True, slots=True)
class Override:
    """``user`` replaces whoever is on call from ``start`` (inclusive) to ``end`` (exclusive)."""

    user: str
    start: datetime  # naive, local to the schedule's time zone
    end: datetime

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "start": _local_text(self.start), "end": _local_text(self.end)}


@dataclass(frozen=True, slots=True)
class Schedule:
    """Layers in order, later ones over earlier ones where they have someone; overrides over every layer."""

    name: str
    time_zone: str  # IANA; handoffs, restrictions and overrides are wall-clock times in this zone
    layers: tuple[ScheduleLayer, ...] = ()
    overrides: tuple[Override, ...] = ()  # a later override wins over an earlier one where they overlap

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def to_json(self) -> dict[str, Any]:
        return {
            "time_zone": self.time_zone,
            "layers": [layer.to_json() for layer in self.layers],
            "overrides": [override.to_json() for override in self.overrides],
        }


@dataclass(frozen=True, slots=True)
class Target:
    """Who a level pages: a schedule's on-call user at the time of the page, or a user."""

    kind: TargetKind
    name: str

    def to_json(self) -> dict[str, Any]:
        return {self.kind.value: self.name}


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    """Page every target, then wait ``delay_minutes`` for an acknowledgement before the next level."""

    targets: tuple[Target, ...]
    delay_minutes: int

    def to_json(self) -> dict[str, Any]:
        return {"targets": [target.to_json() for target in self.targets], "delay_minutes": self.delay_minutes}


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    name: str
    levels: tuple[EscalationLevel, ...]
    repeat: int = 1  # how many times the levels run in all

    def to_json(self) -> dict[str, Any]:
        return {"repeat": self.repeat, "levels": [level.to_json() for level in self.levels]}


@dataclass(frozen=True, slots=True)
class Roles:
    """Incident roles paged in parallel with the escalation, for incidents of ``severities``."""

    severities: tuple[str, ...]
    commander: Target | None = None
    comms: Target | None = None

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "severities": list(self.severities),
                "commander": None if self.commander is None else self.commander.to_json(),
                "comms": None if self.comms is None else self.comms.to_json(),
            }
        )


_DEFAULT_IMPACT: Final = {
    "SEV1": "major_outage",
    "SEV2": "partial_outage",
    "SEV3": "degraded_performance",
    "SEV4": "operational",
    "SEV5": "operational",
}
COMPONENT_STATUSES: Final = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)
INCIDENT_COMPONENT_STATUSES: Final = COMPONENT_STATUSES[:4]


@dataclass(frozen=True, slots=True)
class StatusComponent:
    name: str
    description: str = ""
    group: str | None = None
    services: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {"name": self.name, "description": self.description, "group": self.group, "services": list(self.services)}
        )


@dataclass(frozen=True, slots=True)
class StatusPageConfig:
    """The customer status page: its name, components (in display order) and what each severity does to them."""

    name: str = "Status"
    components: Mapping[str, StatusComponent] = field(default_factory=dict)
    # severity -> the status an open incident of that severity gives the components of its service
    impact: Mapping[str, str] = field(default_factory=lambda: dict(_DEFAULT_IMPACT))

    def components_of_service(self, service: str) -> tuple[str, ...]:
        return tuple(cid for cid, component in self.components.items() if service in component.services)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "components": [{"id": cid, **component.to_json()} for cid, component in self.components.items()],
            "impact": dict(self.impact),
        }


@dataclass(frozen=True, slots=True)
class ReportsConfig:
    """Leadership reports: who gets them, when (EventBridge Scheduler cron in ``time_zone``), what is off-hours."""

    recipients: tuple[str, ...] = ()
    time_zone: str = "UTC"
    weekly: str | None = "cron(0 9 ? * MON *)"  # None: no weekly report
    monthly: str | None = "cron(0 9 1 * ? *)"  # None: no monthly report
    off_hours_start: time = time(18, 0)
    off_hours_end: time = time(8, 0)
    weekends_off: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def to_json(self) -> dict[str, Any]:
        return {
            "recipients": list(self.recipients),
            "time_zone": self.time_zone,
            "weekly": self.weekly or "",
            "monthly": self.monthly or "",
            "off_hours": {
                "start": _time_text(self.off_hours_start),
                "end": _time_text(self.off_hours_end),
                "weekends": self.weekends_off,
            },
        }


@dataclass(frozen=True, slots=True)
class Paging:
    """How pages are sent, beyond who gets them."""

    # Put the signed acknowledgement link in page SMS too (it is always in emails). Off by default: carriers in
    # several countries filter texts with links, and a registered sender's templates may not allow them.
    sms_links: bool = False
    # Post incidents of these severities to the chat webhook (its URL is the ChatWebhook secret's "url").
    chat_severities: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"sms_links": self.sms_links, "chat_severities": list(self.chat_severities)}


@dataclass(frozen=True, slots=True)
class Operations:
    """Who hears about Siren itself: its own health alarms go to these contacts through an SNS topic of their own,
    never through Siren's incident pipeline (that may be what is broken)."""

    phones: tuple[str, ...] = ()  # E.164: SMS
    emails: tuple[str, ...] = ()
    heartbeat_minutes: int = 5  # how often Siren proves its own path works (the canary), and so how late is late

    def to_json(self) -> dict[str, Any]:
        return {"contacts": [*self.phones, *self.emails], "heartbeat_minutes": self.heartbeat_minutes}


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A job that pings Siren (``POST <WebhookUrl>heartbeat/<name>``) at least every ``interval_minutes``. With no
    ping for ``grace_minutes`` more, an incident opens on ``service`` (dedup key ``heartbeat:<name>``); the next
    ping resolves it, or marks it recovered, as the service's ``on_recovery`` says."""

    name: str  # part of the ping URL: lowercase letters, digits, "-" and "_"
    service: str
    interval_minutes: int
    grace_minutes: int = 0
    severity: str | None = None  # None: the severity rules, then the service's default, decide

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.interval_minutes)

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.grace_minutes)

    @property
    def dedup_key(self) -> str:
        return f"heartbeat:{self.name}"

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "name": self.name,
                "service": self.service,
                "interval_minutes": self.interval_minutes,
                "grace_minutes": self.grace_minutes,
                "severity": self.severity,
            }
        )


@dataclass(frozen=True, slots=True)
class SirenConfig:
    defaults: Defaults = field(default_factory=Defaults)
    services: Mapping[str, Service] = field(default_factory=dict)  # in file order
    severity: SeverityConfig = field(default_factory=SeverityConfig)
    users: Mapping[str, User] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    escalation_policies: Mapping[str, EscalationPolicy] = field(default_factory=dict)
    # "default" and any of SEV1..SEV5 -> an escalation policy's name, as written.
    severity_policies: Mapping[str, str] = field(default_factory=dict)
    roles: Roles | None = None
    paging: Paging = field(default_factory=Paging)
    status_page: StatusPageConfig = field(default_factory=StatusPageConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    operations: Operations = field(default_factory=Operations)
    heartbeats: Mapping[str, Heartbeat] = field(default_factory=dict)  # by name, in file order

    def policy_for_severity(self, severity: str) -> EscalationPolicy:
        """The escalation policy that pages for incidents of ``severity`` (its own, else the default)."""
        if severity not in SEVERITIES:
            raise ValueError(f"not a severity: {severity!r} (one of {', '.join(SEVERITIES)})")
        name = self.severity_policies.get(severity) or self.severity_policies.get("default")
        if name is None:
            raise LookupError(f"no escalation policy for {severity}: the configuration has no severity_policies")
        return self.escalation_policies[name]

    def to_json(self) -> dict[str, Any]:
        """The normalized configuration (every default filled in), as shipped to Lambda.

        It is the YAML schema but for one thing: ``services`` is a list of objects with a ``name``, because the
        first service whose alarm patterns match wins, in file order, and the order of a JSON object's keys
        does not survive ``json.dumps(sort_keys=True)`` or ``jq -S``. (Nothing else depends on key order.)
        """
        return {
            "defaults": self.defaults.to_json(),
            "services": [{"name": name, **service.to_json()} for name, service in self.services.items()],
            "severity": self.severity.to_json(),
            "users": {user_id: user.to_json() for user_id, user in self.users.items()},
            "schedules": {name: schedule.to_json() for name, schedule in self.schedules.items()},
            "escalation_policies": {name: policy.to_json() for name, policy in self.escalation_policies.items()},
            "severity_policies": dict(self.severity_policies),
            "roles": None if self.roles is None else self.roles.to_json(),
            "paging": self.paging.to_json(),
            "status_page": self.status_page.to_json(),
            "reports": self.reports.to_json(),
            "operations": self.operations.to_json(),
            "heartbeats": [heartbeat.to_json() for heartbeat in self.heartbeats.values()],
        }


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _value_of(option: enum.StrEnum | None) -> str | None:
    return None if option is None else option.value


def _local_text(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes" if not (moment.second or moment.microsecond) else "auto")


def _time_text(moment: time) -> str:
    return moment.isoformat(timespec="minutes" if not (moment.second or moment.microsecond) else "auto")


# ---- problems ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int | None  # 1-based; None when the configuration came as JSON
    field: str  # dotted path, e.g. "services.checkout.on_recovery"; "" for the file as a whole
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ConfigError(ValueError):
    """The configuration is invalid. ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


# ---- the entry points -------------------------------------------------------------------------------------


def load_config(path: Path) -> SirenConfig:
    """Read and validate a YAML configuration file; problems name the path as given."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError([ConfigProblem(str(path), line, "", "the file is not UTF-8 text")]) from error
    return load_config_text(text, str(path))


def load_config_text(text: str, filename: str) -> SirenConfig:
    """Validate YAML text; ``filename`` is what problems name. Empty text is the all-defaults configuration."""
    check = _Check(filename)
    root = _parse_yaml(text, check)
    return _validated(_Field(check, "", root, line=1), check)


def config_from_json(data: Mapping[str, Any], source: str = "siren.json") -> SirenConfig:
    """Read the normalized JSON of :meth:`SirenConfig.to_json` (or any JSON of the same schema) back."""
    check = _Check(source, normalized=True)
    return _validated(_Field(check, "", _plain_node(data), line=None), check)


def _validated(root: _Field, check: _Check) -> SirenConfig:
    config = _config(root)
    if check.problems:
        raise ConfigError(check.sorted())
    return config


# ---- the validators: one per section ----------------------------------------------------------------------


def _config(root: _Field) -> SirenConfig:
    with root.fields() as section:
        config = SirenConfig(
            defaults=_defaults(section["defaults"]),
            services=_services(section["services"]),
            severity=_severity(section["severity"]),
            users=_users(section["users"]),
            schedules=_schedules(section["schedules"]),
            escalation_policies=_escalation_policies(section["escalation_policies"]),
            severity_policies=_severity_policies(section["severity_policies"]),
            roles=_roles(section["roles"]),
            paging=_paging(section["paging"]),
            status_page=_status_page(section["status_page"]),
            reports=_reports(section["reports"]),
            operations=_operations(section["operations"]),
            heartbeats=_heartbeats(section["heartbeats"]),
        )
        _check_every_severity_has_a_policy(config, section["severity_policies"])
    _check_references(root, config)
    return config


def _defaults(given: _Field) -> Defaults:
    fallback = Defaults()
    with given.fields() as key:
        severity = key["severity"].severity()
        on_recovery = key["on_recovery"].choice(OnRecovery)
        insufficient_data = key["insufficient_data"].choice(InsufficientData)
        flapping = _flapping(key["flapping"])
    return Defaults(
        severity=_or(severity, fallback.severity),
        on_recovery=_or(on_recovery, fallback.on_recovery),
        insufficient_data=_or(insufficient_data, fallback.insufficient_data),
        flapping=Flapping(
            transitions=_or(flapping.transitions, fallback.flapping.transitions),
            window_minutes=_or(flapping.window_minutes, fallback.flapping.window_minutes),
        ),
    )


def _flapping(given: _Field) -> FlappingOverride:
    with given.fields() as key:
        return FlappingOverride(
            transitions=key["transitions"].integer(minimum=1),
            window_minutes=key["window_minutes"].integer(minimum=1),
        )


def _services(given: _Field) -> dict[str, Service]:
    services: dict[str, Service] = {}
    if given.normalized and isinstance(given.value, list):  # see SirenConfig.to_json
        for entry in given.items():
            with entry.fields() as key:
                name = key["name"].service_name()
                if not key["name"].exists:
                    entry.problem("every service needs a name")
                elif name in services:
                    key["name"].problem(f"duplicate service {_shown(name)}")
                services[name or ""] = _service(name or "", key)
        return services
    for name, entry in given.entries():
        if not _SERVICE_NAME.fullmatch(name):
            entry.problem(_SERVICE_NAME_RULE + f" (got {_shown(name)})", at_key=True)
        with entry.fields() as key:
            services[name] = _service(name, key)
    return services


def _service(name: str, key: _Fields) -> Service:
    return Service(
        name=name,
        description=_or(key["description"].string(allow_empty=True), ""),
        alarm_patterns=_or(key["alarm_patterns"].strings(), ()),
        default_severity=key["default_severity"].severity(),
        on_recovery=key["on_recovery"].choice(OnRecovery),
        insufficient_data=key["insufficient_data"].choice(InsufficientData),
        flapping=_flapping(key["flapping"]),
    )


def _severity(given: _Field) -> SeverityConfig:
    with given.fields() as key:
        label_map = _label_map(key["label_map"])
        rules = _rules(key["rules"])
    return SeverityConfig(label_map=_or(label_map, dict(DEFAULT_LABEL_MAP)), rules=_or(rules, DEFAULT_RULES))


def _label_map(given: _Field) -> dict[str, str] | None:
    if not given.exists:
        return None
    label_map: dict[str, str] = {}
    written: dict[str, str] = {}  # lowercased -> as written
    for value, entry in given.entries():
        label = value.strip().lower()
        severity = entry.severity()
        if not label:
            entry.problem("label values must not be empty", at_key=True)
        elif label in written:
            entry.problem(
                f"the same label value as {_shown(written[label])}: they are matched in any case", at_key=True
            )
        else:
            written[label] = value
            if severity is not None:
                label_map[label] = severity
    return label_map


def _rules(given: _Field) -> tuple[SeverityRule, ...] | None:
    if not given.exists:
        return None
    first_line: dict[str, int | None] = {}
    rules = [_rule(item, first_line) for item in given.items()]
    return tuple(rule for rule in rules if rule is not None)


def _rule(given: _Field, first_line: dict[str, int | None]) -> SeverityRule | None:
    with given.fields() as key:
        name_field, when_field, use_field, severity_field = key["name"], key["when"], key["use"], key["severity"]
        name = name_field.string()
        when = _match(when_field) if when_field.exists else None
        use = use_field.choice(BuiltinRule)
        severity = severity_field.severity()
    if not name_field.exists:
        name_field.problem("every rule needs a name")
    elif name in RESERVED_RULE_NAMES:
        name_field.problem(f"{_shown(name)} is reserved for decisions that no rule made")
    elif name in first_line:
        name_field.problem(f"duplicate rule name {_shown(name)}{_first_at(first_line[name])}")
    elif name is not None:
        first_line[name] = name_field.line
    if when_field.exists and use_field.exists:
        given.problem('a rule has either "when" (with "severity") or "use", not both')
    elif when_field.exists and not severity_field.exists:
        severity_field.problem('required with "when"')
    elif use_field.exists and severity_field.exists:
        severity_field.problem('not allowed with "use": the severity comes from the signal')
    elif not when_field.exists and not use_field.exists:
        given.problem('a rule needs either "when" (with "severity") or "use"')
    # Past this point a None means a problem was recorded above; the configuration will not be used.
    if name is None:
        return None
    if when is not None and use is None and severity is not None:
        return WhenRule(name, when, severity)
    if use is not None and when is None:
        return UseRule(name, use)
    return None


def _match(given: _Field) -> Match:
    with given.fields() as key:
        match = Match(
            alarm_name=key["alarm_name"].string(),
            namespace=key["namespace"].string(),
            metric=key["metric"].string(),
            service=key["service"].service_name(),
            source=key["source"].choice(Source),
            labels=_or(key["labels"].string_map(), {}),
        )
    # Empty: nothing written in it, or only `labels: {}`. (A typo in a key is reported as such, and only so.)
    written = {key: node.value for key, node in given.value.items()} if isinstance(given.value, dict) else {}
    if given.value is None or written in ({}, {"labels": {}}):
        given.problem("give at least one of alarm_name, namespace, metric, service, source, labels")
    return match


# ---- the validators of the on-call sections ----------------------------------------------------------------

_REFERENCE_SECTIONS: Final = {
    "user": "users",
    "schedule": "schedules",
    "escalation policy": "escalation_policies",
    "service": "services",
}
_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")
_EMAIL: Final = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_MINUTES_A_DAY: Final = 24 * 60


def _users(given: _Field) -> dict[str, User]:
    users: dict[str, User] = {}
    for user_id, entry in given.entries():
        _check_name(entry, user_id, "user")
        with entry.fields() as key:
            name = key["name"].string()
            phone = _phone(key["phone"])
            email = _email(key["email"])
            time_zone = _time_zone(key["time_zone"])
            notify = _notify(key["notify"], has_phone=key["phone"].exists, has_email=key["email"].exists)
        if notify is None:
            notify = tuple(rule for rule in DEFAULT_NOTIFY if _reachable(rule.method, key["phone"], key["email"]))
            if not notify and not (key["phone"].exists or key["email"].exists):
                entry.problem("give a phone or an email: without either nobody can page this user", at_key=True)
        users[user_id] = User(user_id, name or user_id, phone, email, time_zone or "UTC", notify)
    return users


def _reachable(method: NotificationMethod, phone: _Field, email: _Field) -> bool:
    if method in (NotificationMethod.SMS, NotificationMethod.VOICE):
        return phone.exists
    return email.exists if method is NotificationMethod.EMAIL else True


def _notify(given: _Field, *, has_phone: bool, has_email: bool) -> tuple[NotificationRule, ...] | None:
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
            rule = NotificationRule(method, _or(after, 0))
            if rule in rules:
                item.problem(f"the same rule twice ({method} after {rule.after_minutes} minutes)")
            rules.append(rule)
    if not items and isinstance(given.value, list):
        given.problem("give at least one rule, or leave notify out for the default ones")
    return tuple(dict.fromkeys(rules))


def _schedules(given: _Field) -> dict[str, Schedule]:
    schedules: dict[str, Schedule] = {}
    for name, entry in given.entries():
        _check_name(entry, name, "schedule")
        with entry.fields() as key:
            time_zone = _time_zone(key["time_zone"], required=True)
            layers = _layers(key["layers"])
            overrides = _overrides(key["overrides"])
        schedules[name] = Schedule(name, time_zone or "UTC", layers, overrides)
    return schedules


def _layers(given: _Field) -> tuple[ScheduleLayer, ...]:
    if not given.exists:
        given.problem("required: a schedule needs at least one layer")
        return ()
    first_line: dict[str, int | None] = {}
    layers = [_layer(item, first_line) for item in given.items()]
    if not layers and isinstance(given.value, list):
        given.problem("a schedule needs at least one layer")
    return tuple(layer for layer in layers if layer is not None)


def _layer(given: _Field, first_line: dict[str, int | None]) -> ScheduleLayer | None:
    with given.fields() as key:
        name = key["name"].string()
        rotation = key["rotation"].choice(Rotation)
        length_hours = key["length_hours"].integer(minimum=1)
        handoff = _local_datetime(key["handoff"])
        participants = _references(key["participants"], "user")
        restrict = _restrictions(key["restrict"])
    for required in ("name", "rotation", "handoff", "participants"):
        if not key[required].exists:
            key[required].problem("required")
    if name is not None:
        if name in first_line:
            key["name"].problem(f"duplicate layer name {_shown(name)}{_first_at(first_line[name])}")
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


def _restrictions(given: _Field) -> tuple[Restriction, ...] | None:
    if given.value is None:  # absent, or written as null: no restriction
        return None
    windows = [_restriction(item) for item in given.items()]
    if not windows and isinstance(given.value, list):
        given.problem("give at least one window, or leave restrict out for a layer that is always on call")
    return tuple(window for window in windows if window is not None)


def _restriction(given: _Field) -> Restriction | None:
    with given.fields() as key:
        start = _time_of_day(key["start"])
        end = _time_of_day(key["end"])
        days = _days(key["days"])
    for required in ("start", "end"):
        if not key[required].exists:
            key[required].problem('required: a time of day such as "09:00"')
    if start is None or end is None:
        return None
    return Restriction(start, end, _or(days, tuple(Weekday)))


def _days(given: _Field) -> tuple[Weekday, ...] | None:
    if not given.exists:
        return None
    days = [item.choice(Weekday) for item in given.items()]
    if not days and isinstance(given.value, list):
        given.problem("give at least one day, or leave days out for every day")
    chosen = {day for day in days if day is not None}
    return tuple(day for day in Weekday if day in chosen)  # in week order


def _overrides(given: _Field) -> tuple[Override, ...]:
    overrides: list[Override] = []
    for item in given.items():
        with item.fields() as key:
            user = key["user"].string()
            start = _local_datetime(key["start"])
            end = _local_datetime(key["end"])
        for required in ("user", "start", "end"):
            if not key[required].exists:
                key[required].problem("required")
        if user is not None:
            key["user"].refers_to("user", user)
        if start is not None and end is not None and end <= start:
            key["end"].problem(f"must be after start ({_local_text(start)})")
        elif user is not None and start is not None and end is not None:
            overrides.append(Override(user, start, end))
    return tuple(overrides)


def _escalation_policies(given: _Field) -> dict[str, EscalationPolicy]:
    policies: dict[str, EscalationPolicy] = {}
    for name, entry in given.entries():
        _check_name(entry, name, "escalation policy")
        with entry.fields() as key:
            repeat = key["repeat"].integer(minimum=1)
            levels = tuple(level for level in map(_level, key["levels"].items()) if level is not None)
        if not key["levels"].exists:
            key["levels"].problem("required: a policy needs at least one level")
        elif not levels and isinstance(key["levels"].value, list) and not key["levels"].value:
            key["levels"].problem("a policy needs at least one level")
        policies[name] = EscalationPolicy(name, levels, _or(repeat, 1))
    return policies


def _level(given: _Field) -> EscalationLevel | None:
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


def _target(given: _Field) -> Target | None:
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


def _severity_policies(given: _Field) -> dict[str, str]:
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


def _check_every_severity_has_a_policy(config: SirenConfig, given: _Field) -> None:
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


def _roles(given: _Field) -> Roles | None:
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


def _paging(given: _Field) -> Paging:
    with given.fields() as key:
        sms_links = key["sms_links"].boolean()
        chosen = {item.severity() for item in key["chat_severities"].items()}
    return Paging(
        sms_links=bool(sms_links),
        chat_severities=tuple(severity for severity in SEVERITIES if severity in chosen),
    )


_SCHEDULE_CRON: Final = re.compile(r"cron\((\S+ ){5}\S+\)")


def _reports(given: _Field) -> ReportsConfig:
    fallback = ReportsConfig()
    with given.fields() as key:
        recipients = []
        for item in key["recipients"].items():
            address = item.string()
            if address is not None and not _EMAIL.fullmatch(address):
                item.problem(f"must be an email address (got {_shown(address)})")
            elif address is not None:
                recipients.append(address)
        zone = key["time_zone"].string()
        if zone is not None and not _is_zone(zone):
            key["time_zone"].problem(f"must be an IANA time zone such as Europe/Berlin (got {_shown(zone)})")
            zone = None
        schedules: dict[str, str | None] = {}
        for name in ("weekly", "monthly"):
            field_ = key[name]
            if not field_.exists:
                schedules[name] = getattr(fallback, name)
                continue
            text = field_.string(allow_empty=True)
            if text and not _SCHEDULE_CRON.fullmatch(text.strip()):
                field_.problem(
                    f'must be an EventBridge Scheduler cron such as "cron(0 9 ? * MON *)", or "" for '
                    f"none (got {_shown(text)})"
                )
            schedules[name] = text.strip() if text else None
        with key["off_hours"].fields() as off:
            start = _clock_time(off["start"])
            end = _clock_time(off["end"])
            weekends = off["weekends"].boolean()
    return ReportsConfig(
        recipients=tuple(recipients),
        time_zone=_or(zone, fallback.time_zone),
        weekly=schedules["weekly"],
        monthly=schedules["monthly"],
        off_hours_start=_or(start, fallback.off_hours_start),
        off_hours_end=_or(end, fallback.off_hours_end),
        weekends_off=fallback.weekends_off if weekends is None else weekends,
    )


def _operations(given: _Field) -> Operations:
    fallback = Operations()
    with given.fields() as key:
        phones: list[str] = []
        emails: list[str] = []
        for item in key["contacts"].items():
            contact = item.string()
            if contact is None:
                continue
            if _E164.fullmatch(contact):
                phones.append(contact)
            elif _EMAIL.fullmatch(contact):
                emails.append(contact)
            else:
                item.problem(
                    f'must be an E.164 phone number such as "+14255550100" or an email address (got {_shown(contact)})'
                )
        heartbeat = key["heartbeat_minutes"].integer(minimum=1)
    return Operations(
        phones=tuple(dict.fromkeys(phones)),
        emails=tuple(dict.fromkeys(emails)),
        heartbeat_minutes=_or(heartbeat, fallback.heartbeat_minutes),
    )


_HEARTBEAT_NAME_MAX: Final = 64


def _heartbeats(given: _Field) -> dict[str, Heartbeat]:
    heartbeats: dict[str, Heartbeat] = {}
    first_line: dict[str, int | None] = {}
    for item in given.items():
        with item.fields() as key:
            name = key["name"].string()
            service = key["service"].service_name()
            interval = key["interval_minutes"].integer(minimum=1)
            grace = key["grace_minutes"].integer(minimum=0)
            severity = key["severity"].severity()
        for required, what in (
            ("name", "the name in the ping URL"),
            ("service", "the service its incidents are on"),
            ("interval_minutes", "how often the job pings, in minutes"),
        ):
            if not key[required].exists and isinstance(item.value, dict):
                key[required].problem(f"required: {what}")
        if name is not None and (not _SERVICE_NAME.fullmatch(name) or len(name) > _HEARTBEAT_NAME_MAX):
            key["name"].problem(
                f"heartbeat names are part of the ping URL: up to {_HEARTBEAT_NAME_MAX} lowercase letters, digits, "
                f'"-" and "_", starting with a letter or digit (got {_shown(name)})'
            )
            name = None
        elif name is not None and name in first_line:
            key["name"].problem(f"duplicate heartbeat {_shown(name)}{_first_at(first_line[name])}")
            name = None
        elif name is not None:
            first_line[name] = key["name"].line
        if service is not None:
            key["service"].refers_to("service", service)
        if name is not None and service is not None and interval is not None:
            heartbeats[name] = Heartbeat(name, service, interval, _or(grace, 0), severity)
    return heartbeats


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return False
    return True


def _clock_time(given: _Field) -> time | None:
    if not given.exists:
        return None
    text = given.string()
    if text is None:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        given.problem(f'must be a time of day such as "18:00" (got {_shown(text)})')
        return None


def _status_page(given: _Field) -> StatusPageConfig:
    fallback = StatusPageConfig()
    with given.fields() as key:
        name = key["name"].string()
        components = _status_components(key["components"])
        impact = dict(fallback.impact)
        for severity, entry in key["impact"].entries():
            if severity not in SEVERITIES:
                entry.problem(f"must be one of {', '.join(SEVERITIES)}", at_key=True)
                continue
            status = entry._one_of(INCIDENT_COMPONENT_STATUSES)
            if status is not None:
                impact[severity] = status
    return StatusPageConfig(name=_or(name, fallback.name), components=components, impact=impact)


def _status_components(given: _Field) -> dict[str, StatusComponent]:
    components: dict[str, StatusComponent] = {}
    if given.normalized and isinstance(given.value, list):  # the shipped JSON keeps their order as a list
        for entry in given.items():
            with entry.fields() as key:
                component_id = key["id"].string() or ""
                component = _status_component(entry, key)
            if component is not None:
                components[component_id] = component
        return components
    for component_id, entry in given.entries():
        if not _SERVICE_NAME.fullmatch(component_id):
            entry.problem(
                _SERVICE_NAME_RULE.replace("service", "component") + f" (got {_shown(component_id)})", at_key=True
            )
        with entry.fields() as key:
            component = _status_component(entry, key)
        if component is not None:
            components[component_id] = component
    return components


def _status_component(entry: _Field, key: _Fields) -> StatusComponent | None:
    name = key["name"].string()
    description = key["description"].string(allow_empty=True) if key["description"].exists else ""
    group = key["group"].string() if key["group"].exists else None
    services = [item.service_name() for item in key["services"].items()]
    if name is None:
        if not key["name"].exists:
            entry.problem('required: "name", the component\'s name as customers know it')
        return None
    return StatusComponent(
        name=name,
        description=description or "",
        group=group,
        services=tuple(service for service in services if service is not None),
    )


def _check_references(root: _Field, config: SirenConfig) -> None:
    known: dict[str, Mapping[str, object]] = {
        "user": config.users,
        "schedule": config.schedules,
        "escalation policy": config.escalation_policies,
        "service": config.services,
    }
    for kind, name, where in root._check.references:
        names = known[kind]
        if name not in names:
            close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.65)
            hint = f'did you mean "{close[0]}"?' if close else f"not in {_REFERENCE_SECTIONS[kind]}"
            where.problem(f"unknown {kind} {_shown(name)} ({hint})")


def _check_name(entry: _Field, name: str, kind: str) -> None:
    if not _SERVICE_NAME.fullmatch(name):
        entry.problem(
            f'{kind} names are lowercase letters, digits, "-" and "_", starting with a letter or digit'
            f" (got {_shown(name)})",
            at_key=True,
        )


def _references(given: _Field, kind: str) -> tuple[str, ...] | None:
    if not given.exists:
        return None
    names: list[str] = []
    for item in given.items():
        name = item.string()
        if name is not None:
            item.refers_to(kind, name)
            names.append(name)
    return tuple(names)


def _phone(given: _Field) -> str | None:
    value = given.value
    if isinstance(value, int) and not isinstance(value, bool):
        given.problem(f'must be a phone number in quotes, such as "+{value}" (YAML reads it unquoted as a number)')
        return None
    phone = given.string()
    if phone is not None and not _E164.fullmatch(phone):
        given.problem(
            f'must be an E.164 phone number: "+", the country code and the number, no spaces (got {_shown(phone)})'
        )
        return None
    return phone


def _email(given: _Field) -> str | None:
    email = given.string()
    if email is not None and not _EMAIL.fullmatch(email):
        given.problem(f"must be an email address such as alice@example.com (got {_shown(email)})")
        return None
    return email


def _time_zone(given: _Field, *, required: bool = False) -> str | None:
    if required and not given.exists:
        given.problem('required: an IANA time zone such as "America/New_York"')
        return None
    name = given.string()
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        given.problem(f'must be an IANA time zone such as "America/New_York" or "UTC" (got {_shown(name)})')
        return None
    return name


def _local_datetime(given: _Field) -> datetime | None:
    """A wall-clock date-time: "2026-01-05T09:00" (YAML may have made a datetime or a date of it already)."""
    if not given.exists:
        return None
    value = given.value
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        given.problem(f'must be a local date-time such as "2026-01-05T09:00" (got {_shown(given.value)})')
        return None
    if value.tzinfo is not None:
        given.problem("must be a local date-time without an offset: it is read in the schedule's time_zone")
        return None
    return value


def _time_of_day(given: _Field) -> time | None:
    value = given.value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MINUTES_A_DAY:
        hours, minutes = divmod(value, 60)
        given.problem(
            f'must be a time of day in quotes, such as "{hours:02}:{minutes:02}" (YAML reads it unquoted as the'
            f" number {value})"
        )
        return None
    text = given.string()
    if text is None:
        return None
    try:
        moment = time.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is not None:
        given.problem(f'must be a time of day such as "09:00" (got {_shown(text)})')
        return None
    return moment


# ---- the validation layer ---------------------------------------------------------------------------------

_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.StrEnum)
_SERVICE_NAME_RULE: Final = 'service names are lowercase letters, digits, "-" and "_", starting with a letter or digit'


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _first_at(line: int | None) -> str:
    return "" if line is None else f" (first at line {line})"


def _shown(value: object) -> str:
    """A value as a problem quotes it: strings in double quotes, other scalars as YAML writes them."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class _Check:
    """The problems found in one file so far."""

    def __init__(self, filename: str, *, normalized: bool = False) -> None:
        self.filename = filename
        self.normalized = normalized  # the JSON of SirenConfig.to_json, not YAML a person wrote
        self.problems: list[ConfigProblem] = []
        self.references: list[tuple[str, str, _Field]] = []  # (kind, name, where): checked once all is read

    def add(self, line: int | None, path: str, message: str) -> None:
        self.problems.append(ConfigProblem(self.filename, line, path, message))

    def sorted(self) -> list[ConfigProblem]:
        return sorted(self.problems, key=lambda problem: problem.line or 0)


@dataclass(frozen=True, slots=True)
class _Node:
    """A value with the line it was written on. Mappings hold ``dict[str, _Node]``, lists ``list[_Node]``."""

    value: object
    line: int | None
    key_line: int | None = None  # the line of the key this value belongs to, in a mapping


class _Field:
    """A value being validated, with its path and line.

    ``exists`` says whether the key was written at all. A null (``key:`` with nothing after it) reads as empty
    where a mapping or a list is expected, and as a problem where a single value is. Every reader returns None
    when the key is absent, or after recording a problem.
    """

    __slots__ = ("_check", "exists", "key_line", "line", "path", "value")

    def __init__(self, check: _Check, path: str, node: _Node | None, *, line: int | None) -> None:
        self._check = check
        self.path = path
        self.exists = node is not None
        self.value = None if node is None else node.value
        # An absent field's problems ("required...") are reported on the line of the mapping it is missing from.
        self.line = line if node is None else node.line
        self.key_line = self.line if node is None or node.key_line is None else node.key_line

    @property
    def normalized(self) -> bool:
        return self._check.normalized

    def problem(self, message: str, *, at_key: bool = False) -> None:
        self._check.add(self.key_line if at_key else self.line, self.path, message)

    def refers_to(self, kind: str, name: str) -> None:
        """Record that this field names a user, schedule or escalation policy, checked when all is read."""
        self._check.references.append((kind, name, self))

    def _child(self, path: str, node: _Node | None) -> _Field:
        return _Field(self._check, path, node, line=self.line)

    def _collection(self, kind: type[_T], expected: str) -> _T | None:
        if isinstance(self.value, kind):
            return self.value
        if self.value is not None:
            self.problem(f"must be {expected} (got {_shown(self.value)})")
        return None

    def fields(self) -> _Fields:
        """A fixed set of keys: read each with ``[key]``; leaving the block reports the keys not read."""
        return _Fields(self, self._collection(dict, "a mapping") or {})

    def entries(self) -> list[tuple[str, _Field]]:
        """A mapping whose keys are names the user chooses (services, labels)."""
        entries: dict[str, _Node] = self._collection(dict, "a mapping") or {}
        return [(key, self._child(_join(self.path, key), node)) for key, node in entries.items()]

    def items(self) -> list[_Field]:
        items: list[_Node] = self._collection(list, "a list") or []
        return [self._child(f"{self.path}[{index}]", node) for index, node in enumerate(items)]

    def _scalar(self, expected: str) -> object:
        """The value, or None after saying what was expected of a null."""
        if self.exists and self.value is None:
            self.problem(f"must be {expected} (got nothing)")
        return self.value

    def string(self, *, allow_empty: bool = False) -> str | None:
        value = self._scalar("a string")
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(f"must be a string (got {_shown(value)})")
            return None
        if not allow_empty and not value.strip():
            self.problem("must not be empty")
            return None
        return value

    def strings(self) -> tuple[str, ...] | None:
        if not self.exists:
            return None
        values = [item.string() for item in self.items()]
        return tuple(value for value in values if value is not None)

    def string_map(self) -> dict[str, str] | None:
        if not self.exists:
            return None
        values = {key: entry.string(allow_empty=True) for key, entry in self.entries()}
        return {key: value for key, value in values.items() if value is not None}

    def integer(self, *, minimum: int) -> int | None:
        value = self._scalar("a whole number")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"must be a whole number (got {_shown(value)})")
            return None
        if value < minimum:
            self.problem(f"must be at least {minimum} (got {value})")
            return None
        return value

    def boolean(self) -> bool | None:
        value = self._scalar("true or false")
        if value is None:
            return None
        if not isinstance(value, bool):
            self.problem(f"must be true or false (got {_shown(value)})")
            return None
        return value

    def choice(self, options: type[_E]) -> _E | None:
        chosen = self._one_of([option.value for option in options])
        return None if chosen is None else options(chosen)

    def severity(self) -> str | None:
        return self._one_of(SEVERITIES)

    def _one_of(self, allowed: Sequence[str]) -> str | None:
        expected = "one of " + ", ".join(allowed)
        value = self._scalar(expected)
        if value is None:
            return None
        if isinstance(value, str) and value in allowed:
            return value
        same_but_case = [option for option in allowed if str(value).lower() == option.lower()]
        hint = f'; did you mean "{same_but_case[0]}"?' if same_but_case else ""
        self.problem(f"must be {expected} (got {_shown(value)}{hint})")
        return None

    def service_name(self) -> str | None:
        name = self.string()
        if name is not None and not _SERVICE_NAME.fullmatch(name):
            self.problem(_SERVICE_NAME_RULE + f" (got {_shown(name)})")
            return None
        return name


class _Fields:
    """The keys of a mapping with a fixed schema; the keys never read are reported as unknown on exit."""

    def __init__(self, owner: _Field, entries: dict[str, _Node]) -> None:
        self._owner = owner
        self._entries = entries
        self._known: list[str] = []

    def __getitem__(self, key: str) -> _Field:
        if key not in self._known:
            self._known.append(key)
        return self._owner._child(_join(self._owner.path, key), self._entries.get(key))

    def __enter__(self) -> _Fields:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            return

        for key, node in self._entries.items():
            if key not in self._known:
                close = difflib.get_close_matches(key, self._known, n=1, cutoff=0.65)
                close = close or [known for known in self._known if len(key) >= 3 and known.startswith(key)]
                hint = f'did you mean "{close[0]}"?' if close else f"known keys: {', '.join(self._known)}"
                line = node.line if node.key_line is None else node.key_line
                self._owner._check.add(line, _join(self._owner.path, key), f"unknown key ({hint})")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# ---- turning YAML and JSON into nodes ---------------------------------------------------------------------


def _plain_node(value: object) -> _Node:
    if isinstance(value, Mapping):
        return _Node({str(key): _plain_node(item) for key, item in value.items()}, None)
    if isinstance(value, list | tuple):
        return _Node([_plain_node(item) for item in value], None)
    return _Node(value, None)


def _parse_yaml(text: str, check: _Check) -> _Node | None:
    """The document as nodes, with lines; None for an empty document.

    Duplicate keys and values YAML cannot construct are recorded and reading goes on; a syntax error stops
    everything at once (ConfigError), since nothing after it can be trusted.
    """
    import yaml

    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # checks the characters already
        root = loader.get_single_node()
        return None if root is None else _YamlReader(loader, check).node(root, "")
    except yaml.MarkedYAMLError as error:
        message = (error.problem or "not valid YAML").removeprefix("but ")
        if error.context:
            started = _yaml_line(error.context_mark)
            message = error.context + ("" if started is None else f" from line {started}") + f": {message}"
        line = _yaml_line(error.problem_mark) or _yaml_line(error.context_mark)
        raise ConfigError([ConfigProblem(check.filename, line, "", message)]) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        message = f"character {chr(error.character)!r} is not allowed in YAML"
        raise ConfigError([ConfigProblem(check.filename, line, "", message)]) from None
    finally:
        if loader is not None:
            loader.dispose()  # type: ignore[no-untyped-call]


def _yaml_line(mark: yaml.Mark | None) -> int | None:
    return None if mark is None else mark.line + 1


class _YamlReader:
    """Composed YAML nodes to :class:`_Node`: keys as written, scalars typed by YAML's rules, lines kept."""

    def __init__(self, loader: yaml.SafeLoader, check: _Check) -> None:
        self._loader = loader
        self._check = check
        self._open: set[int] = set()  # nodes being read: an alias back into one of them is a cycle

    def node(self, node: yaml.Node, path: str) -> _Node:
        import yaml

        line = node.start_mark.line + 1
        if id(node) in self._open:
            self._check.add(line, path, "an alias must not refer to a value that contains it")
            return _Node(None, line)
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return _Node(dict(self._entries(node, path)), line)
            if isinstance(node, yaml.SequenceNode):
                return _Node([self.node(item, f"{path}[{index}]") for index, item in enumerate(node.value)], line)
            try:
                return _Node(self._loader.construct_object(node), line)  # type: ignore[no-untyped-call]
            except yaml.MarkedYAMLError as error:
                self._check.add(line, path, error.problem or "not a valid value")
                return _Node(None, line)
        finally:
            self._open.discard(id(node))

    def _entries(self, node: yaml.MappingNode, path: str) -> Iterator[tuple[str, _Node]]:
        import yaml

        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self._check.add(key_line, path, "keys must be plain names, not lists or mappings")
                continue
            key = key_node.value
            key_path = _join(path, key)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._check.add(key_line, key_path, "merge keys are not supported: write the keys out")
            elif key in seen:
                self._check.add(key_line, key_path, f"duplicate key (first at line {seen[key]})")
            else:
                seen[key] = key_line
                value = self.node(value_node, key_path)
                yield key, _Node(value.value, value.line, key_line)
