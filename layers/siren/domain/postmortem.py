"""A blameless postmortem draft, in GitHub-flavoured Markdown, from an incident and its timeline.

Pure: no I/O and no clock (``generated_at`` is passed in), so the same inputs give the same text.

The draft states what happened (times, pages, escalations, who acknowledged: names are facts of the response)
and asks questions about systems and process for the parts people write (contributing factors, what went
well and what was hard, lessons). No prompt names a person or asks who caused anything.

Alert titles, alert text and people's updates are untrusted: every such text goes through ``md_escape``, which
keeps it on one line, inside its table cell, and inert as Markdown and as HTML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from siren.domain.incidents import Incident, TimelineEntry, TimelineKind
from siren.domain.pages import PageCount, count_pages
from siren.domain.records import ActionItemRecord

# -- escaping ---------------------------------------------------------------------------------------------
# Characters with inline meaning in GitHub-flavoured Markdown (code, emphasis, links, strikethrough, tables,
# math) and the backslash itself, so an escape in the input cannot cancel one of ours.
_INLINE_SPECIAL = frozenset("\\`*_[]|~$")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Block markers that only mean something at the start of a line: headings, lists, setext underlines.
_LEADING_MARKER = re.compile(r"^(#|[-+=]|\d{1,9}[.)])")
# Bidirectional overrides and isolates: they can make text read differently from what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def md_escape(text: str) -> str:
    """``text`` as inert inline Markdown: one line (any line break or run of whitespace becomes one space),
    no control characters, every character with inline meaning backslash-escaped (``|`` as ``\\|``, so a table
    cell stays one cell), ``&``, ``<`` and ``>`` as HTML entities, and a leading block marker (``#``, ``-``,
    ``+``, ``=``, ``1.``) escaped so the text cannot start a heading or a list wherever it lands."""
    kept = "".join(
        char for char in text if char not in _BIDI_CONTROLS and (char.isspace() or unicodedata.category(char) != "Cc")
    )
    one_line = " ".join(kept.split())
    escaped = "".join(_HTML.get(char) or (f"\\{char}" if char in _INLINE_SPECIAL else char) for char in one_line)
    marker = _LEADING_MARKER.match(escaped)
    if marker:
        found = marker.group(1)
        escaped = found[:-1] + "\\" + found[-1] + escaped[len(found) :]
    return escaped


_CODE_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")


def _code(text: str, fallback: str) -> str:
    """``text`` for a code span, or ``fallback`` when it holds anything a code span cannot carry safely."""
    return text if _CODE_SAFE.match(text) else fallback


# -- times --------------------------------------------------------------------------------------------------
def _utc(moment: datetime) -> datetime:
    """In UTC; a naive time is taken as UTC (never as the machine's local time, which would vary)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _when(moment: datetime | None, missing: str) -> str:
    return f"{_utc(moment):%Y-%m-%d %H:%M:%S} UTC" if moment is not None else missing


def humanize(duration: timedelta) -> str:
    """A duration as people say it, to the two largest units: ``45s``, ``4m 10s``, ``1h 4m``, ``2d 3h``.
    A negative duration (clock skew between sources) reads as ``0s``."""
    seconds = max(int(duration.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    first = next((index for index, (value, _) in enumerate(units) if value), len(units) - 1)
    shown = [f"{value}{unit}" for value, unit in units[first : first + 2] if value]
    return " ".join(shown) or "0s"


# -- reading the timeline -----------------------------------------------------------------------------------
_KIND_TEXT: Mapping[TimelineKind, str] = {
    TimelineKind.OPENED: "Opened",
    TimelineKind.ALERT_APPENDED: "Alert repeated",
    TimelineKind.SEVERITY_CHANGED: "Severity",
    TimelineKind.ACKNOWLEDGED: "Acknowledged",
    TimelineKind.RECOVERED: "Recovered",
    TimelineKind.RETRIGGERED: "Firing again",
    TimelineKind.RESOLVED: "Resolved",
    TimelineKind.FLAPPING: "Flapping",
    TimelineKind.ROLE_ASSIGNED: "Role assigned",
    TimelineKind.UPDATE_POSTED: "Public update",
    TimelineKind.ESCALATED: "Escalated",
    TimelineKind.PAGED: "Paged",
    TimelineKind.PAGE_FAILED: "Page failed",
    TimelineKind.ESCALATION_FAILED: "Escalation step failed",
    TimelineKind.ESCALATION_ENDED: "Escalation ended",
}

_DETECTED_BY = {
    "cloudwatch": "a CloudWatch alarm",
    "cloudwatch-sns": "a CloudWatch alarm (through SNS)",
    "alertmanager": "a Prometheus Alertmanager alert",
    "grafana": "a Grafana alert",
    "generic": "an alert through Siren's generic webhook",
    "manual": "declared by a person (`siren declare`)",
}


def _in_order(timeline: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    """Oldest first; entries at the same instant keep the order they were given in."""
    return sorted(timeline, key=lambda entry: _utc(entry.at))


def _of_kind(timeline: Iterable[TimelineEntry], kind: TimelineKind) -> list[TimelineEntry]:
    return [entry for entry in timeline if entry.kind == kind]


def _level(data: Mapping[str, Any]) -> int | None:
    value = data.get("level")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def _what(entry: TimelineEntry) -> str:
    """The entry's detail, led by what kind of entry it is unless the detail already says so ("acknowledged by
    alice via sms" needs no label; "sms to bob via sns" reads better as "Paged: sms to bob via sns")."""
    label = _KIND_TEXT.get(entry.kind, str(entry.kind).replace("_", " ").capitalize())
    detail = md_escape(entry.detail)
    if not detail:
        return label
    if detail.lower().startswith(label.split()[0].lower()):
        return detail[:1].upper() + detail[1:]
    return f"{label}: {detail}"


def _timeline_rows(timeline: Sequence[TimelineEntry]) -> list[tuple[str, str, str]]:
    """(time, what happened, who) per row, escaped; a run of repeated alerts is one row."""
    rows: list[tuple[str, str, str]] = []
    index = 0
    while index < len(timeline):
        entry = timeline[index]
        run_end = index + 1
        if entry.kind == TimelineKind.ALERT_APPENDED:
            while run_end < len(timeline) and timeline[run_end].kind == TimelineKind.ALERT_APPENDED:
                run_end += 1
        run = timeline[index:run_end]
        time = f"{_utc(entry.at):%Y-%m-%d %H:%M:%S}"
        who = ", ".join(md_escape(actor) for actor in _distinct(item.actor for item in run))
        if len(run) > 1:
            what = f"Duplicate alerts: alert repeated {len(run)} times, until {_utc(run[-1].at):%Y-%m-%d %H:%M:%S}"
        else:
            what = _what(entry)
        rows.append((time, what, who))
        index = run_end
    return rows


# -- the draft ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Facts:
    """What the draft states, read once from the incident and its timeline (oldest first)."""

    entries: list[TimelineEntry]
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    pages: PageCount  # what a page is: siren.domain.pages, as in the report and the game-day scorecard
    paging_problems: list[TimelineEntry]  # other paging failures: nobody on call, a contact not configured...
    escalations: list[TimelineEntry]
    highest_level: int
    repeated_alerts: int
    generated_at: datetime

    @classmethod
    def of(cls, incident: Incident, timeline: Sequence[TimelineEntry], generated_at: datetime) -> _Facts:
        entries = _in_order(timeline)
        acks = _of_kind(entries, TimelineKind.ACKNOWLEDGED)
        resolutions = _of_kind(entries, TimelineKind.RESOLVED)
        escalations = _of_kind(entries, TimelineKind.ESCALATED)
        levels = [level for entry in escalations if (level := _level(entry.data)) is not None]
        pages = count_pages(entries)
        acknowledged_at = incident.acknowledged_at or (acks[0].at if acks else None)
        resolved_at = incident.resolved_at or (resolutions[-1].at if resolutions else None)
        return cls(
            entries=entries,
            opened_at=_utc(incident.opened_at),
            acknowledged_at=_utc(acknowledged_at) if acknowledged_at else None,
            acknowledged_by=incident.acknowledged_by or (acks[0].actor if acks else None),
            resolved_at=_utc(resolved_at) if resolved_at else None,
            pages=pages,
            paging_problems=[
                entry
                for entry in _of_kind(entries, TimelineKind.PAGE_FAILED)
                if entry.data.get("channel") is None and not entry.data.get("skipped")
            ],
            escalations=escalations,
            highest_level=max(levels, default=1),  # level 1 is the first responders: nothing escalated
            repeated_alerts=len(_of_kind(entries, TimelineKind.ALERT_APPENDED)),
            generated_at=_utc(generated_at),
        )

    def count(self, kind: TimelineKind) -> int:
        return len(_of_kind(self.entries, kind))

    @property
    def time_to_acknowledge(self) -> str:
        if self.acknowledged_at is None:
            return "not acknowledged"
        return humanize(self.acknowledged_at - self.opened_at)

    @property
    def time_to_resolve(self) -> str:
        if self.resolved_at is None:
            return f"not resolved ({humanize(self.generated_at - self.opened_at)} so far)"
        return humanize(self.resolved_at - self.opened_at)

    @property
    def duration(self) -> str:
        if self.resolved_at is None:
            so_far = humanize(self.generated_at - self.opened_at)
            return f"ongoing ({so_far} so far, as of {_when(self.generated_at, '')})"
        opened, resolved = _when(self.opened_at, ""), _when(self.resolved_at, "")
        return f"{self.time_to_resolve} (opened {opened} to resolved {resolved})"


def _prompt(text: str) -> str:
    return f"> _{text}_"


def _summary(incident: Incident, facts: _Facts) -> list[str]:
    return [
        "## Summary",
        "",
        f"- **Severity:** {md_escape(incident.severity)}",
        f"- **Service:** {md_escape(incident.service)}",
        f"- **Status:** {md_escape(str(incident.status))}",
        f"- **Opened:** {_when(facts.opened_at, '')}",
        f"- **Acknowledged:** {_when(facts.acknowledged_at, 'not acknowledged')}",
        f"- **Resolved:** {_when(facts.resolved_at, 'not resolved')}",
        f"- **Alerts received:** {incident.alert_count}",
        "",
        _prompt("Write a summary of two or three sentences: what happened, who was affected, how it was resolved."),
    ]


def _impact(incident: Incident, facts: _Facts, components: Sequence[str]) -> list[str]:
    affected = ", ".join(md_escape(name) for name in components if name.strip())
    return [
        "## Impact",
        "",
        f"- **Duration:** {facts.duration}",
        f"- **Severity:** {md_escape(incident.severity)}",
        f"- **Affected components:** {affected or 'none mapped'}",
        "",
        _prompt(
            "Describe the customer impact: which customers or requests were affected, for how long, in which "
            "regions, and whether any data was lost or delayed."
        ),
    ]


def _response(incident: Incident, facts: _Facts) -> list[str]:
    """What happened in the response, people included: these are facts, not causes."""
    detected = md_escape(incident.source) + (
        f" ({_DETECTED_BY[incident.source]})" if incident.source in _DETECTED_BY else ""
    )
    pages = facts.pages
    paged_to = f" (to {', '.join(md_escape(user) for user in pages.responders)})" if pages.responders else ""
    if pages.unreached:
        nobody = "; ".join(f"{md_escape(user)} at {_utc(at):%H:%M:%S}" for user, at in pages.unreached)
        attempts = f" (every attempt failed for: {nobody})"
    else:
        attempts = " (each person was reached by another attempt)" if pages.failed_attempts else ""
    lines = [
        "## Detection and response",
        "",
        f"- **Detected by:** {detected}",
        f"- **Time to acknowledge:** {facts.time_to_acknowledge}",
        f"- **Time to resolve:** {facts.time_to_resolve}",
        f"- **Acknowledged by:** {md_escape(facts.acknowledged_by) if facts.acknowledged_by else 'nobody'}",
    ]
    if incident.resolved_by:
        lines.append(f"- **Resolved by:** {md_escape(incident.resolved_by)}")
    lines += [
        f"- **Pages sent:** {pages.total}{paged_to}",
        f"- **Failed delivery attempts:** {len(pages.failed_attempts)}{attempts}",
    ]
    if pages.chat_posts or pages.chat_failures:
        failed = f" ({pages.chat_failures} failed)" if pages.chat_failures else ""
        lines.append(f"- **Chat posts:** {pages.chat_posts}{failed} (not pages: they notify nobody in particular)")
    if facts.paging_problems:
        lines.append(f"- **Other paging failures:** {len(facts.paging_problems)} (see the timeline)")
    lines += [
        f"- **Escalations:** {len(facts.escalations)} (highest escalation level reached: {facts.highest_level})",
    ]
    if failed_steps := facts.count(TimelineKind.ESCALATION_FAILED):
        lines.append(f"- **Escalation steps that failed:** {failed_steps}")
    if facts.count(TimelineKind.ESCALATION_ENDED):
        lines.append("- **Escalation policy exhausted:** yes, the last level was paged without an acknowledgement")
    if incident.roles:
        roles = ", ".join(f"{md_escape(role)}: {md_escape(user)}" for role, user in sorted(incident.roles.items()))
        lines.append(f"- **Incident roles:** {roles}")
    lines.append(f"- **Public updates posted:** {facts.count(TimelineKind.UPDATE_POSTED)}")
    if incident.flapping:
        lines.append("- **Flapping:** yes, the alert switched between firing and resolved repeatedly")
    return lines


def _timeline(facts: _Facts) -> list[str]:
    rows = [f"| {time} | {what} | {who} |" for time, what, who in _timeline_rows(facts.entries)]
    return ["## Timeline", "", "| Time (UTC) | What happened | Who |", "| --- | --- | --- |", *rows]


def _reflection(incident: Incident, facts: _Facts) -> list[str]:
    """Contributing factors, what went well and was hard, lessons: questions about systems and process only.
    Nothing here reads a person's name, so no prompt can point at one."""
    hard = [
        "- What made diagnosis slow: missing signals, noisy alerts, unclear ownership, access?",
        "- What made the fix slow to deploy: the pipeline, approvals, the rollback path?",
    ]
    if facts.escalations:
        hard.append(
            "- The incident escalated before it was acknowledged: what in the paging set-up, the on-call schedule "
            "or the alert's clarity delayed the first acknowledgement?"
        )
    elif facts.acknowledged_at is None:
        hard.append(
            "- Nobody acknowledged the incident: did the pages reach the on-call rotation, and were they clear?"
        )
    failures = len(facts.pages.failed_attempts) + len(facts.paging_problems)
    if failures:
        hard.append(f"- {failures} page(s) failed: is every contact method configured and tested?")
    if facts.repeated_alerts:
        hard.append(
            f"- The alert fired {facts.repeated_alerts} more time(s) after the incident opened: did the repeats "
            "help, or add noise?"
        )
    if incident.flapping:
        hard.append("- The alert was flapping: is its threshold or evaluation period right for this signal?")
    return [
        "## Contributing factors",
        "",
        _prompt(
            "Describe the conditions in the system and the process that made this possible. Where a decision "
            "mattered, describe the information and tools available at the time, not who made it."
        ),
        "",
        "- Which change, load, dependency, configuration or capacity limit set this off?",
        "- Which signal could have detected this earlier, or pointed at the cause sooner?",
        "- Which safeguard (a test, a review, a rollout stage, a limit, an alarm) could have stopped it, and why "
        "did it not?",
        "- Are these conditions likely to recur, here or in another service?",
        "",
        "## What went well",
        "",
        "- Which alerts, dashboards, runbooks or tools helped detection, diagnosis or recovery?",
        "- Which parts of the response (paging, roles, communication) worked as intended?",
        "",
        "## What was hard",
        "",
        *hard,
        "",
        "## Lessons",
        "",
        "- What did we learn about how the system behaves that we did not know before?",
        "- What would we change in alerts, runbooks, on-call or release process so this is caught or fixed faster?",
    ]


def _status_of(item: ActionItemRecord, today: date) -> str:
    if item.done_at is not None:
        return f"done ({_utc(item.done_at):%Y-%m-%d})"
    if item.is_overdue(today):
        return "**overdue**"
    return "open"


def _action_items(incident: Incident, items: Sequence[ActionItemRecord], today: date) -> list[str]:
    lines = ["## Action items", ""]
    if items:
        lines += ["| ID | Title | Owner | Due | Status |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {md_escape(item.id)} | {md_escape(item.title)} | {md_escape(item.owner)} | {item.due.isoformat()} "
            f"| {_status_of(item, today)} |"
            for item in items
        ]
    else:
        lines.append("_No action items yet._")
    command_id = _code(incident.id, "INCIDENT-ID")
    return [
        *lines,
        "",
        _prompt(
            f"Add one with `siren actions add {command_id} --title ... --owner ... --due YYYY-MM-DD`. "
            "Each item should change a system or a process, and have one owner and a due date."
        ),
    ]


def postmortem_markdown(
    incident: Incident,
    timeline: Sequence[TimelineEntry],
    *,
    components: Sequence[str] = (),
    action_items: Sequence[ActionItemRecord] = (),
    generated_at: datetime,
) -> str:
    """A blameless postmortem draft for ``incident``, as GitHub-flavoured Markdown ending in a newline.

    ``timeline`` is the incident's timeline in any order; ``components`` are the names of the affected status
    page components. Every time shown is in UTC; an action item is overdue when it is open and due before
    ``generated_at.date()``, so the time zone of ``generated_at`` decides which day "today" is."""
    facts = _Facts.of(incident, timeline, generated_at)
    title = md_escape(incident.title) or "Untitled incident"
    today = generated_at.date()
    sections = [
        [
            f"# Postmortem (draft): {title} ({md_escape(incident.id)})",
            "",
            _prompt(
                f"This is a blameless draft generated by Siren from the incident timeline on {today.isoformat()}. "
                "Edit it; keep it about systems and process, never a person as the cause."
            ),
        ],
        _summary(incident, facts),
        _impact(incident, facts, components),
        _response(incident, facts),
        _timeline(facts),
        _reflection(incident, facts),
        _action_items(incident, action_items, today),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"
