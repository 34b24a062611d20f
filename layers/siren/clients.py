"""Lazily created, cached AWS clients.

No client is created at import time (it costs cold-start time and pins the endpoint too early). Clients are
cached per service, region and endpoint so that the embedded local AWS and tests can point the same process
at different endpoints without a stale client.

They are botocore's clients, made by a botocore session: boto3 adds resources and S3's transfer manager, which
Siren does not use, and its import (s3transfer, boto3's resource factory) on top of botocore's, which PynamoDB
needs anyway. Every client call is the same; :func:`new_client` is the one place a client is made.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import botocore.session
from botocore.config import Config

# 16 connections: the status publisher writes a stage's objects 16 at a time (adapters/status_bucket.py); botocore's
# default pool of 10 would hold the other 6 back. Connections are opened on demand, so other clients pay nothing.
_RETRIES = Config(
    retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=3, read_timeout=10, max_pool_connections=16
)
# Paging falls back to another channel when one fails: fail fast there instead of retrying for seconds.
_FAST_FAIL = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=5)
# botocore's standard retry mode waits at most 1 s before its first retry (a random share of base 1 s, doubled later).
_FIRST_RETRY_WAIT_SECONDS = 1


def paging_call_budget_seconds() -> int:
    """The longest one paging provider call can take, retries included (connect and read timing out every time):
    what the page function's timeout is sized from (infra/components/escalation.py)."""
    attempts = int(_FAST_FAIL.retries["max_attempts"])
    per_attempt = int(_FAST_FAIL.connect_timeout) + int(_FAST_FAIL.read_timeout)
    return attempts * per_attempt + sum(int(_FIRST_RETRY_WAIT_SECONDS * 2**n) for n in range(attempts - 1))


def paging_client(service: str) -> Any:
    """A client for sending pages (End User Messaging, SNS SMS, SES): fails fast, within
    :func:`paging_call_budget_seconds`, so that a hung provider leaves time for the fallback and the next channel."""
    return cached_paging_client(service, region_name(), endpoint_url())


@functools.cache
def cached_paging_client(service: str, region: str, endpoint: str | None) -> Any:
    return new_client(service, region, endpoint, _FAST_FAIL)


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
    return new_client(service, region, endpoint, _RETRIES)


def new_client(service: str, region: str, endpoint: str | None, config: Config) -> Any:
    """A client of its own session: a session is not thread-safe to create clients from, and the embedded local AWS
    runs functions on several threads."""
    return botocore.session.Session().create_client(service, region_name=region, endpoint_url=endpoint, config=config)
