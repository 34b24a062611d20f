"""Headless-browser harness: Debian's Chromium driven by playwright-core, with axe-core for accessibility.

`ensure_browser()` installs what is missing (Chromium and a font with apt, playwright-core and axe-core with npm
into a cache directory outside the repository) under a file lock, so concurrent test processes install once.
`inspect_page(url, out_dir)` runs `inspect_page.mjs` with node against a URL and returns its JSON report.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLAYWRIGHT_CORE_VERSION = "1.65.1"
AXE_CORE_VERSION = "4.14.1"
NPM_PACKAGES = {"playwright-core": PLAYWRIGHT_CORE_VERSION, "axe-core": AXE_CORE_VERSION}

CHROMIUM = Path("/usr/bin/chromium")
# Without any font Chromium renders no glyphs at all; DejaVu is Debian's default sans.
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
APT_PACKAGES = {CHROMIUM: "chromium", FONT: "fonts-dejavu-core"}

CACHE_DIR = Path(os.environ.get("SIREN_BROWSER_CACHE", Path.home() / ".cache" / "siren-browser-tests"))
SCRIPT = Path(__file__).with_name("inspect_page.mjs")

APT_TIMEOUT_S = 1200
NPM_TIMEOUT_S = 600
INSPECT_TIMEOUT_S = 180
_OUTPUT_TAIL = 4000


class BrowserSetupError(RuntimeError):
    """The browser tool chain could not be installed, or a page could not be inspected."""


@dataclass(frozen=True)
class BrowserTools:
    node: Path
    chromium: Path
    node_modules: Path


@contextmanager
def _install_lock(cache_dir: Path) -> Iterator[None]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(what: str, argv: list[str], timeout: float, env: dict[str, str] | None = None) -> None:
    """Runs an install step quietly; on failure raises with the command and the tail of its output."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BrowserSetupError(f"{what}: `{' '.join(argv)}` timed out after {timeout:g}s") from exc
    except OSError as exc:
        raise BrowserSetupError(f"{what}: could not run `{' '.join(argv)}`: {exc}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-_OUTPUT_TAIL:]
        raise BrowserSetupError(f"{what}: `{' '.join(argv)}` exited {done.returncode}:\n{output}")


def _ensure_apt_packages() -> None:
    missing = [package for path, package in APT_PACKAGES.items() if not path.exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        raise BrowserSetupError(f"installing {', '.join(missing)} needs root: apt-get install -y {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run("apt-get update", ["apt-get", "update", "-qq"], APT_TIMEOUT_S, env)
    _run(f"installing {', '.join(missing)}", ["apt-get", "install", "-y", "-qq", *missing], APT_TIMEOUT_S, env)
    still_missing = [str(path) for path in APT_PACKAGES if not path.exists()]
    if still_missing:
        raise BrowserSetupError(f"apt-get install succeeded but {', '.join(still_missing)} is still missing")


def _installed_version(node_modules: Path, package: str) -> str | None:
    try:
        return str(json.loads((node_modules / package / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def _ensure_npm_packages(node_modules: Path) -> None:
    if all(_installed_version(node_modules, name) == version for name, version in NPM_PACKAGES.items()):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BrowserSetupError("npm is not on PATH: the browser tests need node and npm")
    specs = [f"{name}@{version}" for name, version in NPM_PACKAGES.items()]
    prefix = node_modules.parent
    env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "npm_config_update_notifier": "false"}
    argv = [npm, "install", "--no-audit", "--no-fund", "--save-exact", "--loglevel=error", "--prefix", str(prefix)]
    _run("npm install", [*argv, *specs], NPM_TIMEOUT_S, env)
    wrong = {name: _installed_version(node_modules, name) for name in NPM_PACKAGES}
    if any(wrong[name] != version for name, version in NPM_PACKAGES.items()):
        raise BrowserSetupError(f"npm install left {wrong} in {node_modules}, wanted {NPM_PACKAGES}")


@functools.cache
def ensure_browser() -> BrowserTools:
    """Installs whatever is missing and returns the paths of node, Chromium and the npm packages' node_modules."""
    node = shutil.which("node")
    if node is None:
        raise BrowserSetupError("node is not on PATH: the browser tests need node (20 or newer) and npm")
    node_modules = CACHE_DIR / "node_modules"
    with _install_lock(CACHE_DIR):
        _ensure_apt_packages()
        _ensure_npm_packages(node_modules)
    return BrowserTools(node=Path(node), chromium=CHROMIUM, node_modules=node_modules)


def inspect_page(
    url: str,
    out_dir: Path,
    *,
    name: str = "status",
    timeout: float = INSPECT_TIMEOUT_S,
    submit_email: str | None = None,
) -> dict[str, Any]:
    """Opens `url` on a phone and a desktop viewport, in light and dark colour schemes, and reports.

    Writes `<name>-{phone,desktop}-{light,dark}.png` full-page screenshots into `out_dir` and returns
    `{"screenshots": [path, ...], "violations": [{"id", "impact", "help", "nodes", "scheme", "viewport"}, ...],
    "overflow": {"phone": px, "desktop": px}, "scripts": n, "console_errors": [text, ...],
    "csp_violations": ["phone/light: style-src-attr blocked inline (...)", ...], "headers": {name: value},
    "styled": bool, "bar_share_error": float}`, where overflow is how far the document is wider than the
    viewport, scripts counts the page's own <script> elements, violations are axe-core's for WCAG 2.0/2.1 A and AA
    and best practices, one entry per rule, scheme and viewport, csp_violations are what the page's
    Content-Security-Policy (enforced, as in any browser) refused, headers are the document's security headers,
    styled says the stylesheet applied, and bar_share_error is how far any uptime bar's width is from its days'
    share of its row. The page's CSP is enforced; axe is evaluated through the DevTools protocol, which it does
    not govern.

    With `submit_email`, the page is also opened with JavaScript disabled, its subscribe form filled in with that
    address (through the field's label) and submitted by its button; `report["subscribe"]` is `{"forms",
    "form_visible", "method", "action", "checkboxes", "console", "posted_to", "posted_body", "answer_status",
    "page_url", "heading"}` (what the form was, where the browser posted what, and the page that answered); when
    the browser sends nothing (a CSP form-action that refuses it), `posted_to` is None, `error` says so and
    `console` has Chromium's own words.
    """
    tools = ensure_browser()
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(tools.node),
        str(SCRIPT),
        f"--url={url}",
        f"--out={out_dir}",
        f"--name={name}",
        f"--chromium={tools.chromium}",
        f"--node-modules={tools.node_modules}",
        *([f"--submit-email={submit_email}"] if submit_email else []),
    ]
    env = {**os.environ, "FORCE_COLOR": "0"}
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as node:
        try:
            stdout, stderr = node.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            # SIGTERM first: playwright closes the browser it launched on SIGTERM, SIGKILL would orphan it.
            node.terminate()
            try:
                node.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                node.kill()
                node.communicate()
            raise BrowserSetupError(f"inspecting {url} timed out after {timeout:g}s") from exc
    if node.returncode != 0:
        raise BrowserSetupError(f"inspecting {url} failed (exit {node.returncode}):\n{stderr[-_OUTPUT_TAIL:]}")
    try:
        report: dict[str, Any] = json.loads(stdout)
    except ValueError as exc:
        raise BrowserSetupError(f"inspecting {url} printed no JSON report:\n{stdout[-_OUTPUT_TAIL:]}") from exc
    return report


if __name__ == "__main__":
    # `make browser-tools`: install ahead of the test run, so that `make test` spends its time on tests.
    tools = ensure_browser()
    print(f"browser tools ready: {tools.chromium}, {tools.node_modules}")
