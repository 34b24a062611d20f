"""Secrets Manager secrets from the template: moto 5.2.5's CloudFormation skips ``AWS::SecretsManager::Secret``.

:class:`Secret` creates the secret in moto's Secrets Manager backend with its ``Name``, ``Description``,
``KmsKeyId`` and ``Tags``, and a value from ``SecretString`` or ``GenerateSecretString`` (generated here as
Secrets Manager does, see :func:`generate_secret_string`). ``Ref`` is the secret's ARN, as on AWS.

Rotation schedules, target attachments and resource policies are recorded only: nothing rotates locally, no
database is attached, and moto does not enforce IAM.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from siren_local.cloudformation import LocalResource, ResourcePolicy, recorded_types

_random = secrets.SystemRandom()
MAX_PASSWORD_LENGTH = 4096


def _flag(value: Any) -> bool:
    """A CloudFormation boolean: JSON true/false, or the strings "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def random_password(
    length: int = 32,
    *,
    exclude_characters: str = "",
    exclude_numbers: bool = False,
    exclude_punctuation: bool = False,
    exclude_uppercase: bool = False,
    exclude_lowercase: bool = False,
    include_space: bool = False,
    require_each_included_type: bool = True,
) -> str:
    """A password as Secrets Manager's GetRandomPassword makes one (same defaults, same character classes).

    ``require_each_included_type`` puts at least one character of each class that is not excluded (lower case,
    upper case, digits, punctuation) at a random position; a space, when included, is never required.
    """
    if not 1 <= length <= MAX_PASSWORD_LENGTH:
        raise ValueError(f"PasswordLength must be between 1 and {MAX_PASSWORD_LENGTH}, got {length}")
    classes = [
        chars
        for excluded, chars in (
            (exclude_lowercase, string.ascii_lowercase),
            (exclude_uppercase, string.ascii_uppercase),
            (exclude_numbers, string.digits),
            (exclude_punctuation, string.punctuation),
        )
        if not excluded
    ]
    classes = [kept for kept in ("".join(c for c in chars if c not in exclude_characters) for chars in classes) if kept]
    pool = "".join(classes) + (" " if include_space and " " not in exclude_characters else "")
    if not pool:
        raise ValueError("the exclusions leave no characters to generate a password from")
    required = [_random.choice(chars) for chars in classes] if require_each_included_type else []
    if len(required) > length:
        raise ValueError(f"PasswordLength {length} is too short to include each of {len(required)} character types")
    characters = required + [_random.choice(pool) for _ in range(length - len(required))]
    _random.shuffle(characters)
    return "".join(characters)


def generate_secret_string(spec: dict[str, Any]) -> str:
    """The value of a ``GenerateSecretString`` property: a password, or a JSON object holding one."""
    password = random_password(
        int(spec.get("PasswordLength", 32)),
        exclude_characters=str(spec.get("ExcludeCharacters", "")),
        exclude_numbers=_flag(spec.get("ExcludeNumbers", False)),
        exclude_punctuation=_flag(spec.get("ExcludePunctuation", False)),
        exclude_uppercase=_flag(spec.get("ExcludeUppercase", False)),
        exclude_lowercase=_flag(spec.get("ExcludeLowercase", False)),
        include_space=_flag(spec.get("IncludeSpace", False)),
        require_each_included_type=_flag(spec.get("RequireEachIncludedType", True)),
    )
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template is None and key is None:
        return password
    if template is None or not key:
        raise ValueError("GenerateSecretString needs both SecretStringTemplate and GenerateStringKey, or neither")
    document = json.loads(template)
    if not isinstance(document, dict):
        raise ValueError("SecretStringTemplate must be a JSON object")
    document[str(key)] = password
    return json.dumps(document)


class Secret(LocalResource):
    """``AWS::SecretsManager::Secret``: created in moto's Secrets Manager backend; Ref is its ARN."""

    TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Id",)

    @staticmethod
    def _value(name: str, properties: dict[str, Any]) -> str | None:
        if "SecretString" in properties and "GenerateSecretString" in properties:
            raise ValueError(f"secret {name}: SecretString and GenerateSecretString are mutually exclusive")
        if "GenerateSecretString" in properties:
            return generate_secret_string(properties["GenerateSecretString"])
        value = properties.get("SecretString")
        return None if value is None else str(value)

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        from moto.secretsmanager.models import secretsmanager_backends

        value = cls._value(name, properties)
        backend = secretsmanager_backends[account_id][region]
        backend.create_secret(
            name=name,
            secret_string=value,
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags"),
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        arn: str = backend.describe_secret(name).arn
        return cls(arn, properties, {"Id": arn})

    @classmethod
    def update(
        cls, original: LocalResource, name: str, properties: dict[str, Any], account_id: str, region: str
    ) -> LocalResource:
        """As CloudFormation updates a secret: same secret, a new value only if the value's properties changed."""
        from moto.secretsmanager.models import secretsmanager_backends

        before = original.properties
        if properties.get("Name", before.get("Name")) != before.get("Name"):  # a new name replaces the secret
            return cls.create(name, properties, account_id, region)
        value_keys = ("SecretString", "GenerateSecretString")
        changed = any(properties.get(key) != before.get(key) for key in value_keys)
        secretsmanager_backends[account_id][region].update_secret(
            original.physical_id,
            secret_string=cls._value(name, properties) if changed else None,
            kms_key_id=properties.get("KmsKeyId"),
            description=properties.get("Description"),
        )
        return cls(original.physical_id, properties, dict(original.attributes))

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[account_id][region_name]
        try:
            backend.delete_secret(resource_name, recovery_window_in_days=None, force_delete_without_recovery=True)
        except Exception:  # already gone
            return


class SecretRecorded(LocalResource):
    """A resource about a secret that has no local effect (nothing rotates secrets locally, and there is no database
    to attach); Ref is the secret's ARN, as on AWS."""

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        return cls(str(properties.get("SecretId", name)), properties, {})


LOCAL_TYPES: tuple[type[LocalResource], ...] = (
    Secret,
    *recorded_types(
        SecretRecorded, "AWS::SecretsManager::RotationSchedule", "AWS::SecretsManager::SecretTargetAttachment"
    ),
    *recorded_types(ResourcePolicy, "AWS::SecretsManager::ResourcePolicy"),
)
