"""Per-function environment variables for any code, not just Siren's.

Handlers of different functions run concurrently in this one process, but Lambda code (boto3, PynamoDB,
Powertools, a user's handler) reads ``os.environ``. :class:`FunctionAwareEnviron` replaces ``os.environ`` with
a mapping that answers from the running function's variables first (a context variable set by the in-process
Lambda runtime for the duration of one invocation), then from the process. Writes go to the process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from typing import Any

from siren.settings import environment_overlay


class FunctionAwareEnviron(MutableMapping[str, str]):
    def __init__(self, process_environ: MutableMapping[str, str]) -> None:
        self.process_environ = process_environ

    def __getitem__(self, key: str) -> str:
        overlay = environment_overlay()
        if overlay is not None and key in overlay:
            return overlay[key]
        return self.process_environ[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.process_environ[key] = value

    def __delitem__(self, key: str) -> None:
        del self.process_environ[key]

    def __iter__(self) -> Iterator[str]:
        overlay = environment_overlay() or {}
        yield from overlay
        yield from (key for key in self.process_environ if key not in overlay)

    def __len__(self) -> int:
        overlay = environment_overlay() or {}
        return len(overlay) + sum(1 for key in self.process_environ if key not in overlay)

    def copy(self) -> dict[str, str]:
        return dict(self)

    def __getattr__(self, name: str) -> Any:
        # os._Environ extras some libraries use (encodekey, ...): the process environ's.
        return getattr(self.process_environ, name)


def install() -> None:
    if not isinstance(os.environ, FunctionAwareEnviron):
        # Replacing the binding (not clearing it) is the point: the process environ lives on inside.
        os.environ = FunctionAwareEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003
