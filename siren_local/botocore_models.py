"""One botocore data loader for the whole process: each service's JSON model read from disk once.

botocore reads a service's model (hundreds of KB of JSON) once per session, and boto3 makes a new session for
every ``boto3.session.Session()``. On AWS that is once per function container. The embedded local AWS runs every
function of every runtime it starts, the tests' and the CLI's clients, in one process: each runtime's functions,
each test's client and each new session read the same files again (measured: six clients 350-540 ms with a
loader each, 45 ms sharing one). The models are read-only data, and one session already shares its loader's
cache between all its clients, so sharing it between sessions changes nothing but the time.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.Lock()
_installed = False


def share_one_loader() -> None:
    """From now on every new botocore session of this process uses one loader per data path. Idempotent."""
    global _installed
    import botocore.loaders
    import botocore.session

    with _lock:
        if _installed:
            return
        if getattr(botocore.session, "create_loader", None) is not botocore.loaders.create_loader:
            raise RuntimeError("botocore changed: botocore.session.create_loader is not botocore.loaders.create_loader")
        create_loader: Any = botocore.loaders.create_loader
        shared = functools.lru_cache(maxsize=None)(create_loader)
        botocore.session.create_loader = shared
        _installed = True
