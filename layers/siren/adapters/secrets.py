"""Secrets from Secrets Manager, cached briefly so a rotation takes effect within minutes."""

from __future__ import annotations

import threading
import time

from siren.clients import client

_CACHE_SECONDS = 300.0
_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def secret_string(secret_id: str) -> str:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(secret_id)
        if cached and now - cached[0] < _CACHE_SECONDS:
            return cached[1]
    value: str = client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    with _lock:
        _cache[secret_id] = (now, value)
    return value


def forget() -> None:
    """Drop every cached secret (see siren.bootstrap.forget_built)."""
    with _lock:
        _cache.clear()
