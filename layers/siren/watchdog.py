"""The contract between Siren's canary and the watchdog in a second region (the ``SirenWatchdog`` stack).

Every ``operations.heartbeat_minutes`` the canary puts one datapoint, with CloudWatch PutMetricData *in the
watchdog's region*: namespace :data:`WATCHDOG_NAMESPACE`, metric :data:`WATCHDOG_METRIC`, dimension
:data:`WATCHDOG_DIMENSION` = the primary stack's name, value 1, unit Count. The watchdog alarms when two intervals
pass without one. Plain constants, so that the canary's function and the CDK app both read them without the other.
"""

WATCHDOG_NAMESPACE = "Siren/Canary"
WATCHDOG_METRIC = "Heartbeat"
WATCHDOG_DIMENSION = "Stack"
