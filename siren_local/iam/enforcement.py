"""Enforcing IAM for one runtime: the identities its own calls sign as, each role's session credentials, the
authorization of every request (moto's policy check replaced, the local End User Messaging checked here) and
the record of what was refused."""

from __future__ import annotations

import datetime
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from siren_local.iam.actions import Request, request_checks, request_params
from siren_local.iam.policy import evaluate
from siren_local.patching import patch_once
from siren_local.sms_voice import TARGET_PREFIX, SmsVoiceFake

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
    patch_once("iam: sms-voice", SmsVoiceFake, "handle", _authorizing_handle)


def _authorizing_handle(original: Callable[..., Any]) -> Callable[..., Any]:
    def handle(self: SmsVoiceFake, headers: Any, body: bytes | str | None) -> tuple[int, dict[str, str], str]:
        if _active is not None:
            operation = self._target(headers)[len(TARGET_PREFIX) :]
            plain = {str(k): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in dict(headers).items()}
            denial = authorize_signed(plain, "sms-voice", operation, request_params(body, None))
            if denial is not None:
                return self._error(400, "AccessDeniedException", denial.message())
        result: tuple[int, dict[str, str], str] = original(self, headers, body)
        return result

    return handle


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
