"""The one place that owns Siren's logger and metrics (Powertools).

No Tracer: functions do not enable X-Ray, and importing the X-Ray SDK costs about 110 ms of cold start
(measured by ``make bench``); it is also not shipped in the layer.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE = "siren"
METRICS_NAMESPACE = "Siren"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
