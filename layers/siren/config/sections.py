"""The validators: one per section of siren.yaml, each ``def _section(given: Field) -> Section``.

Adding a section takes a frozen dataclass in :mod:`siren.domain.policy`, a validator here written with the
:class:`~siren.config.fields.Field` readers, and one line in :func:`validated_config`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from siren.config.fields import SERVICE_NAME, SERVICE_NAME_RULE, Field, Fields, first_at, or_default
from siren.config.oncall_sections import (
    check_every_severity_has_a_policy,
    read_escalation_policies,
    read_roles,
    read_schedules,
    read_severity_policies,
    read_users,
)
from siren.config.values import E164, check_references, is_zone, read_clock_time
from siren.domain.policy import (
    APIS,
    DEFAULT_LABEL_MAP,
    DEFAULT_RULES,
    INCIDENT_COMPONENT_STATUSES,
    RESERVED_RULE_NAMES,
    BuiltinRule,
    Defaults,
    Flapping,
    FlappingOverride,
    Heartbeat,
    InsufficientData,
    Integration,
    Integrations,
    Match,
    OnRecovery,
    Operations,
    Paging,
    ReportsConfig,
    Service,
    SeverityConfig,
    SeverityRule,
    SirenConfig,
    SlackConfig,
    StatusComponent,
    StatusPageConfig,
    UseRule,
    WhenRule,
)
from siren.domain.signals import SEVERITIES, Source
from siren.domain.validation import EMAIL, shown


def validated_config(root: Field) -> SirenConfig:
    """The whole configuration, each section by its validator (:data:`_SECTIONS`), then the checks across them."""
    with root.fields() as section:
        config = SirenConfig(**{name: validate(section[name]) for name, validate in _SECTIONS.items()})
        check_every_severity_has_a_policy(config, section["severity_policies"])
    check_references(root, config)
    return config


def _defaults(given: Field) -> Defaults:
    fallback = Defaults()
    with given.fields() as key:
        severity = key["severity"].severity()
        on_recovery = key["on_recovery"].choice(OnRecovery)
        insufficient_data = key["insufficient_data"].choice(InsufficientData)
        flapping = _flapping(key["flapping"])
    return Defaults(
        severity=or_default(severity, fallback.severity),
        on_recovery=or_default(on_recovery, fallback.on_recovery),
        insufficient_data=or_default(insufficient_data, fallback.insufficient_data),
        flapping=Flapping(
            transitions=or_default(flapping.transitions, fallback.flapping.transitions),
            window_minutes=or_default(flapping.window_minutes, fallback.flapping.window_minutes),
        ),
    )


def _flapping(given: Field) -> FlappingOverride:
    with given.fields() as key:
        return FlappingOverride(
            transitions=key["transitions"].integer(minimum=1),
            window_minutes=key["window_minutes"].integer(minimum=1),
        )


def _services(given: Field) -> dict[str, Service]:
    services: dict[str, Service] = {}
    if given.normalized and isinstance(given.value, list):  # see SirenConfig.to_json
        for entry in given.items():
            with entry.fields() as key:
                name = key["name"].service_name()
                if not key["name"].exists:
                    entry.problem("every service needs a name")
                elif name in services:
                    key["name"].problem(f"duplicate service {shown(name)}")
                services[name or ""] = _service(name or "", key)
        return services
    for name, entry in given.entries():
        if not SERVICE_NAME.fullmatch(name):
            entry.problem(SERVICE_NAME_RULE + f" (got {shown(name)})", at_key=True)
        with entry.fields() as key:
            services[name] = _service(name, key)
    return services


def _service(name: str, key: Fields) -> Service:
    return Service(
        name=name,
        description=or_default(key["description"].string(allow_empty=True), ""),
        alarm_patterns=or_default(key["alarm_patterns"].strings(), ()),
        default_severity=key["default_severity"].severity(),
        on_recovery=key["on_recovery"].choice(OnRecovery),
        insufficient_data=key["insufficient_data"].choice(InsufficientData),
        flapping=_flapping(key["flapping"]),
    )


def _severity(given: Field) -> SeverityConfig:
    with given.fields() as key:
        label_map = _label_map(key["label_map"])
        rules = _rules(key["rules"])
    return SeverityConfig(
        label_map=or_default(label_map, dict(DEFAULT_LABEL_MAP)), rules=or_default(rules, DEFAULT_RULES)
    )


def _label_map(given: Field) -> dict[str, str] | None:
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
            entry.problem(f"the same label value as {shown(written[label])}: they are matched in any case", at_key=True)
        else:
            written[label] = value
            if severity is not None:
                label_map[label] = severity
    return label_map


def _rules(given: Field) -> tuple[SeverityRule, ...] | None:
    if not given.exists:
        return None
    first_line: dict[str, int | None] = {}
    rules = [_rule(item, first_line) for item in given.items()]
    return tuple(rule for rule in rules if rule is not None)


def _rule(given: Field, first_line: dict[str, int | None]) -> SeverityRule | None:
    with given.fields() as key:
        name_field, when_field, use_field, severity_field = key["name"], key["when"], key["use"], key["severity"]
        name = name_field.string()
        when = _match(when_field) if when_field.exists else None
        use = use_field.choice(BuiltinRule)
        severity = severity_field.severity()
    if not name_field.exists:
        name_field.problem("every rule needs a name")
    elif name in RESERVED_RULE_NAMES:
        name_field.problem(f"{shown(name)} is reserved for decisions that no rule made")
    elif name in first_line:
        name_field.problem(f"duplicate rule name {shown(name)}{first_at(first_line[name])}")
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


def _match(given: Field) -> Match:
    with given.fields() as key:
        match = Match(
            alarm_name=key["alarm_name"].string(),
            namespace=key["namespace"].string(),
            metric=key["metric"].string(),
            service=key["service"].service_name(),
            source=key["source"].choice(Source),
            labels=or_default(key["labels"].string_map(), {}),
        )
    # Empty: nothing written in it, or only `labels: {}`. (A typo in a key is reported as such, and only so.)
    written = {key: node.value for key, node in given.value.items()} if isinstance(given.value, dict) else {}
    if given.value is None or written in ({}, {"labels": {}}):
        given.problem("give at least one of alarm_name, namespace, metric, service, source, labels")
    return match


def _paging(given: Field) -> Paging:
    with given.fields() as key:
        sms_links = key["sms_links"].boolean()
        chosen = {item.severity() for item in key["chat_severities"].items()}
    return Paging(
        sms_links=bool(sms_links),
        chat_severities=tuple(severity for severity in SEVERITIES if severity in chosen),
    )


# A Slack conversation id: C (public channel) or G (private), then upper-case letters and digits.
_SLACK_CHANNEL_ID: Final = re.compile(r"[CG][A-Z0-9]{6,}")


def _slack(given: Field) -> SlackConfig:
    with given.fields() as key:
        channel = key["channel"].string()
        chosen = {item.severity() for item in key["severities"].items()}
        incident_channels = key["incident_channels"].boolean()
    if channel is not None and not _SLACK_CHANNEL_ID.fullmatch(channel):
        key["channel"].problem(
            "must be a Slack channel id such as C024BE91L (the channel's details, 'Channel ID' at the bottom; "
            f"not its name), got {shown(channel)}"
        )
    if incident_channels and channel is None:
        key["incident_channels"].problem(
            "needs slack.channel: an incident channel is announced in the incident message, posted there"
        )
    if key["severities"].exists and not chosen - {None}:
        key["severities"].problem("give at least one severity, or leave severities out for all of them")
    return SlackConfig(
        channel=channel,
        severities=tuple(s for s in SEVERITIES if s in chosen) if key["severities"].exists else SEVERITIES,
        incident_channels=bool(incident_channels),
    )


_SCHEDULE_CRON: Final = re.compile(r"cron\((\S+ ){5}\S+\)")


def _reports(given: Field) -> ReportsConfig:
    fallback = ReportsConfig()
    with given.fields() as key:
        recipients = []
        for item in key["recipients"].items():
            address = item.string()
            if address is not None and not EMAIL.fullmatch(address):
                item.problem(f"must be an email address (got {shown(address)})")
            elif address is not None:
                recipients.append(address)
        zone = key["time_zone"].string()
        if zone is not None and not is_zone(zone):
            key["time_zone"].problem(f"must be an IANA time zone such as Europe/Berlin (got {shown(zone)})")
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
                    f"none (got {shown(text)})"
                )
            schedules[name] = text.strip() if text else None
        with key["off_hours"].fields() as off:
            start = read_clock_time(off["start"])
            end = read_clock_time(off["end"])
            weekends = off["weekends"].boolean()
    return ReportsConfig(
        recipients=tuple(recipients),
        time_zone=or_default(zone, fallback.time_zone),
        weekly=schedules["weekly"],
        monthly=schedules["monthly"],
        off_hours_start=or_default(start, fallback.off_hours_start),
        off_hours_end=or_default(end, fallback.off_hours_end),
        weekends_off=fallback.weekends_off if weekends is None else weekends,
    )


def _operations(given: Field) -> Operations:
    fallback = Operations()
    with given.fields() as key:
        phones: list[str] = []
        emails: list[str] = []
        for item in key["contacts"].items():
            contact = item.string()
            if contact is None:
                continue
            if E164.fullmatch(contact):
                phones.append(contact)
            elif EMAIL.fullmatch(contact):
                emails.append(contact)
            else:
                item.problem(
                    f'must be an E.164 phone number such as "+14255550100" or an email address (got {shown(contact)})'
                )
        heartbeat = key["heartbeat_minutes"].integer(minimum=1)
    return Operations(
        phones=tuple(dict.fromkeys(phones)),
        emails=tuple(dict.fromkeys(emails)),
        heartbeat_minutes=or_default(heartbeat, fallback.heartbeat_minutes),
    )


_HEARTBEAT_NAME_MAX: Final = 64


def _heartbeats(given: Field) -> dict[str, Heartbeat]:
    heartbeats: dict[str, Heartbeat] = {}
    first_line: dict[str, int | None] = {}
    for item in given.items():
        with item.fields() as key:
            name = key["name"].string()
            service = key["service"].service_name()
            interval = key["interval_minutes"].integer(minimum=1)
            grace = key["grace_minutes"].integer(minimum=0)
            severity = key["severity"].severity()
        _require(
            item,
            key,
            ("name", "the name in the ping URL"),
            ("service", "the service its incidents are on"),
            ("interval_minutes", "how often the job pings, in minutes"),
        )
        name = _unique_name(
            key,
            name,
            first_line,
            "heartbeat",
            None
            if name is None or (SERVICE_NAME.fullmatch(name) and len(name) <= _HEARTBEAT_NAME_MAX)
            else f"heartbeat names are part of the ping URL: up to {_HEARTBEAT_NAME_MAX} lowercase letters, digits, "
            f'"-" and "_", starting with a letter or digit (got {shown(name)})',
        )
        if service is not None:
            key["service"].refers_to("service", service)
        if name is not None and service is not None and interval is not None:
            heartbeats[name] = Heartbeat(name, service, interval, or_default(grace, 0), severity)
    return heartbeats


def _require(item: Field, key: Fields, *required: tuple[str, str]) -> None:
    """Each (field, what it is) of a list entry that is an object but lacks the field is a problem."""
    for name, what in required:
        if not key[name].exists and isinstance(item.value, dict):
            key[name].problem(f"required: {what}")


def _unique_name(
    key: Fields, name: str | None, first_line: dict[str, int | None], kind: str, invalid: str | None
) -> str | None:
    """``name`` of a list entry, or None when it is ``invalid`` (the problem) or a duplicate of an earlier
    ``kind``; ``first_line`` remembers where each name was first given."""
    if name is None:
        return None
    if invalid is not None:
        key["name"].problem(invalid)
        return None
    if name in first_line:
        key["name"].problem(f"duplicate {kind} {shown(name)}{first_at(first_line[name])}")
        return None
    first_line[name] = key["name"].line
    return name


def _status_page(given: Field) -> StatusPageConfig:
    fallback = StatusPageConfig()
    with given.fields() as key:
        name = key["name"].string()
        components = _status_components(key["components"])
        impact = dict(fallback.impact)
        for severity, entry in key["impact"].entries():
            if severity not in SEVERITIES:
                entry.problem(f"must be one of {', '.join(SEVERITIES)}", at_key=True)
                continue
            status = entry.one_of(INCIDENT_COMPONENT_STATUSES)
            if status is not None:
                impact[severity] = status
    return StatusPageConfig(name=or_default(name, fallback.name), components=components, impact=impact)


def _status_components(given: Field) -> dict[str, StatusComponent]:
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
        if not SERVICE_NAME.fullmatch(component_id):
            entry.problem(
                SERVICE_NAME_RULE.replace("service", "component") + f" (got {shown(component_id)})", at_key=True
            )
        with entry.fields() as key:
            component = _status_component(entry, key)
        if component is not None:
            components[component_id] = component
    return components


def _status_component(entry: Field, key: Fields) -> StatusComponent | None:
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


def _integrations(given: Field) -> Integrations:
    fallback = Integrations()
    with given.fields() as key:
        lists = {api: _integration_list(key[api], api) for api in APIS}
        pagerduty_severities = _severity_map(key["pagerduty_severities"], fallback.pagerduty_severities)
        opsgenie_priorities = _severity_map(key["opsgenie_priorities"], fallback.opsgenie_priorities)
    return Integrations(
        pagerduty=lists["pagerduty"],
        opsgenie=lists["opsgenie"],
        pagerduty_severities=pagerduty_severities,
        opsgenie_priorities=opsgenie_priorities,
    )


def _integration_list(given: Field, api: str) -> tuple[Integration, ...]:
    found: list[Integration] = []
    first_line: dict[str, int | None] = {}
    for item in given.items():
        with item.fields() as key:
            name = key["name"].string()
            service = key["service"].service_name()
            version = key["key_version"].integer(minimum=1)
        _require(item, key, ("name", "what its key is derived from"), ("service", "the service its alerts open"))
        name = _unique_name(
            key,
            name,
            first_line,
            f"{api} integration",
            None
            if name is None or SERVICE_NAME.fullmatch(name)
            else 'integration names: lowercase letters, digits, "-" and "_", starting with a letter or digit '
            f"(got {shown(name)})",
        )
        if service is not None:
            key["service"].refers_to("service", service)
        if name is not None and service is not None:
            found.append(Integration(name, service, or_default(version, 1)))
    return tuple(found)


def _severity_map(given: Field, fallback: Mapping[str, str]) -> dict[str, str]:
    """A vendor's levels (PagerDuty's severities, Opsgenie's priorities) as SEV levels: the defaults, overridden."""
    mapped = dict(fallback)
    for level, entry in given.entries():
        if level not in fallback:
            entry.problem(f"must be one of {', '.join(fallback)}", at_key=True)
            continue
        severity = entry.severity()
        if severity is not None:
            mapped[level] = severity
    return mapped


# Each section of siren.yaml, in the order problems are listed in, and the validator that reads it.
_SECTIONS: Final[Mapping[str, Callable[[Field], Any]]] = {
    "defaults": _defaults,
    "services": _services,
    "severity": _severity,
    "users": read_users,
    "schedules": read_schedules,
    "escalation_policies": read_escalation_policies,
    "severity_policies": read_severity_policies,
    "roles": read_roles,
    "paging": _paging,
    "status_page": _status_page,
    "reports": _reports,
    "operations": _operations,
    "heartbeats": _heartbeats,
    "integrations": _integrations,
    "slack": _slack,
}
