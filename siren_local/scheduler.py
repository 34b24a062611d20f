"""EventBridge Scheduler schedules fire locally: moto 5.2.5 stores them and never fires them.

A ticker thread walks moto's scheduler backends once a tick, works out which schedules are due on the local
clock and fires their targets (Lambda: asynchronous invoke; Step Functions: StartExecution; SQS; an
EventBridge bus). ``rate()``, ``at()`` and ``cron()`` (AWS's six fields, with the schedule's time zone) are
understood; DISABLED schedules and those outside their start/end dates do not fire. The local clock runs
``--time-scale`` times faster than the wall clock, so a weekly report can be rehearsed in minutes.
:meth:`SchedulerTicker.fire` fires one schedule now, as a drill would.

Also here: ``AWS::Scheduler::Schedule`` for CloudFormation, which moto skips.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSim

from siren_local.clock import time_scale
from siren_local.cloudformation import LocalResource
from siren_local.lambda_runtime import active_runtime, send_to_queue

log = logging.getLogger("siren.local.scheduler")

# A rate schedule fires at most once every two wall-clock seconds. At --time-scale 600 a one-minute rate (EventBridge
# Scheduler's shortest) would otherwise fire ten times a second; the every-minute checks (heartbeats, the
# reconciler) would spin the CPU without making anything more true. Up to --time-scale 30 nothing changes.
RATE_FLOOR_WALL_S = 2.0

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_AWS_DAYS = {"1": "SUN", "2": "MON", "3": "TUE", "4": "WED", "5": "THU", "6": "FRI", "7": "SAT"}


class ScheduleExpressionError(ValueError):
    pass


def _aws_cron_to_standard(fields: str) -> str:
    """AWS cron (minutes hours day-of-month month day-of-week year) as a five-field cron for cronsim."""
    parts = fields.split()
    if len(parts) != 6:
        raise ScheduleExpressionError(f"cron() needs 6 fields (AWS form), got {len(parts)}: {fields!r}")
    minute, hour, day_of_month, month, day_of_week, year = parts
    if year not in ("*", "?"):
        raise ScheduleExpressionError("cron() years other than '*' are not supported locally")
    if "?" not in (day_of_month, day_of_week):
        raise ScheduleExpressionError("AWS cron() needs '?' in day-of-month or day-of-week")
    day_of_month = "*" if day_of_month == "?" else day_of_month
    # AWS numbers days 1-7 from Sunday; five-field cron numbers them 0-6. Names mean the same in both.
    day_of_week = "*" if day_of_week == "?" else re.sub(r"\b[1-7]\b", lambda m: _AWS_DAYS[m.group(0)], day_of_week)
    return f"{minute} {hour} {day_of_month} {month} {day_of_week}"


def next_fire_after(expression: str, after: datetime, timezone: str = "UTC") -> datetime | None:
    """The first time strictly after ``after`` (aware, UTC) at which ``expression`` fires, or None."""
    if match := _RATE.match(expression):
        raise ScheduleExpressionError("rate() has no absolute fire times; see RateSchedule")
    if match := _AT.match(expression):
        fire_at = datetime.fromisoformat(match.group(1)).replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
        return fire_at if fire_at > after else None
    if match := _CRON.match(expression):
        zone = ZoneInfo(timezone)
        local_after = after.astimezone(zone).replace(tzinfo=None)
        try:
            iterator = CronSim(_aws_cron_to_standard(match.group(1)), local_after)
        except Exception as error:
            raise ScheduleExpressionError(f"bad cron expression {expression!r}: {error}") from error
        for candidate in iterator:
            aware = candidate.replace(tzinfo=zone).astimezone(UTC)
            if aware > after:
                return aware
        return None
    raise ScheduleExpressionError(f"unknown schedule expression {expression!r}")


def rate_seconds(expression: str) -> int | None:
    match = _RATE.match(expression)
    if not match:
        return None
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    return count * _UNIT_SECONDS[unit]


SCHEDULER_THREAD = "scheduler-ticker"


@dataclass
class SchedulerTicker:
    """Fires due schedules on a local clock that runs ``time_scale()`` times faster than the wall clock."""

    tick_seconds: float = 0.2
    fired: list[tuple[str, str]] = field(default_factory=list)  # (schedule ARN, local fire time)
    _origin_wall: float = field(default_factory=time.monotonic)
    _origin_local: datetime = field(default_factory=lambda: datetime.now(UTC))
    _next_due: dict[str, datetime] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        """The local clock."""
        elapsed = time.monotonic() - self._origin_wall
        return self._origin_local + timedelta(seconds=elapsed * time_scale())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=SCHEDULER_THREAD, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Fire nothing more; the runtime waits for :meth:`threads` to end."""
        self._stop.set()

    def threads(self) -> list[threading.Thread]:
        return [self._thread] if self._thread is not None and self._thread.is_alive() else []

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")

    def _schedules(self) -> list[Any]:
        from moto.scheduler.models import scheduler_backends

        found: list[Any] = []
        for account_backends in list(scheduler_backends.values()):
            for backend in list(account_backends.values()):
                for group in list(backend.schedule_groups.values()):
                    found.extend(group.schedules.values())
        return found

    def _due_time(self, schedule: Any, now: datetime) -> datetime | None:
        key = schedule.arn
        if key not in self._next_due:
            start = _parse_date(schedule.start_date) or datetime.fromtimestamp(schedule.creation_date, UTC)
            start = max(start, self._origin_local) if rate_seconds(schedule.schedule_expression) else start
            self._next_due[key] = self._following(schedule, start - timedelta(microseconds=1))  # type: ignore[assignment]
        return self._next_due.get(key)

    def _following(self, schedule: Any, after: datetime) -> datetime | None:
        period = rate_seconds(schedule.schedule_expression)
        if period is not None:
            return after + timedelta(seconds=period)
        return next_fire_after(schedule.schedule_expression, after, schedule.schedule_expression_timezone)

    def tick(self) -> int:
        """Fire every schedule due by the local clock; returns how many fired."""
        now = self.now()
        fired = 0
        with self._lock:
            for schedule in self._schedules():
                due = self._due_time(schedule, now)
                if due is None or due > now:
                    continue
                following = self._following(schedule, due)
                if following is not None and rate_seconds(schedule.schedule_expression):
                    # Not more often than RATE_FLOOR_WALL_S allows.
                    following = max(following, now + timedelta(seconds=RATE_FLOOR_WALL_S * time_scale()))
                self._next_due[schedule.arn] = following  # type: ignore[assignment]
                end = _parse_date(schedule.end_date)
                if schedule.state != "ENABLED" or (end is not None and due > end):
                    continue
                self._fire(schedule, due)
                fired += 1
        return fired

    def fire(self, name: str, group: str = "default") -> None:
        """Fire one schedule now, whatever its expression (a drill, or ``siren local fire-schedule``)."""
        for schedule in self._schedules():
            if schedule.name == name and schedule.group_name == group:
                self._fire(schedule, self.now())
                return
        raise LookupError(f"no schedule {group}/{name}")

    def _fire(self, schedule: Any, at: datetime) -> None:
        target = schedule.target
        payload_text = target.get("Input") or "{}"
        self.fired.append((schedule.arn, at.isoformat()))
        log.info("schedule %s fired (local time %s)", schedule.name, at.isoformat())
        deliver_scheduled_target(target, payload_text, schedule.arn)


