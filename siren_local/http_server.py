"""The HTTP transport's server: werkzeug's threaded server serving moto and the runtime's own routes.

Each connection's thread is named and kept, so that ``LocalAws.stop`` can wait for them with a bound.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

log = logging.getLogger("siren.local")

SERVER_THREAD = "local-aws-server"
REQUEST_THREAD_PREFIX = "local-aws-request-"


class PortInUseError(OSError):
    pass


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``port`` now. SO_REUSEADDR, as the server itself binds: connections of a
    server that just stopped linger in TIME_WAIT for a minute and must not make the port look taken; a listening
    socket still does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def make_server(host: str, port: int, app: Any) -> Any:
    """werkzeug's threaded server, with each connection's thread named and kept, so that stopping can wait for
    them with a bound (socketserver's own close waits for them without one)."""
    from werkzeug.serving import ThreadedWSGIServer

    class LocalAwsServer(ThreadedWSGIServer):
        block_on_close = False  # LocalAws.stop waits for the connection threads itself, with a bound

        def __init__(self) -> None:
            super().__init__(host, port, app, handler=_quiet_handler())
            self._connections: set[threading.Thread] = set()
            self._connections_lock = threading.Lock()

        def process_request(self, request: Any, client_address: Any) -> None:
            thread = threading.Thread(
                target=self._serve_connection,
                args=(request, client_address),
                name=f"{REQUEST_THREAD_PREFIX}{client_address[1]}",
                daemon=True,
            )
            with self._connections_lock:
                self._connections.add(thread)
            thread.start()

        def _serve_connection(self, request: Any, client_address: Any) -> None:
            try:
                self.process_request_thread(request, client_address)
            finally:
                with self._connections_lock:
                    self._connections.discard(threading.current_thread())

        def connection_threads(self) -> list[threading.Thread]:
            with self._connections_lock:
                return [thread for thread in self._connections if thread.is_alive()]

    return LocalAwsServer()


def _quiet_handler() -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietRequestHandler(MotoRequestHandler):
        """Request lines only at debug level: ``siren local up`` shows what happens, not every HTTP call."""

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            log.debug("%s %s", self.requestline, code)

    return QuietRequestHandler
