"""The browser harness itself: screenshots come out at the right size, and axe really runs.

Two static pages are served from a temporary directory: an accessible one, and a broken one (an image without
alt text, low-contrast text, a script and a too-wide element) whose faults the harness must report. The broken
one is served a second time with the status site's security headers: the browser enforces its CSP, and the
harness must report each inline style and script the policy refuses.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from siren_local.status_headers import status_page_headers
from tests.browser.harness import inspect_page

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

GOOD = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <link rel="icon" href="data:,">
  <title>Status: all systems operational</title>
  <style>
    body { font-family: sans-serif; margin: 0; color: #1a1a1a; background: #fff; }
    main { max-width: 48rem; margin: 0 auto; padding: 1rem; }
    .ok { color: #0b6b2b; }
    @media (prefers-color-scheme: dark) {
      body { color: #f0f0f0; background: #121212; }
      .ok { color: #7ee29c; }
    }
  </style>
</head>
<body>
  <header><p>Example service status</p></header>
  <main>
    <h1>All systems operational</h1>
    <p class="ok">Every component is working normally.</p>
    <img src="dot.svg" alt="Green status light" width="16" height="16">
    <ul><li>API: operational</li><li>Website: operational</li></ul>
  </main>
  <footer><p>Updated 2025-01-01 12:00 UTC</p></footer>
</body>
</html>
"""

DOT = """<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16">
  <circle cx="8" cy="8" r="8" fill="#0b6b2b"/>
</svg>
"""

BROKEN = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="data:,">
  <title>Broken status</title>
</head>
<body>
  <main>
    <h1>Status</h1>
    <img src="dot.svg" width="16" height="16">
    <p style="color: #bbbbbb; background: #ffffff">Low contrast text nobody can read.</p>
    <div style="width: 600px">Too wide for a phone.</div>
  </main>
  <script>document.title = "Broken status page";</script>
</body>
</html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        if self.path.startswith("/csp/"):
            for name, value in status_page_headers().items():
                self.send_header(name, value)
        super().end_headers()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("site")
    (root / "good.html").write_text(GOOD)
    (root / "broken.html").write_text(BROKEN)
    (root / "dot.svg").write_text(DOT)
    (root / "csp").mkdir()
    (root / "csp" / "broken.html").write_text(BROKEN)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def good(site: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return inspect_page(f"{site}/good.html", tmp_path_factory.mktemp("good-shots"))


@pytest.fixture(scope="module")
def broken(site: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return inspect_page(f"{site}/broken.html", tmp_path_factory.mktemp("broken-shots"), name="broken")


@pytest.fixture(scope="module")
def enforced(site: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return inspect_page(f"{site}/csp/broken.html", tmp_path_factory.mktemp("csp-shots"), name="csp")


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_screenshots_are_pngs_of_each_viewport_and_scheme(good: dict[str, Any]) -> None:
    shots = {Path(shot).name: Path(shot) for shot in good["screenshots"]}
    expected_widths = {"phone": 375 * 2, "desktop": 1280}
    schemes = ("light", "dark")
    assert set(shots) == {f"status-{viewport}-{scheme}.png" for viewport in expected_widths for scheme in schemes}
    for name, shot in shots.items():
        width, height = png_size(shot)
        viewport = name.split("-")[1]
        assert width == expected_widths[viewport], name
        assert height >= {"phone": 812 * 2, "desktop": 900}[viewport], name


def test_accessible_page_passes(good: dict[str, Any]) -> None:
    serious = [v for v in good["violations"] if v["impact"] in {"serious", "critical"}]
    assert serious == []
    assert good["scripts"] == 0
    assert good["overflow"]["phone"] == 0
    assert good["console_errors"] == []


def test_broken_page_faults_are_reported(broken: dict[str, Any]) -> None:
    ids = {v["id"] for v in broken["violations"]}
    assert "image-alt" in ids, broken["violations"]
    assert "color-contrast" in ids, broken["violations"]
    image_alt = [v for v in broken["violations"] if v["id"] == "image-alt"]
    assert {(v["viewport"], v["scheme"]) for v in image_alt} == {
        (viewport, scheme) for viewport in ("phone", "desktop") for scheme in ("light", "dark")
    }
    assert all(v["impact"] == "critical" and v["nodes"] == 1 for v in image_alt)
    assert broken["scripts"] == 1
    assert broken["overflow"]["phone"] > 0
    assert broken["overflow"]["desktop"] == 0


def test_csp_violations_and_security_headers_are_reported(good: dict[str, Any], enforced: dict[str, Any]) -> None:
    assert good["csp_violations"] == [] and good["headers"] == {}
    assert enforced["headers"] == {name.lower(): value for name, value in status_page_headers().items()}
    directives = {entry.split(": ", 1)[1].split(" blocked ")[0] for entry in enforced["csp_violations"]}
    # The style attributes, the inline <script> and the image from the page's own origin (img-src is data: only).
    assert {"style-src-attr", "script-src-elem", "img-src"} <= directives, enforced["csp_violations"]
    assert all(
        f"{viewport}/{scheme}: " in " ".join(enforced["csp_violations"])
        for viewport in ("phone", "desktop")
        for scheme in ("light", "dark")
    )
