"""How Siren runs beyond who is paged: paging options, leadership reports, its own health, and heartbeats."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any, Self
from zoneinfo import ZoneInfo

from siren.domain.policy.serialization import PolicyPart, as_json


@dataclass(frozen=True, slots=True)
class ReportsConfig(PolicyPart):
    """Leadership reports: who gets them, when (EventBridge Scheduler cron in ``time_zone``), what is off-hours."""

    recipients: tuple[str, ...] = ()
    time_zone: str = "UTC"
    weekly: str | None = "cron(0 9 ? * MON *)"  # None: no weekly report
    monthly: str | None = "cron(0 9 1 * ? *)"  # None: no monthly report
    off_hours_start: time = time(18, 0)
    off_hours_end: time = time(8, 0)
    weekends_off: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def to_json(self) -> dict[str, Any]:
        """As written in siren.yaml: "" for no report (None would read as "the default"), off-hours nested."""
        return {
            "recipients": list(self.recipients),
            "time_zone": self.time_zone,
            "weekly": self.weekly or "",
            "monthly": self.monthly or "",
            "off_hours": {
                "start": as_json(self.off_hours_start),
                "end": as_json(self.off_hours_end),
                "weekends": self.weekends_off,
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], key: str | None = None) -> Self:
        off_hours = data["off_hours"]
        return cls(
            recipients=tuple(data["recipients"]),
            time_zone=data["time_zone"],
            weekly=data["weekly"] or None,
            monthly=data["monthly"] or None,
            off_hours_start=time.fromisoformat(off_hours["start"]),
            off_hours_end=time.fromisoformat(off_hours["end"]),
            weekends_off=off_hours["weekends"],
        )


@dataclass(frozen=True, slots=True)
class Paging(PolicyPart):
    """How pages are sent, beyond who gets them."""

    # Put the signed acknowledgement link in page SMS too (it is always in emails). Off by default: carriers in
    # several countries filter texts with links, and a registered sender's templates may not allow them.
    sms_links: bool = False
    # Post incidents of these severities to the chat webhook (its URL is the ChatWebhook secret's "url").
    chat_severities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Operations(PolicyPart):
    """Who hears about Siren itself: its own health alarms go to these contacts through an SNS topic of their own,
    never through Siren's incident pipeline (that may be what is broken)."""

    phones: tuple[str, ...] = ()  # E.164: SMS
    emails: tuple[str, ...] = ()
    heartbeat_minutes: int = 5  # how often Siren proves its own path works (the canary), and so how late is late

    def to_json(self) -> dict[str, Any]:
        """As written in siren.yaml: one list of contacts, phones and emails told apart when read."""
        return {"contacts": [*self.phones, *self.emails], "heartbeat_minutes": self.heartbeat_minutes}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], key: str | None = None) -> Self:
        contacts = data["contacts"]
        return cls(
            phones=tuple(contact for contact in contacts if contact.startswith("+")),  # validated E.164 at synth
            emails=tuple(contact for contact in contacts if not contact.startswith("+")),
            heartbeat_minutes=data["heartbeat_minutes"],
        )


@dataclass(frozen=True, slots=True)
class Heartbeat(PolicyPart):
    """A job that pings Siren (``POST <WebhookUrl>heartbeat/<name>``) at least every ``interval_minutes``. With no
    ping for ``grace_minutes`` more, an incident opens on ``service`` (dedup key ``heartbeat:<name>``); the next
    ping resolves it, or marks it recovered, as the service's ``on_recovery`` says."""

    name: str  # part of the ping URL: lowercase letters, digits, "-" and "_"
    service: str
    interval_minutes: int
    grace_minutes: int = 0
    severity: str | None = None  # None: the severity rules, then the service's default, decide

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.interval_minutes)

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.grace_minutes)

    @property
    def dedup_key(self) -> str:
        return f"heartbeat:{self.name}"
