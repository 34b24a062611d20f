"""``siren local up`` as a user runs it: its own process, the synthesized stacks deployed (Siren, and its watchdog
in the second region), Ctrl-C stops it.

It deploys the run's synthesized assembly (``--assembly``) instead of synthesizing again: synthesis is the same
code as the session fixture's, and a second CDK node process beside two test workers is the suite's memory peak.
``make demo`` (CI runs it) covers the synthesizing path of the same command.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.e2e


def test_local_up_deploys_the_synthesized_stack_and_stops_cleanly_on_ctrl_c(siren_assembly):
    port = free_port()
    command = ["local", "up", "--port", str(port), "--time-scale", "60", "--assembly", str(siren_assembly)]
    process = subprocess.Popen(
        [sys.executable, "-m", "siren_cli.main", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_siren/info", timeout=2) as response:
                    info = json.loads(response.read())
                if info["outputs"] and info.get("watchdog"):  # both stacks deployed (the watchdog second)
                    break
            except OSError:
                pass
            time.sleep(0.25)
        assert info and info["outputs"], process.stderr.read() if process.poll() is not None else "no outputs"
        assert info["time_scale"] == 60
        assert info["watchdog"]["region"] == "us-west-2" and "WatchdogTopicArn" in info["watchdog"]["outputs"]
        listed = subprocess.run(
            [sys.executable, "-m", "siren_cli.main", "local", "info", "--json", "--port", str(port)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(listed.stdout)["outputs"] == info["outputs"]
    finally:
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "Stopped." in stdout
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_siren/info", timeout=2)
