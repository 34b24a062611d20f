"""Patching moto in place, once per process: how every adapter wraps one of moto's methods.

moto's backends are process-global and outlive a runtime, so each patch is applied once and reads the running
runtime's objects from its module (``_active``) at call time; starting another runtime only swaps those.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

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


class InProcessAnswerer(Protocol):
    def answer_request(self, request: Any) -> InProcessAnswer | None:
        """``(status, headers, body)`` for botocore's ``request``, or None to pass it on."""


def answer_in_process(patch: str, current: Callable[[], InProcessAnswerer | None]) -> None:
    """Let the answerer that ``current()`` returns (the running runtime's, read per request) answer in-process
    boto3 requests (under ``mock_aws``) before moto does."""
    from moto.core import botocore_stubber

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def process_request(self: Any, request: Any) -> Any:
            answerer = current()
            answered = None if answerer is None else answerer.answer_request(request)
            if answered is not None:
                return in_process_answer(*answered, request.url)
            return original(self, request)

        return process_request

    patch_once(patch, botocore_stubber.BotocoreStubber, "process_request", wrap)


def require_moto(adapter: str, owner: Any, *names: str) -> None:
    """Fail at once, naming what is gone, when moto no longer has what ``adapter`` patches or reads on ``owner``: a
    moto upgrade fails loudly here instead of quietly running moto's own behaviour."""
    for name in names:
        if not hasattr(owner, name):
            raise RuntimeError(f"moto changed: {owner.__name__}.{name} is gone; the {adapter} adapter needs it")
