"""The canary's edges: its alert sent through Siren's real front door (the webhook, over HTTPS), and its heartbeat
put in the watchdog's region (CloudWatch, cross-region: see infra's SirenWatchdog stack)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from siren.clients import cached_client, endpoint_url
from siren.observability import logger
from siren.watchdog import WATCHDOG_DIMENSION, WATCHDOG_METRIC, WATCHDOG_NAMESPACE

SEND_TIMEOUT_SECONDS = 10.0


class CanaryNotDelivered(RuntimeError):
    """The webhook did not take the canary's alert: the front door is broken (the function fails, and is alarmed)."""


def post_alert(webhook_url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST the canary's alert to ``<webhook_url>canary`` with the bearer token, as any sender would."""
    url = webhook_url.rstrip("/") + "/canary"
    if urlsplit(url).scheme not in ("https", "http"):
        raise CanaryNotDelivered(f"the webhook URL must be an http(s) URL, got {webhook_url!r}")
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_SECONDS) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read(64 * 1024) or b"{}")
            return answer
    except urllib.error.HTTPError as error:
        raise CanaryNotDelivered(f"the webhook answered HTTP {error.code}: {error.read(2048)!r}") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise CanaryNotDelivered(f"the webhook could not be reached: {error}") from error


class WatchdogBeacon:
    """Puts the canary's heartbeat in the watchdog's region, where the SirenWatchdog stack alarms when it stops."""

    def __init__(self, region: str | None, stack_name: str | None) -> None:
        self._region = region
        self._stack_name = stack_name

    def beat(self) -> bool:
        if not self._region or not self._stack_name:
            return False
        try:
            cached_client("cloudwatch", self._region, endpoint_url()).put_metric_data(
                Namespace=WATCHDOG_NAMESPACE,
                MetricData=[
                    {
                        "MetricName": WATCHDOG_METRIC,
                        "Value": 1.0,
                        "Unit": "Count",
                        "Dimensions": [{"Name": WATCHDOG_DIMENSION, "Value": self._stack_name}],
                    }
                ],
            )
        except (BotoCoreError, ClientError) as error:
            # The canary itself went through; the watchdog will say that it heard nothing, which is the truth.
            logger.error("watchdog heartbeat not delivered", extra={"region": self._region, "error": str(error)})
            return False
        return True
