"""Leadership reports, postmortem drafts and action items.

Reports stream the period's incidents from the by-time index and its pages and escalations from the sparse
by-activity index (Query only, never Scan) into an aggregator whose memory does not grow with the number of
incidents. The same is done for the previous period of equal length, for the comparison.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import date, datetime, timedelta

from siren.app.clock import utc_now
from siren.domain.incidents import IncidentError, TimelineEntry, TimelineKind
from siren.domain.pages import Page, as_page, is_chat_post
from siren.domain.policy import SirenConfig
from siren.domain.postmortem import postmortem_markdown
from siren.domain.records import ActionItemRecord
from siren.domain.reports import (
    EscalationFacts,
    IncidentFacts,
    OffHours,
    PageFacts,
    Period,
    PeriodMetrics,
    Report,
    ReportBuilder,
)
from siren.ports import ActionItems, Artifacts, IncidentRepository, Mailer
from siren.render.report_email import render_report

ACTION_TITLE_MAX = 200


@dataclass(frozen=True, slots=True)
class RenderedReport:
    report: Report
    subject: str
    text: str
    html: str


def monthly_period(now: datetime, zone_name: str) -> Period:
    """The previous calendar month in the reports' time zone."""
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(zone_name))
    this_month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous_month = (this_month - timedelta(days=1)).replace(day=1)
    return Period(previous_month, this_month)


@dataclass(frozen=True, slots=True, eq=False)
class Reports:
    incidents: IncidentRepository
    action_items: ActionItems
    config: SirenConfig
    _: KW_ONLY
    clock: Callable[[], datetime] = utc_now

    # -- reports ----------------------------------------------------------------------------------------------
    def build(self, period: Period, title: str = "Siren incident report") -> RenderedReport:
        now = self.clock()
        actions = list(self.action_items.action_items())
        current = self._metrics(period, actions, now)
        previous = self._metrics(period.previous(), actions, now)
        report = Report(current=current, previous=previous, generated_at=now, title=title)
        subject, text, html = render_report(report)
        return RenderedReport(report, subject, text, html)

    def _metrics(self, period: Period, actions: list[ActionItemRecord], now: datetime) -> PeriodMetrics:
        settings = self.config.reports
        builder = ReportBuilder(
            period, OffHours(settings.off_hours_start, settings.off_hours_end, settings.weekends_off)
        )
        for incident in self.incidents.iter_opened_between(period.start, period.end):
            if incident.drill or incident.canary:
                continue  # game days rehearse and the canary checks Siren itself; neither counts
            builder.add_incident(
                IncidentFacts(
                    incident.id,
                    incident.severity,
                    incident.service,
                    incident.opened_at,
                    incident.acknowledged_at,
                    incident.resolved_at,
                )
            )
        escalated: set[str] = set()  # incidents that reached level 2+ in the period: one fact each
        for incident_id, entry in self.incidents.iter_activity(period.start, period.end):
            if entry.data.get("drill") or entry.data.get("canary"):
                continue
            if (page := as_page(entry)) is not None:
                builder.add_page(self._page(incident_id, page))
            elif is_chat_post(entry):
                builder.add_chat_post(entry.at)
            elif (
                entry.kind is TimelineKind.ESCALATED
                and int(entry.data.get("level", 1)) >= 2
                and incident_id not in escalated
            ):
                escalated.add(incident_id)
                builder.add_escalation(EscalationFacts(incident_id, int(entry.data.get("level", 2))))
        return builder.finish(actions, now.astimezone(self.config.reports.zone).date())

    def _page(self, incident_id: str, page: Page) -> PageFacts:
        known = self.config.users.get(page.user)
        return PageFacts(page.at, page.user, known.time_zone if known else "UTC", incident_id, page.channel)

    def send(self, rendered: RenderedReport, mail: Mailer, sender: str) -> str:
        recipients = list(self.config.reports.recipients)
        if not recipients:
            raise IncidentError("no report recipients: add reports.recipients to siren.yaml")
        return mail.send_report(sender, recipients, rendered.subject, rendered.text, rendered.html)

    # -- action items -----------------------------------------------------------------------------------------
    def add_action(self, incident_id: str, title: str, owner: str, due: date, actor: str) -> ActionItemRecord:
        if self.incidents.get(incident_id) is None:
            raise IncidentError(f"no incident {incident_id}")
        title = " ".join(title.split())
        if not title or len(title) > ACTION_TITLE_MAX:
            raise IncidentError(f"an action item title is 1 to {ACTION_TITLE_MAX} characters")
        owner = owner.strip()
        if not owner:
            raise IncidentError("an action item needs an owner")
        now = self.clock()
        record = ActionItemRecord(
            id=f"AI-{now:%Y%m%d}-{secrets.token_hex(3)}",
            incident_id=incident_id,
            title=title,
            owner=owner,
            due=due,
            created_at=now,
            created_by=actor,
        )
        self.action_items.add_action_item(record)
        self.incidents.add_timeline(
            incident_id,
            [
                TimelineEntry(
                    now,
                    TimelineKind.ACTION_ITEM_ADDED,
                    actor,
                    f"action item {record.id}: {title} (owner {owner}, due {due})",
                    {"action_id": record.id, "owner": owner, "due": due.isoformat()},
                )
            ],
        )
        return record

    def complete_action(self, action_id: str, actor: str) -> ActionItemRecord:
        record = self.action_items.complete_action_item(action_id, actor, self.clock())
        if record is None:
            raise IncidentError(f"no action item {action_id}")
        return record

    def actions(self, *, overdue_only: bool = False) -> list[ActionItemRecord]:
        today = self.clock().astimezone(self.config.reports.zone).date()
        found = [a for a in self.action_items.action_items() if not overdue_only or a.is_overdue(today)]
        return sorted(found, key=lambda a: (a.done_at is not None, a.due, a.id))

    # -- postmortems ------------------------------------------------------------------------------------------
    def postmortem(self, incident_id: str, artifacts: Artifacts | None, actor: str) -> tuple[str, str | None]:
        """The draft's Markdown and, when stored, its location (S3 URI), linked from the incident's timeline."""
        view = self.incidents.view(incident_id)
        if view is None:
            raise IncidentError(f"no incident {incident_id}")
        components = [
            component.name
            for component in self.config.status_page.components.values()
            if view.incident.service in component.services
        ]
        items = [a for a in self.action_items.action_items() if a.incident_id == incident_id]
        now = self.clock()
        markdown = postmortem_markdown(
            view.incident,
            view.timeline,
            components=components,
            action_items=items,
            generated_at=now.astimezone(self.config.reports.zone),
        )
        if artifacts is None:
            return markdown, None
        location = artifacts.put_markdown(f"postmortems/{incident_id}.md", markdown)
        self.incidents.add_timeline(
            incident_id,
            [
                TimelineEntry(
                    now,
                    TimelineKind.POSTMORTEM_WRITTEN,
                    actor,
                    f"postmortem draft written: {location}",
                    {"location": location},
                )
            ],
        )
        return markdown, location
