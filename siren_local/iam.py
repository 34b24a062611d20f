"""IAM enforced in the embedded local AWS: each function calls AWS as its own execution role, and every request is
authorized against the identity policies of its caller, so that a grant narrowed too far fails here, not on AWS.

Three parts:

- **Who calls.** The runtime's own calls (deploys, Step Functions' interpreter, the CLI, tests) sign with the
  ``testing`` keys; here they are the keys of an IAM user that may do everything (:data:`ADMIN_USER`), as an
  operator's credentials are. Each Lambda invocation gets the credentials of its function's role, taken with STS
  AssumeRole (cached per role, renewed before they expire) and set in the function's environment
  (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``), as Lambda sets them.
- **Which credentials a client signs with.** On AWS each function has a process of its own; here all share one,
  and clients are cached process-wide (a client made by one function is used by another). So a client that found
  its keys in the environment signs each request with the keys of the function running *now*
  (:class:`FunctionAwareCredentials`), else with the process's.
- **What is allowed.** moto 5.2.5 authorizes requests once ``INITIAL_NO_AUTH_ACTION_COUNT`` is reached, but its
  evaluation is too coarse to judge a least-privilege template: except for S3, SQS, IAM and STS it checks every
  action against the resource ``*`` (so any statement naming a resource never allows anything), and it ignores
  conditions. :func:`evaluate` replaces its policy check (moto still finds the caller by its access key and checks
  a session's token; the signature is not verified):
  the resource is worked out from the request for the services Siren calls (:func:`request_checks`), and the
  condition keys the runtime can know are evaluated (``dynamodb:LeadingKeys``, ``ses:FromAddress``,
  ``cloudwatch:namespace``). What cannot be known locally never refuses a request: see :data:`NOT_CHECKED`.
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

log = logging.getLogger("siren.local.iam")

ADMIN_USER = "siren-local-admin"
# The keys every local client has always used (runtime.LOCAL_CREDENTIALS): they become the admin user's.
ADMIN_KEYS = ("testing", "testing")
# moto's Step Functions interpreter calls Lambda (and the other task services) with these fixed keys: they are
# the keys of the AWS services acting for Siren, which the runtime does not authorize per service role.
SERVICES_USER = "siren-local-aws-services"
SERVICES_KEYS = ("ak", "sk")
ROLE_SESSION_SECONDS = 3600
RENEW_BEFORE_S = 300  # Lambda renews its role's credentials well before they expire; so does this

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


# -- policy evaluation --------------------------------------------------------------------------------------
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


def _as_list(value: Any) -> list[str]:
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
    values, wanted = context[key.lower()], _as_list(expected)
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
                on_resource = True if "*" in _as_list(statement.get("Resource")) else None
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
        return not _matches(_as_list(statement["NotAction"]), action, ignore_case=True)
    return _matches(_as_list(statement.get("Action")), action, ignore_case=True)


def _resource_applies(statement: Mapping[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not _matches(_as_list(statement["NotResource"]), resource)
    return _matches(_as_list(statement.get("Resource", "*")), resource)


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


# -- what a request asks for --------------------------------------------------------------------------------
# Services whose signing name (moto's action prefix) is not their IAM prefix.
_IAM_PREFIXES = {"monitoring": "cloudwatch", "email": "ses"}
# moto names some operations by their API name where IAM's action differs.
_IAM_ACTIONS = {"lambda:Invoke": "lambda:InvokeFunction", "lambda:InvokeAsync": "lambda:InvokeFunction"}


@dataclass(frozen=True)
class Request:
    """What the authorizer reads of one request (the parts moto's IAMRequest keeps)."""

    service: str  # the credential scope's service: dynamodb, states, events, ses, sms-voice, ...
    action: str  # service:Operation
    region: str
    account: str
    path: str
    params: Mapping[str, Any]  # the JSON body, or the query/form parameters (first values)
    moto_resource: str  # what moto worked out ("*" when it did not)


def request_params(body: Any, data: Any) -> dict[str, Any]:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    if text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, dict):
                return parsed
        except ValueError:
            pass
    if isinstance(data, Mapping):
        return {str(k): (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in data.items()}
    return {}


def request_checks(request: Request) -> list[Check]:
    """The authorizations AWS makes for ``request``: one per resource it touches, with its condition keys."""
    service, _, operation = request.action.partition(":")
    action = f"{_IAM_PREFIXES.get(service, service)}:{operation}"  # the signing name is not always IAM's prefix
    action = _IAM_ACTIONS.get(action, action)
    if request.moto_resource != "*":  # S3, SQS, IAM, STS: moto names the resource itself
        return [Check(action, request.moto_resource)]
    resolver = _RESOLVERS.get(request.service)
    if resolver is None:
        return [Check(action, None)]
    return resolver(request, action)


def _arn(request: Request, service: str, resource: str, region: str | None = None) -> str:
    region = request.region if region is None else region
    return f"arn:aws:{service}:{region}:{request.account}:{resource}"


def _dynamodb_checks(request: Request, action: str) -> list[Check]:
    params = request.params
    operation = action.split(":", 1)[1]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        checks = []
        for entry in params.get("TransactItems", []):
            for kind, part in entry.items():  # Put, Update, Delete, ConditionCheck, Get: each authorized as its own
                sub_action = f"dynamodb:{_TRANSACT_ACTIONS[kind]}" if kind in _TRANSACT_ACTIONS else None
                if sub_action:
                    sub = Request(request.service, sub_action, request.region, request.account, request.path, part, "*")
                    checks += _dynamodb_checks(sub, sub_action)
        return checks
    if "StreamArn" in params:
        return [Check(action, str(params["StreamArn"]))]
    per_table = _key_parts_per_table(operation, params)
    if not per_table:
        return [Check(action, "*")]  # ListTables, ListStreams, DescribeLimits, ...: no resource
    checks = []
    for table, parts in per_table.items():
        index = params.get("IndexName") if len(per_table) == 1 else None
        name = table.split("table/", 1)[1] if table.startswith("arn:") else table
        resource = _arn(request, "dynamodb", f"table/{name}" + (f"/index/{index}" if index else ""))
        leading = _leading_keys(request, name, index, parts)
        context = {} if leading is None else {"dynamodb:leadingkeys": leading}
        checks.append(Check(action, resource, context))
    return checks


_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _key_parts_per_table(operation: str, params: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Table -> the parts of the request that carry its keys (Key, Item, key conditions)."""
    per_table: dict[str, list[dict[str, Any]]] = {}
    if operation == "BatchGetItem":
        for table, entries in (params.get("RequestItems") or {}).items():
            per_table[table] = [{"Key": key} for key in entries.get("Keys", [])]
    elif operation == "BatchWriteItem":
        for table, entries in (params.get("RequestItems") or {}).items():
            per_table[table] = [
                {"Item": entry["PutRequest"]["Item"]}
                if "PutRequest" in entry
                else {"Key": entry["DeleteRequest"]["Key"]}
                for entry in entries
            ]
    elif "TableName" in params:
        per_table[str(params["TableName"])] = [dict(params)]
    return per_table


def _leading_keys(request: Request, table: str, index: str | None, parts: list[dict[str, Any]]) -> list[str] | None:
    """The partition key values a DynamoDB request touches (``dynamodb:LeadingKeys``); None when unknown."""
    hash_key = _hash_key(request, table, index)
    if hash_key is None:
        return None
    values: list[str] = []
    for part in parts:
        for member in ("Key", "Item"):
            if member in part and hash_key in part[member]:
                values.append(_scalar(part[member][hash_key]))
        if "KeyConditionExpression" in part:
            value = _equality_in_expression(part, hash_key)
            if value is None:
                return None
            values.append(value)
        elif "KeyConditions" in part and hash_key in part["KeyConditions"]:
            values += [_scalar(v) for v in part["KeyConditions"][hash_key].get("AttributeValueList", [])]
    return sorted(set(values))


def _hash_key(request: Request, table: str, index: str | None) -> str | None:
    from moto.dynamodb.models import dynamodb_backends

    try:
        model = dynamodb_backends[request.account][request.region].get_table(table)
    except Exception:  # a table that does not exist: DynamoDB answers that itself
        return None
    schema = model.schema
    if index:
        found = [i for i in [*model.global_indexes, *model.indexes] if i.name == index]
        if not found:
            return None
        schema = found[0].schema
    hashes = [key["AttributeName"] for key in schema if key["KeyType"] == "HASH"]
    return str(hashes[0]) if hashes else None


def _scalar(value: Any) -> str:
    return str(next(iter(value.values()))) if isinstance(value, dict) and value else str(value)


def _equality_in_expression(part: Mapping[str, Any], hash_key: str) -> str | None:
    names = part.get("ExpressionAttributeNames") or {}
    values = part.get("ExpressionAttributeValues") or {}
    for left, right in re.findall(r"([#\w.]+)\s*=\s*([:#\w]+)", str(part["KeyConditionExpression"])):
        if names.get(left, left) == hash_key and right in values:
            return _scalar(values[right])
        if names.get(right, right) == hash_key and left in values:
            return _scalar(values[left])
    return None


def _events_checks(request: Request, action: str) -> list[Check]:
    if action != "events:PutEvents":
        name = request.params.get("EventBusName") or request.params.get("Name")
        return [Check(action, _bus_arn(request, str(name)) if name else None)]
    buses = {str(entry.get("EventBusName") or "default") for entry in request.params.get("Entries", [])}
    return [Check(action, _bus_arn(request, bus)) for bus in sorted(buses)]


def _bus_arn(request: Request, bus: str) -> str:
    return bus if bus.startswith("arn:") else _arn(request, "events", f"event-bus/{bus}")


def _states_checks(request: Request, action: str) -> list[Check]:
    for member in ("stateMachineArn", "executionArn", "activityArn"):
        if member in request.params:
            return [Check(action, str(request.params[member]))]
    return [Check(action, None)]  # SendTaskSuccess and the like: a task token names no resource the runtime knows


def _lambda_checks(request: Request, action: str) -> list[Check]:
    match = re.search(r"/functions/([^/?]+)", request.path)
    if not match:
        return [Check(action, None)]
    name = unquote(match.group(1))
    if name.startswith("arn:"):
        return [Check(action, name)]
    qualifier = re.search(r"[?&]Qualifier=([^&]+)", request.path)
    resource = _arn(request, "lambda", f"function:{name}")
    return [Check(action, resource + (f":{unquote(qualifier.group(1))}" if qualifier else ""))]


def _sns_checks(request: Request, action: str) -> list[Check]:
    target = request.params.get("TopicArn") or request.params.get("TargetArn")
    if target:
        return [Check(action, str(target))]
    if action == "sns:Publish" and request.params.get("PhoneNumber"):
        return [Check(action, "*")]  # a direct SMS names no resource: only a grant on "*" allows it
    return [Check(action, None)]


def _ses_checks(request: Request, action: str) -> list[Check]:
    params = request.params
    sender = params.get("FromEmailAddress") or params.get("Source")
    if action == "ses:SendEmail" and sender:
        address = re.sub(r"^.*<([^>]+)>.*$", r"\1", str(sender)).strip()
        context = {"ses:fromaddress": [address]}
        return [Check(action, _arn(request, "ses", f"identity/{address}"), context)]
    match = re.search(r"/v2/email/identities/([^/?]+)", request.path)
    if match:
        return [Check(action, _arn(request, "ses", f"identity/{unquote(match.group(1))}"))]
    return [Check(action, None)]


def _secretsmanager_checks(request: Request, action: str) -> list[Check]:
    secret = request.params.get("SecretId")
    if not secret:
        return [Check(action, None)]
    secret = str(secret)
    if secret.startswith("arn:"):
        return [Check(action, secret)]
    from moto.secretsmanager.models import secretsmanager_backends

    try:
        return [Check(action, secretsmanager_backends[request.account][request.region].secrets[secret].arn)]
    except Exception:  # no such secret: Secrets Manager answers that itself, after authorization
        return [Check(action, None)]


def _cloudwatch_checks(request: Request, action: str) -> list[Check]:
    if action == "cloudwatch:PutMetricData":
        return [Check(action, "*", {"cloudwatch:namespace": _as_list(request.params.get("Namespace"))})]
    return [Check(action, None)]


def _sms_voice_checks(request: Request, action: str) -> list[Check]:
    origin = str(request.params.get("OriginationIdentity") or "")
    # AWS names the phone number, pool or sender id resource by its id; a bare E.164 number or an id is not an
    # ARN the runtime can build (the number's id is AWS's), so only an ARN is checked as a resource.
    return [Check(action, origin if origin.startswith("arn:") else None)]


_RESOLVERS: dict[str, Callable[[Request, str], list[Check]]] = {
    "dynamodb": _dynamodb_checks,
    "events": _events_checks,
    "states": _states_checks,
    "lambda": _lambda_checks,
    "sns": _sns_checks,
    "ses": _ses_checks,
    "secretsmanager": _secretsmanager_checks,
    "monitoring": _cloudwatch_checks,
    "sms-voice": _sms_voice_checks,
}


# -- denials ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Denial:
    principal: str
    action: str
    resource: str | None
    reason: str

    def message(self) -> str:
        """AWS's wording of an AccessDenied."""
        on = f" on resource: {self.resource}" if self.resource else ""
        return f"User: {self.principal} is not authorized to perform: {self.action}{on} ({self.reason})"


@dataclass
class Enforcement:
    """IAM enforcement for one runtime: the admin identity, the roles' credentials and what was refused."""

    account: str
    region: str
    denials: list[Denial] = field(default_factory=list)
    _credentials: dict[str, Any] = field(default_factory=dict)  # role ARN -> moto AssumedRole
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def role_credentials(self, role_arn: str) -> dict[str, str]:
        """The environment variables of a function running as ``role_arn``: AssumeRole once per role, again
        when the credentials are within :data:`RENEW_BEFORE_S` of expiring."""
        from moto.sts.models import sts_backends
        from moto.utilities.utils import get_partition

        with self._lock:
            assumed = self._credentials.get(role_arn)
            now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)  # moto keeps naive UTC
            if assumed is None or (assumed.expiration - now).total_seconds() < RENEW_BEFORE_S:
                backend = sts_backends[self.account][get_partition(self.region)]
                assumed = backend.assume_role(
                    region_name=self.region,
                    role_session_name=role_arn.rsplit("/", 1)[-1][:64],
                    role_arn=role_arn,
                    policy="",
                    duration=ROLE_SESSION_SECONDS,
                    external_id="",
                )
                self._credentials[role_arn] = assumed
        return {
            "AWS_ACCESS_KEY_ID": assumed.access_key_id,
            "AWS_SECRET_ACCESS_KEY": assumed.secret_access_key,
            "AWS_SESSION_TOKEN": assumed.session_token,
        }

    def refused(self, denial: Denial) -> None:
        with self._lock:
            self.denials.append(denial)
            del self.denials[:-1000]  # the latest thousand: a loop of refusals does not grow without end
        log.warning(
            "AccessDenied: %s may not %s on %s (%s)",
            denial.principal,
            denial.action,
            denial.resource or "(a resource the runtime cannot name)",
            denial.reason,
        )


_active: Enforcement | None = None
_saved: tuple[float, int] | None = None


def active() -> Enforcement | None:
    return _active


def enable(account: str, region: str) -> Enforcement:
    """Create the admin user, then authorize every request from now on (process-wide: moto's backends are)."""
    global _active, _saved
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    _install_evaluator()
    _install_sms_voice_check()
    backend = iam_backends[account][get_partition(region)]
    for user, keys in ((ADMIN_USER, ADMIN_KEYS), (SERVICES_USER, SERVICES_KEYS)):
        if user in backend.users:
            continue
        backend.create_user(region, user)
        backend.put_user_policy(
            user,
            "everything",
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        )
        key = backend.create_access_key(user)
        backend.access_keys.pop(key.physical_resource_id, None)
        key.access_key_id, key.secret_access_key = keys
        backend.access_keys[key.physical_resource_id] = key
    if _saved is None:
        _saved = (settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    _active = Enforcement(account, region)
    return _active


def disable() -> None:
    """Back to moto's default (no authorization), as before :func:`enable`."""
    global _active, _saved
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    if _saved is not None:
        settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = _saved
        _saved = None
    _active = None


def principal_policies(access_key_id: str, account: str, region: str) -> tuple[str, list[str]] | None:
    """The caller who signs with ``access_key_id`` (its ARN) and its identity policy documents; None if no one."""
    from moto.iam.access_control import AssumedRoleAccessKey, IAMUserAccessKey
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    assumed = [role for role in sts_backends[account][partition].assumed_roles if role.access_key_id == access_key_id]
    try:
        if assumed:
            caller: Any = AssumedRoleAccessKey(
                account, partition, access_key_id, {"X-Amz-Security-Token": assumed[0].session_token}
            )
        else:
            caller = IAMUserAccessKey(account, partition, access_key_id, {})
    except Exception:  # moto's CreateAccessKeyFailure: no user or role session has this key
        return None
    return caller.arn, [_document(policy) for policy in caller.collect_policies()]


def _document(policy: Any) -> str:
    from moto.iam.models import Policy

    if isinstance(policy, Policy):
        return str(next(version.document for version in policy.versions if version.is_default))
    if isinstance(policy, str):
        return policy
    return str(policy["policy_document"])


def authorize(caller_arn: str, documents: list[str], request: Request) -> Denial | None:
    """Authorize ``request`` for the caller; the first refusal, or None when every check is allowed."""
    for check in request_checks(request):
        decision = evaluate(documents, check)
        if not decision.allowed:
            denial = Denial(caller_arn, check.action, check.resource, decision.reason)
            if _active is not None:
                _active.refused(denial)
            return denial
        if decision.unchecked:
            log.debug(
                "%s %s on %s: conditions not checked locally: %s",
                caller_arn,
                check.action,
                check.resource,
                ", ".join(decision.unchecked),
            )
    return None


# -- the seam in moto -------------------------------------------------------------------------------------
_evaluator_installed = False


def _install_evaluator() -> None:
    """Replace moto's policy check (IAMRequestBase.check_action_permitted) with :func:`authorize`; moto still
    checks the signature and finds the caller first, and a role's trust policy for AssumeRole."""
    global _evaluator_installed
    if _evaluator_installed:
        return
    from moto.iam import access_control

    base = access_control.IAMRequestBase
    for name in (
        "check_action_permitted",
        "check_signature",
        "_raise_access_denied",
        "_is_assuming_role_operation",
        "_check_role_trust_relationship",
    ):
        if not hasattr(base, name):
            raise RuntimeError(f"moto changed: IAMRequestBase.{name} is gone; IAM enforcement needs it")

    def check_action_permitted(self: Any, resource: str) -> None:
        if self._action == "sts:GetCallerIdentity":  # always allowed on AWS, whatever the policies say
            return
        caller = self._access_key
        documents = [_document(policy) for policy in caller.collect_policies()]
        request = Request(
            service=self._service,
            action=self._action,
            region=self._region,
            account=self.account_id,
            path=self._path,
            params=request_params(self._body, self._data),
            moto_resource=resource,
        )
        denial = authorize(caller.arn, documents, request)
        if denial is not None:
            _raise_as_the_service_does(self, denial)
        if self._is_assuming_role_operation(resource) and not self._check_role_trust_relationship(resource):
            self._raise_access_denied()

    def check_signature(self: Any) -> None:
        """Not verified: the access key (and a session's token, which moto does check) name the caller, which is
        all authorization needs here. moto recomputes signatures from a reconstruction of the request that does
        not match botocore's for some REST calls (a Lambda GET answers SignatureDoesNotMatch), and hashing every
        body again costs time on every call."""

    base.check_action_permitted = check_action_permitted  # type: ignore[method-assign]
    base.check_signature = check_signature  # type: ignore[method-assign]
    _evaluator_installed = True


# Services whose SDKs read JSON errors: AWS answers them AccessDeniedException (400 for the JSON protocols, 403 for
# REST-JSON); moto's own AccessDenied is XML, which their SDKs cannot parse (the code would read "403").
_JSON_DENIAL_STATUS = {
    "dynamodb": 400,
    "events": 400,
    "states": 400,
    "secretsmanager": 400,
    "logs": 400,
    "kms": 400,
    "sqs": 400,
    "monitoring": 400,
    "lambda": 403,
    "scheduler": 403,
}


def _raise_as_the_service_does(moto_request: Any, denial: Denial) -> None:
    from moto.core.exceptions import JsonRESTError

    service = moto_request._service
    status = _JSON_DENIAL_STATUS.get(service)
    if service == "ses" and str(moto_request._path).startswith("/v2/"):
        status = 403  # SES v2 is REST-JSON; v1 (query) keeps moto's XML AccessDenied
    if status is None:
        moto_request._raise_access_denied()
        return
    error = JsonRESTError("AccessDeniedException", denial.message())
    error.code = status  # moto's error takes no status; werkzeug reads this one
    raise error


def _install_sms_voice_check() -> None:
    """The local End User Messaging (sms_voice.py) is not moto: authorize its requests here, as AWS would."""
    from siren_local.sms_voice import TARGET_PREFIX, SmsVoiceFake

    if getattr(SmsVoiceFake.handle, "_siren_iam", False):
        return
    original = SmsVoiceFake.handle

    def handle(self: SmsVoiceFake, headers: Any, body: bytes | str | None) -> tuple[int, dict[str, str], str]:
        if _active is not None:
            operation = self._target(headers)[len(TARGET_PREFIX) :]
            plain = {str(k): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in dict(headers).items()}
            denial = authorize_signed(plain, "sms-voice", operation, request_params(body, None))
            if denial is not None:
                return self._error(400, "AccessDeniedException", denial.message())
        return original(self, headers, body)

    handle._siren_iam = True  # type: ignore[attr-defined]
    SmsVoiceFake.handle = handle  # type: ignore[method-assign]


def authorize_signed(
    headers: Mapping[str, str], service: str, operation: str, params: Mapping[str, Any]
) -> Denial | None:
    """Authorize a request that does not pass through moto (the local End User Messaging): the caller is found
    by the access key of its signature (the signature itself is not checked here). A call without a signature is
    the runtime's or a test's own, made directly, and is not authorized."""
    enforcement = _active
    if enforcement is None:
        return None
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scope = authorization.partition("Credential=")[2].partition(",")[0].split("/")
    if len(scope) < 4:
        return None  # not an SDK's request (the runtime or a test calling the fake directly): nobody to authorize
    found = principal_policies(scope[0], enforcement.account, scope[2])
    if found is None:
        denial = Denial(f"(access key {scope[0]})", f"{service}:{operation}", None, "no such access key")
        enforcement.refused(denial)
        return denial
    caller, documents = found
    request = Request(service, f"{service}:{operation}", scope[2], enforcement.account, "/", params, "*")
    return authorize(caller, documents, request)


# -- the credentials a client signs with --------------------------------------------------------------------
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def _current_keys() -> tuple[str, str, str | None]:
    """The running function's keys (its environment overlay) when one runs in this thread, else the process's."""
    import os

    from siren.settings import environment_overlay

    overlay = environment_overlay()
    source: Mapping[str, str] = overlay if overlay is not None and "AWS_ACCESS_KEY_ID" in overlay else os.environ
    if source is not overlay:
        from siren_local.environ import FunctionAwareEnviron

        if isinstance(os.environ, FunctionAwareEnviron):
            source = os.environ.process_environ
    return source.get("AWS_ACCESS_KEY_ID", ""), source.get("AWS_SECRET_ACCESS_KEY", ""), source.get("AWS_SESSION_TOKEN")


def _function_aware_credentials() -> Any:
    from botocore.credentials import Credentials, ReadOnlyCredentials

    class FunctionAwareCredentials(Credentials):  # type: ignore[misc]  # botocore is untyped
        """Credentials found in the environment, read again for every request: a client cached by one function
        signs the next function's requests with that function's role, as separate processes on AWS would. The
        keys found when the client was made stand in once the environment has none."""

        def __init__(self, found: Any) -> None:
            self.method = "env"
            self.account_id = None
            self._found = (found.access_key, found.secret_key, found.token)

        def _keys(self) -> tuple[str, str, str | None]:
            keys = _current_keys()
            return keys if keys[0] else self._found

        @property
        def access_key(self) -> str:
            return self._keys()[0]

        @property
        def secret_key(self) -> str:
            return self._keys()[1]

        @property
        def token(self) -> str | None:
            return self._keys()[2]

        def get_frozen_credentials(self) -> ReadOnlyCredentials:
            return ReadOnlyCredentials(*self._keys(), None)

    return FunctionAwareCredentials


_credentials_installed = False


def install_credentials() -> None:
    """Clients of this process that take their keys from the environment read them per request (see above)."""
    global _credentials_installed
    if _credentials_installed:
        return
    from botocore.credentials import EnvProvider

    original = EnvProvider.load
    credentials_class = _function_aware_credentials()

    def load(self: Any) -> Any:
        found = original(self)
        if found is None or getattr(found, "method", None) != "env" or type(found).__name__ != "Credentials":
            return found  # none in the environment, or refreshable ones (AWS_CREDENTIAL_EXPIRATION): left as is
        return credentials_class(found)

    EnvProvider.load = load
    _credentials_installed = True
