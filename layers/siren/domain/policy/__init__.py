"""The policy: what siren.yaml declares (services, severity rules, people, schedules, escalation, the status page,
reports, heartbeats), as frozen dataclasses. Pure data with the few decisions that belong to it; reading and
checking siren.yaml is :mod:`siren.config`'s work, and what a signal or an incident does with the policy is the
rest of :mod:`siren.domain`'s.

One module per noun; every name is importable from here.
"""

from siren.domain.policy.escalation import (
    SEVERITY_POLICY_KEYS,
    EscalationLevel,
    EscalationPolicy,
    Roles,
    Target,
    TargetKind,
)
from siren.domain.policy.integrations import (
    APIS,
    DEFAULT_OPSGENIE_PRIORITIES,
    DEFAULT_PAGERDUTY_SEVERITIES,
    OPSGENIE,
    PAGERDUTY,
    Integration,
    Integrations,
)
from siren.domain.policy.operations import Heartbeat, Operations, Paging, ReportsConfig
from siren.domain.policy.schedules import (
    ROTATION_HOURS,
    Override,
    Restriction,
    Rotation,
    Schedule,
    ScheduleLayer,
    Weekday,
)
from siren.domain.policy.services import (
    Defaults,
    Flapping,
    FlappingOverride,
    InsufficientData,
    OnRecovery,
    Service,
    ServicePolicy,
)
from siren.domain.policy.severity_rules import (
    DEFAULT_LABEL_MAP,
    DEFAULT_RULES,
    RESERVED_RULE_NAMES,
    BuiltinRule,
    Match,
    SeverityConfig,
    SeverityRule,
    UseRule,
    WhenRule,
)
from siren.domain.policy.siren_config import SirenConfig
from siren.domain.policy.slack import SlackConfig
from siren.domain.policy.status_page import (
    COMPONENT_STATUSES,
    INCIDENT_COMPONENT_STATUSES,
    StatusComponent,
    StatusPageConfig,
)
from siren.domain.policy.users import DEFAULT_NOTIFY, NotificationMethod, NotificationRule, User

__all__ = [
    "APIS",
    "COMPONENT_STATUSES",
    "DEFAULT_LABEL_MAP",
    "DEFAULT_NOTIFY",
    "DEFAULT_OPSGENIE_PRIORITIES",
    "DEFAULT_PAGERDUTY_SEVERITIES",
    "DEFAULT_RULES",
    "INCIDENT_COMPONENT_STATUSES",
    "OPSGENIE",
    "PAGERDUTY",
    "RESERVED_RULE_NAMES",
    "ROTATION_HOURS",
    "SEVERITY_POLICY_KEYS",
    "BuiltinRule",
    "Defaults",
    "EscalationLevel",
    "EscalationPolicy",
    "Flapping",
    "FlappingOverride",
    "Heartbeat",
    "InsufficientData",
    "Integration",
    "Integrations",
    "Match",
    "NotificationMethod",
    "NotificationRule",
    "OnRecovery",
    "Operations",
    "Override",
    "Paging",
    "ReportsConfig",
    "Restriction",
    "Roles",
    "Rotation",
    "Schedule",
    "ScheduleLayer",
    "Service",
    "ServicePolicy",
    "SeverityConfig",
    "SeverityRule",
    "SirenConfig",
    "SlackConfig",
    "StatusComponent",
    "StatusPageConfig",
    "Target",
    "TargetKind",
    "UseRule",
    "User",
    "Weekday",
    "WhenRule",
]