def deliver_scheduled_target(target: dict[str, Any], payload_text: str, schedule_arn: str) -> None:
    arn: str = target["Arn"]
    service = arn.split(":")[2]
    region, account = arn.split(":")[3], arn.split(":")[4]
    if service == "lambda":
        from moto.awslambda.utils import get_backend

        active_runtime().invoke_async(get_backend(account, region).get_function(arn), json.loads(payload_text))
    elif service == "states":
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        stepfunctions_parser_backends[account][region].start_execution(
            arn, name=f"schedule-{uuid.uuid4()}", execution_input=payload_text
        )
    elif service == "sqs":
        send_to_queue(arn, payload_text, {"schedule": schedule_arn})
    elif service == "events":
        from moto.events.models import events_backends

        parameters = target.get("EventBridgeParameters") or {}
        events_backends[account][region].put_events(
            [
                {
                    "EventBusName": arn,
                    "Source": parameters.get("Source", "aws.scheduler"),
                    "DetailType": parameters.get("DetailType", "Scheduled Event"),
                    "Detail": payload_text,
                    "Resources": [schedule_arn],
                }
            ]
        )
    else:
        raise NotImplementedError(f"scheduler target {arn} is not supported locally")


def _parse_date(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SchedulerSchedule(LocalResource):
    """``AWS::Scheduler::Schedule``: created in moto's scheduler backend, so the ticker fires it."""

    TYPE = "AWS::Scheduler::Schedule"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, name: str, properties: dict[str, Any], account_id: str, region: str) -> LocalResource:
        from moto.scheduler.models import scheduler_backends

        backend = scheduler_backends[account_id][region]
        group = properties.get("GroupName") or "default"
        if group not in backend.schedule_groups:
            backend.create_schedule_group(name=group, tags=[])
        arguments: dict[str, Any] = dict(
            description=properties.get("Description", ""),
            end_date=properties.get("EndDate"),
            flexible_time_window=properties.get("FlexibleTimeWindow", {"Mode": "OFF"}),
            group_name=group,
            kms_key_arn=properties.get("KmsKeyArn"),
            name=properties.get("Name", name)[:64],
            schedule_expression=properties["ScheduleExpression"],
            schedule_expression_timezone=properties.get("ScheduleExpressionTimezone", "UTC"),
            start_date=properties.get("StartDate"),
            state=properties.get("State", "ENABLED"),
            target=properties["Target"],
            action_after_completion=None,
        )
        schedule = backend.create_schedule(**arguments)
        return cls(schedule.arn, properties, {"Arn": schedule.arn})
