"""Two things moto does on every stack it creates that cost time and change nothing a deploy can see.

A process that runs the test suite deploys Siren's synthesized stack dozens of times; profiled, moto's CreateStack
was half of each deploy, and most of that was two things:

- the template read with PyYAML's pure-Python loader (``Stack.parse_template``), though a synthesized template
  is JSON: about 0.3 s for Siren's. A template that parses as JSON is read as JSON, as CloudFormation does; any
  other (YAML, with its ``!Ref`` tags) still goes to moto's reader.
- an RSA-2048 private key generated for every KMS key (``moto.kms.models.generate_private_key``), the symmetric
  ones included, which never sign (the stack's keys and DynamoDB's default key: about 0.1 s each). For symmetric
  keys it is made on first use instead (moto's Sign, Verify and GetPublicKey still find one); asymmetric keys, made
  to sign, get theirs at once as before.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from siren_local.patching import patch_once, require_moto


def install() -> None:
    """Idempotent: each patch is applied once per process."""
    from moto.cloudformation.models import Stack
    from moto.kms import models as kms_models

    require_moto("deploy costs", Stack, "parse_template")
    require_moto("deploy costs", kms_models, "generate_private_key")
    patch_once("cloudformation-json-templates", Stack, "parse_template", _json_first)
    patch_once("kms-private-key-on-first-use", kms_models, "generate_private_key", _on_first_use)


def _json_first(original: Callable[[str], dict[str, Any]]) -> Any:
    def parse_template(template: str) -> dict[str, Any]:
        try:
            parsed = json.loads(template)
        except (TypeError, ValueError):
            return original(template)
        return parsed if isinstance(parsed, dict) else original(template)

    return staticmethod(parse_template)


def _on_first_use(original: Callable[[str], Any]) -> Callable[[str], Any]:
    def generate_private_key(key_spec: str) -> Any:
        if key_spec not in SYMMETRIC_KEY_SPECS:
            return original(key_spec)
        return PrivateKeyOnFirstUse(key_spec, original)

    return generate_private_key


SYMMETRIC_KEY_SPECS = ("SYMMETRIC_DEFAULT", "")


class PrivateKeyOnFirstUse:
    """Stands for moto's private key of a KMS key: generated when something first asks it for anything."""

    def __init__(self, key_spec: str, generate: Callable[[str], Any]) -> None:
        self._key_spec = key_spec
        self._generate = generate
        self._key: Any = None
        self._lock = threading.Lock()  # one key, whichever thread asks first: a signature must verify with it

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._key is None:
                self._key = self._generate(self._key_spec)
        return getattr(self._key, name)
