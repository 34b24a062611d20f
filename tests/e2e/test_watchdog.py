"""The watchdog in the second region notices a silent primary and tells the operations contacts.

GIVEN the SirenWatchdog stack deployed into the second region of an embedded local AWS (time scale 200: a 5-minute
heartbeat interval lasts 1.5 s), with nothing in the primary region that could send heartbeats
WHEN heartbeats arrive (PutMetricData in the watchdog's region, as the canary puts them) THEN nobody is notified;
WHEN they stop THEN the watchdog's alarm reaches the operations phone and email through its own topic, and
heartbeats put in the primary's region do not count; WHEN they come back THEN the contacts hear it is OK again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from siren.config import load_config
from siren.watchdog import WATCHDOG_DIMENSION, WATCHDOG_METRIC, WATCHDOG_NAMESPACE
from siren_local.deploy import assembly_region
from tests.conftest import running_runtime
from tests.support import wait_for

pytestmark = pytest.mark.e2e

TIME_SCALE = 200
WATCHDOG = "SirenWatchdog"
OPERATIONS = load_config(Path(__file__).resolve().parents[2] / "siren.yaml").operations
INTERVAL_S = OPERATIONS.heartbeat_minutes * 60 / TIME_SCALE  # wall-clock seconds


@pytest.fixture
def runtime() -> Iterator[Any]:
    """A bare runtime: Siren itself is not deployed, so no canary of its own can keep the watchdog content."""
    yield from running_runtime("http", TIME_SCALE)


def put_heartbeat(runtime: Any, region: str) -> None:
    runtime.client("cloudwatch", region).put_metric_data(
        Namespace=WATCHDOG_NAMESPACE,
        MetricData=[
            {
                "MetricName": WATCHDOG_METRIC,
                "Dimensions": [{"Name": WATCHDOG_DIMENSION, "Value": "Siren"}],
                "Value": 1,
                "Unit": "Count",
            }
        ],
    )


def notified(runtime: Any, state: str) -> bool:
    """Whether every operations contact got CloudWatch's notification of the watchdog's alarm entering ``state``."""
    subject = f'{state}: "{WATCHDOG}-CanarySilent" in US West (Oregon)'
    sent = [message for message in runtime.outbox.messages() if message.via == "sns-topic"]
    by_sms = all(any(m.channel == "sms" and m.to == p and m.body == subject for m in sent) for p in OPERATIONS.phones)
    by_email = all(
        any(m.channel == "email" and m.to == e and m.subject == subject for m in sent) for e in OPERATIONS.emails
    )
    return by_sms and by_email


def test_a_silent_primary_makes_the_watchdog_notify_the_operations_contacts(runtime, siren_assembly):
    assert OPERATIONS.phones and OPERATIONS.emails, "the shipped siren.yaml names operations contacts"
    region = assembly_region(siren_assembly, WATCHDOG)
    assert region == "us-west-2" and region != runtime.region

    stack = runtime.deploy(siren_assembly, WATCHDOG, region=region)
    # Heartbeats from the first interval on: a period that began before the alarm existed is not judged locally.
    put_heartbeat(runtime, region)
    assert runtime.info()["watchdog"] == {"stack": WATCHDOG, "region": region, "outputs": stack.outputs}
    assert stack.outputs["WatchdogTopicArn"].split(":")[3] == region

    # Heartbeats every fifth of an interval, for three intervals: nobody is notified.
    healthy_until = time.monotonic() + 3 * INTERVAL_S
    while time.monotonic() < healthy_until:
        put_heartbeat(runtime, region)
        time.sleep(INTERVAL_S / 5)
    assert [m for m in runtime.outbox.messages() if m.via == "sns-topic"] == []

    # The heartbeats stop (in the watchdog's region; some still reach the primary's, which does not count).
    def silent_in_the_watchdogs_region() -> bool:
        put_heartbeat(runtime, runtime.region)
        return notified(runtime, "ALARM")

    wait_for(silent_in_the_watchdogs_region, timeout=60, interval=INTERVAL_S / 5)
    email = next(m for m in runtime.outbox.messages() if m.channel == "email" and m.subject.startswith("ALARM"))
    assert "siren health" in email.body  # the alarm's description says what to do

    # They come back: the contacts hear that it is over.
    def heartbeats_again() -> bool:
        put_heartbeat(runtime, region)
        return notified(runtime, "OK")

    wait_for(heartbeats_again, timeout=60, interval=INTERVAL_S / 5)
