"""Siren's status API read by a real Statuspage client (arez, over HTTP): the rendered site is served as the
status bucket would serve it, and the client must parse summary.json, components.json and incidents.json.

arez crashed on Siren's summary.json while component ``created_at`` was null (it parses every timestamp).
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from siren.render.status_site import render_site
from tests.statuspage_client import read_with_arez
from tests.unit.test_status_render import RESOLVED, UNRESOLVED, snapshot


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("status-site")
    for obj in render_site(snapshot()):
        path = root / obj.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(obj.body)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=Path(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_statuspage_client_reads_the_summary_components_and_incidents(served):
    read = read_with_arez(served)
    assert (read.description, read.impact) == ("Partial System Outage", "Major")
    assert read.components == {
        "website": ("Partial Outage", datetime(2026, 11, 27, 3, 15)),  # arez drops the zone (UTC)
        "checkout-api": ("Partial Outage", datetime(2026, 11, 27, 3, 15)),
        "search": ("Operational", datetime(2026, 11, 27, 3, 15)),
    }
    assert read.groups == {"group-apis": ["checkout-api", "search"]}
    assert read.incidents == {UNRESOLVED.id: ("Identified", ["Identified", "Investigating"])}
    assert read.all_incidents == {
        UNRESOLVED.id: ("Identified", ["Identified", "Investigating"]),
        RESOLVED.id: ("Resolved", ["Resolved", "Investigating"]),
    }
    assert read.maintenances == ["Database upgrade"]
