"""Secrets Siren generates itself (signing keys, bearer tokens): random, and rotated by replacing the value."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import acknowledge


def generated_secret(
    scope: Construct, construct_id: str, *, description: str, length: int, why_not_rotated: str
) -> secretsmanager.Secret:
    """A random secret of ``length`` letters and digits. No rotation Lambda (cdk-nag's SMG4 is acknowledged with
    ``why_not_rotated``): whoever holds the value could not follow a scheduled rotation."""
    secret = secretsmanager.Secret(
        scope,
        construct_id,
        description=description,
        generate_secret_string=secretsmanager.SecretStringGenerator(password_length=length, exclude_punctuation=True),
    )
    acknowledge(secret, "AwsSolutions-SMG4", why_not_rotated)
    return secret
