"""What a request asks for: the IAM action, the resources it touches and the condition keys the runtime can
know, worked out per service from the request moto (or the local End User Messaging) received."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from siren_local.iam.policy import Check, as_list

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
        return [Check(action, "*", {"cloudwatch:namespace": as_list(request.params.get("Namespace"))})]
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
