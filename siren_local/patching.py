"""Patching moto in place, once per process: how every adapter wraps one of moto's methods.

moto's backends are process-global and outlive a runtime, so each patch is applied once and reads the running
runtime's objects from its module (``_active``) at call time; starting another runtime only swaps those.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from siren_local.service_failures import in_process_answer

Wrapper = Callable[[Callable[..., Any]], Callable[..., Any]]
InProcessAnswer = tuple[int, dict[str, str], str]

_applied: set[str] = set()
_lock = threading.Lock()


def patch_once(patch: str, owner: Any, name: str, wrap: Wrapper) -> None:
    """Replace ``owner.name`` with ``wrap(original)``, unless the patch called ``patch`` is already in place."""
    with _lock:
        if patch in _applied:
            return
        setattr(owner, name, wrap(getattr(owner, name)))
        _applied.add(patch)


def answer_in_process(patch: str, answer: Callable[[Any], InProcessAnswer | None]) -> None:
    """Let ``answer`` answer in-process boto3 requests (under ``mock_aws``) before moto does: it gets botocore's
    request and returns ``(status, headers, body)``, or None to pass the request on."""
    from moto.core import botocore_stubber

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def process_request(self: Any, request: Any) -> Any:
            answered = answer(request)
            if answered is not None:
                return in_process_answer(*answered, request.url)
            return original(self, request)

        return process_request

    patch_once(patch, botocore_stubber.BotocoreStubber, "process_request", wrap)


def require_moto(adapter: str, needed: Iterable[tuple[Any, str]]) -> None:
    """Fail at once, naming what is gone, when moto no longer has what ``adapter`` patches or reads: a moto upgrade
    fails loudly here instead of quietly running moto's own behaviour."""
    for owner, name in needed:
        if not hasattr(owner, name):
            raise RuntimeError(f"moto changed: {owner.__name__}.{name} is gone; the {adapter} adapter needs it")
