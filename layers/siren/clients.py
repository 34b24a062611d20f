"""Lazily created, cached AWS clients.

No client is created at import time (it costs cold-start time and pins the endpoint too early). Clients are
cached per service, region and endpoint so that the embedded local AWS and tests can point the same process
at different endpoints without a stale client.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=3, read_timeout=10)
# Paging falls back to another channel when one fails: fail fast there instead of retrying for seconds.
_FAST_FAIL = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=5)
_FAST_FAIL_SERVICES = frozenset({"pinpoint-sms-voice-v2"})


def endpoint_url() -> str | None:
    """The endpoint override in force (the embedded local AWS sets ``AWS_ENDPOINT_URL``), if any."""
    from siren.settings import environment

    return environment().get("AWS_ENDPOINT_URL") or None


def region_name() -> str:
    from siren.settings import environment

    env = environment()
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def client(service: str) -> Any:
    """A boto3 client for ``service`` in the current region and endpoint."""
    return cached_client(service, region_name(), endpoint_url())


@functools.cache
def cached_client(service: str, region: str, endpoint: str | None) -> Any:
    config = _FAST_FAIL if service in _FAST_FAIL_SERVICES else _RETRIES
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint, config=config)
