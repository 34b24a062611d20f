"""A real Prometheus Alertmanager for end-to-end tests: Debian's ``prometheus-alertmanager``, unpacked into a cache
directory (no service is installed or started), run on a free loopback port with a configuration that sends every
group to Siren's local webhook.

``ensure_alertmanager()`` finds the binary (installed system-wide, or unpacked before) or fetches the package with
``apt-get download`` and unpacks it with ``dpkg -x`` under a file lock, so concurrent test processes fetch it once;
``python -m tests.alertmanager_harness`` does the same (``make alertmanager-tools``). Debian's build reads its
notification templates from a fixed path, ``/usr/share/prometheus/alertmanager``: the package's templates are copied
there (as root, the way the browser tier installs Chromium) when they are not there yet. :class:`RunningAlertmanager`
starts one (alerts pushed through its v2 API, ``POST /api/v2/alerts``) and stops it, whatever happens.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "prometheus-alertmanager"
SYSTEM_BINARY = Path("/usr/bin/prometheus-alertmanager")
CACHE_DIR = Path(os.environ.get("SIREN_ALERTMANAGER_CACHE", Path.home() / ".cache" / "siren-alertmanager"))
UNPACKED_BINARY = CACHE_DIR / "root" / "usr" / "bin" / "prometheus-alertmanager"
# Where Debian's build looks for default.tmpl (compiled in), and where the package keeps it.
TEMPLATES = Path("/usr/share/prometheus/alertmanager")
UNPACKED_TEMPLATES = CACHE_DIR / "root" / "usr" / "share" / "prometheus" / "alertmanager"
APT_TIMEOUT_S = 600
READY_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10
_OUTPUT_TAIL = 3000


class AlertmanagerSetupError(RuntimeError):
    """Alertmanager could not be installed or started: the message says what to do."""


def _run(what: str, argv: list[str], cwd: Path | None = None) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AlertmanagerSetupError(f"{what}: `{' '.join(argv)}` failed: {error}") from error
    if done.returncode != 0:
        raise AlertmanagerSetupError(
            f"{what}: `{' '.join(argv)}` exited {done.returncode}:\n{(done.stdout + done.stderr)[-_OUTPUT_TAIL:]}"
        )


@contextmanager
def _install_lock() -> Iterator[None]:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _download_and_unpack() -> None:
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise AlertmanagerSetupError(f"{PACKAGE} is not installed and this is not a Debian system (no apt-get/dpkg)")
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as staging:
        where = Path(staging)
        try:
            _run(f"downloading {PACKAGE}", ["apt-get", "download", "-qq", PACKAGE], cwd=where)
        except AlertmanagerSetupError:
            if os.geteuid() != 0:
                raise
            # A fresh machine may have no package lists yet: read them, then try once more.
            _run("apt-get update", ["apt-get", "update", "-qq"])
            _run(f"downloading {PACKAGE}", ["apt-get", "download", "-qq", PACKAGE], cwd=where)
        (deb,) = where.glob(f"{PACKAGE}_*.deb")
        unpacked = where / "root"
        _run(f"unpacking {deb.name}", ["dpkg", "-x", str(deb), str(unpacked)])
        target = CACHE_DIR / "root"
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)


@functools.cache
def ensure_alertmanager() -> Path:
    """The Alertmanager binary, fetched and unpacked (and its templates placed) if it is not there yet."""
    if SYSTEM_BINARY.exists():
        return SYSTEM_BINARY
    with _install_lock():
        if not UNPACKED_BINARY.exists():
            _download_and_unpack()
        if not UNPACKED_BINARY.exists():
            raise AlertmanagerSetupError(f"{PACKAGE} was unpacked but {UNPACKED_BINARY} is missing")
        _place_templates()
    _run("checking the binary", [str(UNPACKED_BINARY), "--version"])
    return UNPACKED_BINARY


def _place_templates() -> None:
    """Copy the package's templates to the path the binary reads them from (the package's own files only)."""
    if (TEMPLATES / "default.tmpl").exists():
        return
    if os.geteuid() != 0:
        raise AlertmanagerSetupError(
            f"Debian's Alertmanager reads its templates from {TEMPLATES}, which is missing: run "
            f"`sudo {Path(sys.executable).name} -m tests.alertmanager_harness` once (or install {PACKAGE})"
        )
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    for template in sorted(UNPACKED_TEMPLATES.glob("*.tmpl")):
        shutil.copy2(template, TEMPLATES / template.name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_config(
    webhook_url: str, token: str, *, group_wait: str = "1s", group_interval: str = "5s", group_by: Sequence[str]
) -> dict[str, Any]:
    """Alertmanager's configuration: every alert to Siren's webhook, grouped by ``group_by``, resolves included.

    Alertmanager gives a notification max(group_interval, 10 s) to complete; Siren answers a large group at once
    (its chunks are queued, as on AWS), so a short group_interval keeps the test quick: a resolve waits at most that.
    """
    return {
        "route": {
            "receiver": "siren",
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": "4h",
        },
        "receivers": [
            {
                "name": "siren",
                "webhook_configs": [
                    {
                        "url": webhook_url,
                        "send_resolved": True,
                        "max_alerts": 0,
                        "http_config": {"authorization": {"type": "Bearer", "credentials": token}},
                    }
                ],
            }
        ],
    }


@dataclass
class RunningAlertmanager:
    """One Alertmanager process, on a loopback port, with its own storage directory."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """Alerts in, as Prometheus sends them (``POST /api/v2/alerts``)."""
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(list(alerts)).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"Alertmanager refused the alerts: {error.code} {error.read()[:500]!r}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-_OUTPUT_TAIL:]


@contextmanager
def running_alertmanager(config: Mapping[str, Any]) -> Iterator[RunningAlertmanager]:
    """Start Alertmanager with ``config`` (clustering off: no gossip port), wait until it is ready, stop it after."""
    binary = ensure_alertmanager()
    with tempfile.TemporaryDirectory(prefix="siren-alertmanager-") as scratch:
        home = Path(scratch)
        (home / "alertmanager.yml").write_text(json.dumps(config))  # JSON is YAML
        port = _free_port()
        log_path = home / "alertmanager.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(binary),
                    f"--config.file={home / 'alertmanager.yml'}",
                    f"--storage.path={home / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",
                    "--log.level=info",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=home,
            )
        running = RunningAlertmanager(f"http://127.0.0.1:{port}", process, log_path)
        try:
            _wait_ready(running)
            yield running
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)


def _wait_ready(running: RunningAlertmanager) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise AlertmanagerSetupError(f"Alertmanager exited {running.process.returncode}:\n{running.log()}")
        try:
            with urllib.request.urlopen(f"{running.url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise AlertmanagerSetupError(f"Alertmanager was not ready within {READY_TIMEOUT_S} s:\n{running.log()}")


if __name__ == "__main__":
    print(ensure_alertmanager())
