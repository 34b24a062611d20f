"""AWS's evaluation of identity policies in one account, as far as the runtime can know a request's context:
actions and resources with IAM's wildcards, the condition operators Siren's template uses, Deny over Allow."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# What the local evaluation does not check, for the README and for anyone reading a surprising "allowed".
NOT_CHECKED = (
    "resource-based policies (bucket, topic, queue, key, secret and event bus policies, Lambda permissions)",
    "KMS key policies and grants",
    "permission boundaries, session policies, SCPs and RCPs",
    "condition keys other than dynamodb:LeadingKeys, ses:FromAddress and cloudwatch:namespace "
    "(aws:SourceArn, aws:SourceAccount, aws:PrincipalTag, ...): such a condition counts as met in an Allow and "
    "as not met in a Deny",
    "resources of actions the runtime cannot name (an Allow for the action applies, whatever its Resource)",
    "calls made by AWS services on Siren's behalf (Step Functions, EventBridge, Scheduler, SNS deliveries): they "
    "run as the runtime, not as their roles",
    "calls a function makes from threads it starts itself (context variables do not follow): the runtime's keys",
    "request signatures (the access key, and a session's token, name the caller)",
)


@dataclass(frozen=True)
class Check:
    """One authorization AWS makes for a request: an action on one resource, with the request's condition keys.

    ``resource`` None: the runtime cannot name it. ``context``: condition keys (lower case) the runtime knows
    for this request, each with its values (an empty list: known to be absent, as LeadingKeys of a Scan)."""

    action: str
    resource: str | None
    context: Mapping[str, list[str]] = field(default_factory=dict)


@functools.lru_cache(maxsize=512)
def _parsed(document: str) -> tuple[dict[str, Any], ...]:
    statements = json.loads(document).get("Statement", [])
    return tuple(statements if isinstance(statements, list) else [statements])


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


@functools.lru_cache(maxsize=2048)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM's wildcards: * (any run of characters, ':' and '/' included) and ? (one character); nothing else.
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _matches(globs: list[str], value: str, ignore_case: bool = False) -> bool:
    return any(_pattern(glob, ignore_case).match(value) for glob in globs)


_SUPPORTED_OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Bool",
    "Null",
}


def _value_matches(operator: str, expected: list[str], actual: str) -> bool:
    """Whether ``actual`` matches one of ``expected`` under the positive form of ``operator``."""
    if operator in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        return actual in expected
    if operator in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return actual.lower() in {value.lower() for value in expected}
    if operator == "Bool":
        return actual.lower() in {value.lower() for value in expected}
    return _matches(expected, actual)  # StringLike, StringNotLike, ArnLike, ArnNotLike


def condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, list[str]]) -> bool | None:
    """One condition of a statement: True, False, or None when the runtime cannot tell (an unknown key or
    operator)."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in _SUPPORTED_OPERATORS or key.lower() not in context:
        return None
    values, wanted = context[key.lower()], as_list(expected)
    if base == "Null":
        return (not values) == (wanted[0].lower() == "true")
    negated = "Not" in base
    if not values:  # known to be absent (the LeadingKeys of a Scan): only ForAllValues and IfExists hold
        return qualifier == "ForAllValues" or if_exists
    hits = [_value_matches(base, wanted, value) for value in values]
    if qualifier == "ForAllValues":
        return all(not hit for hit in hits) if negated else all(hits)
    # ForAnyValue, or a single-valued key
    return any(not hit for hit in hits) if negated else any(hits)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allowed", "explicit deny", "no statement allows it"
    unchecked: tuple[str, ...] = ()  # conditions the runtime could not evaluate (taken as met in an Allow)


def evaluate(documents: Iterable[str], check: Check) -> Decision:
    """AWS's evaluation of identity policies in one account: an applicable Deny refuses, else an applicable Allow
    allows, else the request is refused. What the runtime cannot know never refuses (see :data:`NOT_CHECKED`)."""
    allowed = False
    unchecked: list[str] = []
    for document in documents:
        for statement in _parsed(document):
            if not _action_applies(statement, check.action):
                continue
            if check.resource is not None:
                on_resource: bool | None = _resource_applies(statement, check.resource)
            else:  # unnamed: only a statement on every resource is sure to cover it
                on_resource = True if "*" in as_list(statement.get("Resource")) else None
            if on_resource is False:
                continue
            applies, unknown = _conditions_apply(statement.get("Condition") or {}, check.context)
            if not applies:
                continue
            if on_resource is None:
                unknown.append("Resource")
            if statement.get("Effect") == "Deny":
                if unknown:  # a Deny the runtime cannot be sure of is not applied: never a false refusal
                    continue
                return Decision(False, "explicit deny")
            if statement.get("Effect") == "Allow":
                allowed = True
                unchecked += unknown
    return Decision(allowed, "allowed" if allowed else "no statement allows it", tuple(unchecked))


def _action_applies(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not _matches(as_list(statement["NotAction"]), action, ignore_case=True)
    return _matches(as_list(statement.get("Action")), action, ignore_case=True)


def _resource_applies(statement: Mapping[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not _matches(as_list(statement["NotResource"]), resource)
    return _matches(as_list(statement.get("Resource", "*")), resource)


def _conditions_apply(conditions: Mapping[str, Any], context: Mapping[str, list[str]]) -> tuple[bool, list[str]]:
    """Whether every condition holds (those the runtime cannot tell counted as holding), and which those were."""
    unknown = []
    for operator, keys in conditions.items():
        for key, expected in (keys or {}).items():
            holds = condition_holds(operator, key, expected, context)
            if holds is False:
                return False, []
            if holds is None:
                unknown.append(f"{operator} {key}")
    return True, unknown
