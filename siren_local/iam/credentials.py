"""Which credentials a client signs with: on AWS each function has a process of its own; here all share one and
clients are cached process-wide, so a client that found its keys in the environment reads them again for every
request and signs with the keys of the function running *now*."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from siren.settings import environment_overlay
from siren_local.environ import FunctionAwareEnviron

_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def _current_keys() -> tuple[str, str, str | None]:
    """The running function's keys (its environment overlay) when one runs in this thread, else the process's."""
    overlay = environment_overlay()
    source: Mapping[str, str] = overlay if overlay is not None and "AWS_ACCESS_KEY_ID" in overlay else os.environ
    if source is not overlay and isinstance(os.environ, FunctionAwareEnviron):
        source = os.environ.process_environ
    return source.get("AWS_ACCESS_KEY_ID", ""), source.get("AWS_SECRET_ACCESS_KEY", ""), source.get("AWS_SESSION_TOKEN")


def _function_aware_credentials() -> Any:
    from botocore.credentials import Credentials, ReadOnlyCredentials

    class FunctionAwareCredentials(Credentials):  # type: ignore[misc]  # botocore is untyped
        """Credentials found in the environment, read again for every request: a client cached by one function
        signs the next function's requests with that function's role, as separate processes on AWS would. The
        keys found when the client was made stand in once the environment has none."""

        def __init__(self, found: Any) -> None:
            self.method = "env"
            self.account_id = None
            self._found = (found.access_key, found.secret_key, found.token)

        def _keys(self) -> tuple[str, str, str | None]:
            keys = _current_keys()
            return keys if keys[0] else self._found

        @property
        def access_key(self) -> str:
            return self._keys()[0]

        @property
        def secret_key(self) -> str:
            return self._keys()[1]

        @property
        def token(self) -> str | None:
            return self._keys()[2]

        def get_frozen_credentials(self) -> ReadOnlyCredentials:
            return ReadOnlyCredentials(*self._keys(), None)

    return FunctionAwareCredentials


_credentials_installed = False


def install_credentials() -> None:
    """Clients of this process that take their keys from the environment read them per request (see above)."""
    global _credentials_installed
    if _credentials_installed:
        return
    from botocore.credentials import EnvProvider

    original = EnvProvider.load
    credentials_class = _function_aware_credentials()

    def load(self: Any) -> Any:
        found = original(self)
        if found is None or getattr(found, "method", None) != "env" or type(found).__name__ != "Credentials":
            return found  # none in the environment, or refreshable ones (AWS_CREDENTIAL_EXPIRATION): left as is
        return credentials_class(found)

    EnvProvider.load = load
    _credentials_installed = True
