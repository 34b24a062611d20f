"""The escalation's steps, called by the state machine: page who is due, wait, escalate; stop on ack/resolve.

Paging is life-critical: every attempt, failure and fallback is a timeline entry; a failed voice call falls back
to SMS, a failed End User Messaging SMS falls back to SNS (in the pager); a failed step is recorded and the
escalation moves on to the next level instead of stopping.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from siren.app.clock import utc_now
from siren.domain.ack import AckAction, new_ack_code
from siren.domain.changes import MAX_CHANGES_SHOWN, ServiceChange, change_entries, change_window
from siren.domain.escalation import (
    CHAT,
    Cursor,
    LevelShape,
    Notification,
    PageTask,
    WaitingAt,
    next_level,
    page_tasks,
    plan_step,
    step_label,
    waiting_at,
)
from siren.domain.incidents import (
    SYSTEM_ACTOR,
    Incident,
    IncidentStatus,
    TimelineEntry,
    TimelineKind,
    requested_escalation,
)
from siren.domain.messages import chat_payload, email, sms_text, voice_ssml
from siren.domain.oncall import resolve_targets
from siren.domain.policy import SirenConfig
from siren.ports import (
    AckCodes,
    AckLinks,
    Canary,
    ChangeEvents,
    Delivery,
    EscalationState,
    EscalationWaits,
    IncidentRepository,
    Pager,
)

ACTOR = "escalation"
# The once-mark of the incident's change entries, kept as a page task's sent channels are (EscalationState): a page
# id of its own ("<run>/<step>/..." are the page tasks'), and the one "channel" it sends.
CHANGES_MARK, CHANGES_SENT = "changes", ("timeline",)


@dataclass(frozen=True, slots=True)
class PagingSettings:
    email_sender: str
    links: AckLinks | None = None  # None: pages carry the SMS code only
    # The chat webhook's URL, read when it is needed (a secret); None or "": no chat channel.
    chat_webhook_url: Callable[[], str | None] | None = None


@dataclass(kw_only=True, frozen=True, slots=True, eq=False)
class Escalation:
    """Each port is one noun the escalation reads or changes: the incident and its timeline, the escalation's own
    state (attempt, held wait, pages sent), acknowledgement codes, the channels, and the machine's waits."""

    incidents: IncidentRepository
    escalations: EscalationState
    codes: AckCodes
    pager: Pager
    waits: EscalationWaits
    config: SirenConfig
    settings: PagingSettings
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.SystemRandom)
    canary: Canary | None = None
    changes: ChangeEvents | None = None  # None: no change is shown (a function without the CHANGE grant)

    # -- the state machine's tasks --------------------------------------------------------------------
    def step(self, cursor_json: Mapping[str, Any]) -> dict[str, Any]:
        """Plan the notifications due at the cursor, one page task per recipient (the state machine sends them,
        each in a task of its own); return them with how long to wait for an acknowledgement, or stop."""
        incident_id = str(cursor_json["incident_id"])
        incident = self.incidents.get(incident_id)
        if incident is None:
            return _stop(incident_id, "no such incident")
        if incident.status in (IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED):
            return _stop(incident_id, f"incident is {incident.status}")
        now = self.clock()
        if incident.canary:
            return self._canary(incident, now)
        if cursor_json.get("done"):
            self.incidents.add_timeline(
                incident_id,
                [
                    TimelineEntry(
                        now,
                        TimelineKind.ESCALATION_ENDED,
                        ACTOR,
                        "escalation policy exhausted: nobody acknowledged",
                    )
                ],
            )
            return _stop(incident_id, "policy exhausted")
        cursor = Cursor.from_json(cursor_json)
        if cursor.attempt < self.escalations.current_attempt(incident_id):
            return _stop(incident_id, "superseded by a later escalation (severity raised)")
        policy = self.config.policy_for_severity(incident.severity)
        requested_by = self._escalation_requested(incident_id, WaitingAt.from_json(cursor_json.get("waiting")))
        if requested_by is not None and cursor.step:
            # A person asked for the next level while this level was still between its notification steps: the
            # level's later steps (its voice call after the SMS, say) give way to the next level, now.
            skipped_to = next_level(cursor, len(policy.levels), policy.repeat)
            cursor = skipped_to or cursor
        entries: list[TimelineEntry] = []
        tasks: list[PageTask] = []
        if not cursor.users:
            level = policy.levels[cursor.level]
            users = self._drill_only(incident, resolve_targets(level.targets, self.config, now), now, entries)
            cursor = replace(cursor, users=users)
            where = f"level {cursor.level + 1}" + (f", round {cursor.round + 1}" if cursor.round else "")
            if cursor.level or cursor.round:
                reached: dict[str, Any] = {"level": cursor.level + 1, "round": cursor.round + 1}
                reached["drill"] = incident.drill
                why = ""
                if requested_by is not None:
                    reached["requested_by"] = requested_by
                    why = f" now, as {requested_by} asked"
                entries.append(TimelineEntry(now, TimelineKind.ESCALATED, ACTOR, f"escalated to {where}{why}", reached))
            if not users:
                entries.append(TimelineEntry(now, TimelineKind.PAGE_FAILED, ACTOR, f"nobody is on call at {where}"))
            if not (cursor.level or cursor.round) and cursor.attempt == 1:
                self._record_changes(incident, now)
            if not (cursor.level or cursor.round) and self._posts_to_chat(incident):
                tasks.append(PageTask(incident_id, None, (CHAT,), step_label(cursor)))
        levels = [
            LevelShape(
                delay_minutes=level.delay_minutes,
                rules_by_user={
                    user: [(str(rule.method), rule.after_minutes) for rule in self.config.users[user].notify]
                    for user in (cursor.users if index == cursor.level else ())
                },
            )
            for index, level in enumerate(policy.levels)
        ]
        step = plan_step(cursor, levels, policy.repeat)
        tasks = page_tasks(cursor, step.due) + tasks  # people first: the chat post is the least urgent
        self.incidents.add_timeline(incident_id, entries)
        following = step.next.to_json() if step.next else {"incident_id": incident_id, "done": True}
        # The level the coming wait belongs to rides with the cursor to the wait (held with its token: what "escalate
        # now" leaves) and back to the next step (which reads whether a person asked to leave it early).
        following["waiting"] = waiting_at(cursor, len(policy.levels), policy.repeat).to_json()
        return {
            "action": "wait",
            "cursor": following,
            "wait_seconds": step.wait_seconds,
            "pages": [task.to_json() for task in tasks],
        }

    def roles(self, cursor_json: Mapping[str, Any]) -> dict[str, Any]:
        """SEV1/SEV2 (per config) also page the incident commander and the communications lead: one page task per
        person, marked with the role (these pages are not the escalation's levels: reports and drills read it)."""
        incident = self.incidents.get(str(cursor_json["incident_id"]))
        roles = self.config.roles
        if incident is None or incident.canary or roles is None or incident.severity not in roles.severities:
            return {"paged": [], "pages": []}  # the canary checks the escalation's first step only
        now = self.clock()
        entries: list[TimelineEntry] = []
        tasks: list[PageTask] = []
        cursor = Cursor.from_json(cursor_json)
        for role, target in (("commander", roles.commander), ("comms", roles.comms)):
            if target is None:
                continue
            for user in self._drill_only(incident, resolve_targets([target], self.config, now), now, entries):
                entries.append(
                    TimelineEntry(
                        now,
                        TimelineKind.PAGED,
                        ACTOR,
                        f"paging {user} as incident {role}",
                        {"role": role, "user": user},
                    )
                )
                due = [Notification(user, str(rule.method), 0) for rule in self.config.users[user].notify]
                tasks.extend(page_tasks(cursor, due, role=role))
        self.incidents.add_timeline(incident.id, entries)
        return {"paged": [task.user for task in tasks], "pages": [task.to_json() for task in tasks]}

    def page(self, task_json: Mapping[str, Any], run: str) -> dict[str, Any]:
        """Send one page task: one person's notifications of a step (or the chat post), each recorded as it is sent.

        The incident is read first: acknowledged or resolved meanwhile, nobody is paged. A retried task (the
        function timed out, the state machine retries it) skips the channels it already sent."""
        task = PageTask.from_json(task_json)
        incident = self.incidents.get(task.incident_id)
        if incident is None or incident.status in (IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED):
            return {"user": task.user, "sent": [], "skipped": str(incident.status) if incident else "missing"}
        page_id = task.page_id(run)
        sent = list(self.escalations.sent_channels(incident.id, page_id))
        if all(method in sent for method in task.methods):
            return {"user": task.user, "sent": sent}  # a retry of a task that had sent everything
        now = self.clock()
        code, code_entries = self._code_for(incident, now)
        if code_entries:
            self.incidents.add_timeline(incident.id, code_entries)
        for method in task.methods:
            if method in sent:
                continue
            if task.user is None:
                entries = self._post_to_chat(incident, now, code)
            else:
                entries = self._notify_one(incident, Notification(task.user, method, 0), code, now)
            if task.role:  # reports and drills tell the role's pages from the levels' by this mark
                entries = [replace(entry, data={**entry.data, "role": task.role}) for entry in entries]
            if any(entry.kind is TimelineKind.PAGED for entry in entries):
                sent.append(method)
            self.escalations.record_send(incident.id, entries, page_id=page_id, sent=tuple(sent), now=now)
        return {"user": task.user, "sent": sent}

    def record_failure(self, cursor_json: Mapping[str, Any], error: Mapping[str, Any], state: str) -> dict[str, Any]:
        """A step failed after its retries: put it on the timeline and move on to the next level."""
        incident_id = str(cursor_json["incident_id"])
        cause = str(error.get("Cause", ""))[:500]
        self.incidents.add_timeline(
            incident_id,
            [
                TimelineEntry(
                    self.clock(),
                    TimelineKind.ESCALATION_FAILED,
                    ACTOR,
                    f"{state} failed ({error.get('Error', 'error')}); escalation continues",
                    {"error": error.get("Error"), "cause": cause, "state": state},
                )
            ],
        )
        if cursor_json.get("done"):
            return _stop(incident_id, "failed after the policy was exhausted")
        cursor = Cursor.from_json(cursor_json)
        policy = self.config.policy_for_severity(self._incident_severity(incident_id))
        following = next_level(cursor, len(policy.levels), policy.repeat)
        next_json = following.to_json() if following else {"incident_id": incident_id, "done": True}
        next_json["waiting"] = waiting_at(cursor, len(policy.levels), policy.repeat).to_json()
        return {"action": "wait", "cursor": next_json, "wait_seconds": 60, "pages": []}

    def record_page_failure(self, task_json: Mapping[str, Any], error: Mapping[str, Any]) -> dict[str, Any]:
        """A page task failed after its retries (a provider hung past the task's timeout, say): on the timeline,
        naming who may not have been reached; the escalation goes on (the wait, then the next level)."""
        task = PageTask.from_json(task_json)
        who = task.user or "the chat channel"
        cause = str(error.get("Cause", ""))[:500]
        self.incidents.add_timeline(
            task.incident_id,
            [
                TimelineEntry(
                    self.clock(),
                    TimelineKind.PAGE_FAILED,
                    ACTOR,
                    f"paging {who} failed ({error.get('Error', 'error')}): "
                    f"{', '.join(task.methods)} may not have gone out",
                    {
                        "user": task.user,
                        "role": task.role,
                        "methods": list(task.methods),
                        "error": error.get("Error"),
                        "cause": cause,
                        "state": "Page",
                    },
                )
            ],
        )
        return {"recorded": True}

    def hold(self, token: str, cursor_json: Mapping[str, Any], execution: str) -> dict[str, Any]:
        """Keep the wait's task token (with the level it waits at); if the incident was acknowledged meanwhile, end
        the wait at once; if a person asked to escalate from this level meanwhile (their request landed while the
        level was still paging, so there was no wait to end), end it at once towards the next level."""
        incident_id = str(cursor_json["incident_id"])
        attempt = int(cursor_json.get("attempt", 1))
        waiting = WaitingAt.from_json(cursor_json.get("waiting"))
        if not self.escalations.hold_token(incident_id, token, execution, attempt, waiting):
            self.waits.end_wait(token, "superseded by a later escalation (severity raised)")
            return {"held": False}
        incident = self.incidents.get(incident_id)
        if incident is None or incident.status in (IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED):
            self.waits.end_wait(token, str(incident.status) if incident else "missing")
            return {"held": True}
        requested_by = self._escalation_requested(incident_id, waiting)
        if requested_by is not None and waiting is not None and not waiting.last:
            self.waits.escalate_wait(token, requested_by)
            return {"held": True, "escalated": requested_by}
        return {"held": True}

    def _escalation_requested(self, incident_id: str, waiting: WaitingAt | None) -> str | None:
        """Who asked to escalate now from ``waiting``'s level (the timeline is the record of it), or None. No read
        without a level: the first step of a run has waited nowhere yet."""
        if waiting is None:
            return None
        view = self.incidents.view(incident_id)
        request = requested_escalation(view.timeline, waiting) if view is not None else None
        return request.actor if request is not None else None

    # -- paging -------------------------------------------------------------------------------------------
    def _code_for(self, incident: Incident, now: datetime) -> tuple[str | None, list[TimelineEntry]]:
        """The incident's acknowledgement code; when none can be allocated the page goes out without one (with the
        link when configured) and that is recorded: a page without a code beats no page."""
        code = self.codes.ack_code(incident.id, lambda: new_ack_code(self.rng), now)
        if code is not None:
            return code, []
        return None, [
            TimelineEntry(
                now,
                TimelineKind.PAGE_FAILED,
                ACTOR,
                "no acknowledgement code could be allocated: paging without one",
                {"code": None, "drill": incident.drill},
            )
        ]

    def _notify_one(
        self, incident: Incident, notification: Notification, code: str | None, now: datetime
    ) -> list[TimelineEntry]:
        user = self.config.users[notification.user]
        attempts: list[Delivery] = []
        method = str(notification.method)
        address = user.email if method == "email" else user.phone
        if method not in ("sms", "voice", "email") or not address:
            return [
                TimelineEntry(
                    now,
                    TimelineKind.PAGE_FAILED,
                    ACTOR,
                    f"cannot {method} {notification.user}: not configured",
                    {"user": notification.user, "channel": method, "error": "not configured", "drill": incident.drill},
                )
            ]
        if (
            method in ("sms", "voice")
            and code is not None
            and not self.codes.bind_number(code, incident.id, address, now)
        ):
            # The code stopped being this incident's (freed or expired meanwhile): a reply with it must not reach
            # another incident, so this page goes without a code.
            code = None
        if method == "sms":
            sms_link = self._link(incident, AckAction.ACK, notification.user, now) if self._sms_links else None
            if code is None and sms_link is None:
                sms_link = self._link(incident, AckAction.ACK, notification.user, now)
            attempts.extend(self.pager.send_sms(address, sms_text(incident, code, sms_link)))
        elif method == "voice":
            call = self.pager.send_voice(address, voice_ssml(incident, code))
            attempts.append(call)
            if not call.ok:  # no voice fallback exists: fall back to a text
                attempts.extend(self.pager.send_sms(address, sms_text(incident, code)))
        else:
            message = email(
                incident,
                code,
                ack_url=self._link(incident, AckAction.ACK, notification.user, now),
                resolve_url=self._link(incident, AckAction.RESOLVE, notification.user, now),
                changes=self._changes_before(incident),
            )
            attempts.append(self.pager.send_email(address, message, self.settings.email_sender))
        done = self.clock()  # when the attempts came back: the timeline says when each page happened
        entries: list[TimelineEntry] = []
        for attempt in attempts:
            kind = TimelineKind.PAGED if attempt.ok else TimelineKind.PAGE_FAILED
            detail = f"{attempt.channel} to {notification.user} via {attempt.via}" + (
                "" if attempt.ok else f" failed: {attempt.error}"
            )
            entries.append(
                TimelineEntry(
                    done,
                    kind,
                    SYSTEM_ACTOR,
                    detail,
                    {
                        "user": notification.user,
                        "channel": attempt.channel,
                        "via": attempt.via,
                        "message_id": attempt.message_id,
                        "error": attempt.error,
                        "drill": incident.drill,
                    },
                )
            )
        return entries

    # -- what changed just before the incident -------------------------------------------------------------
    def _changes_before(self, incident: Incident) -> list[ServiceChange]:
        """The service's latest changes of the hour before the incident opened (one Query). The window is anchored on
        the opening, so every page of the incident, and a retried one, lists the same changes."""
        if self.changes is None or incident.canary:
            return []
        since, until = change_window(incident.opened_at)
        return self.changes.recent(incident.service, since, until, limit=MAX_CHANGES_SHOWN)

    def _record_changes(self, incident: Incident, now: datetime) -> None:
        """The changes on the incident's timeline, once: here, in the escalation's first step, and not when the
        incident opens (siren.app.ingest), because the opening is the hot path of every alert and is written in one
        transaction that a Query must not delay, while this step runs once per incident (attempt 1: a raised
        severity starts over at attempt 2 and adds nothing). The state machine retries a failed step: the entries
        and their mark are one transaction (EscalationState.record_send), and the mark is read first, so a retry
        after the write adds nothing and a retry after a failed write adds them then. No change, no write."""
        if self.escalations.sent_channels(incident.id, CHANGES_MARK):
            return
        entries = change_entries(self._changes_before(incident))
        if entries:
            self.escalations.record_send(incident.id, entries, page_id=CHANGES_MARK, sent=CHANGES_SENT, now=now)

    def _canary(self, incident: Incident, now: datetime) -> dict[str, Any]:
        """Siren's canary: the first level's people are resolved and each page by SMS is checked with a dry run
        (nothing is sent; no voice, email or chat). When every check passes, the heartbeat is recorded with the
        end-to-end seconds since the canary sent its alert; either way the incident resolves itself. A failed check
        records no heartbeat: the missing canary is what alarms."""
        policy = self.config.policy_for_severity(incident.severity)
        users = resolve_targets(policy.levels[0].targets, self.config, now) if policy.levels else ()
        entries: list[TimelineEntry] = []
        healthy = bool(users)
        if not users:
            entries.append(
                TimelineEntry(
                    now, TimelineKind.PAGE_FAILED, ACTOR, "canary: nobody is on call at level 1", {"canary": True}
                )
            )
        for user in users:
            phone = self.config.users[user].phone
            if not phone:
                continue
            check = self.pager.check_sms(phone, sms_text(incident, new_ack_code(self.rng)))  # a code, not held
            healthy = healthy and check.ok
            detail = f"canary: sms to {user} via {check.via} checked, not sent" + (
                "" if check.ok else f": failed: {check.error}"
            )
            kind = TimelineKind.PAGED if check.ok else TimelineKind.PAGE_FAILED
            entries.append(
                TimelineEntry(
                    now,
                    kind,
                    SYSTEM_ACTOR,
                    detail,
                    {
                        "user": user,
                        "channel": "sms",
                        "via": check.via,
                        "canary": True,
                        "dry_run": True,
                        "error": check.error,
                    },
                )
            )
        self.incidents.add_timeline(incident.id, entries)
        if self.canary is not None:
            if healthy:
                self.canary.heartbeat(now, canary_seconds(incident, now))
            self.canary.resolve(incident.id)
        return _stop(incident.id, "canary checked" if healthy else "canary check failed")

    @staticmethod
    def _drill_only(
        incident: Incident, users: Sequence[str], now: datetime, entries: list[TimelineEntry]
    ) -> tuple[str, ...]:
        """A drill pages its participants only; whoever else is on call is left alone (and that is recorded)."""
        if not incident.drill:
            return tuple(users)
        skipped = [user for user in users if user not in incident.drill_participants]
        if skipped:
            entries.append(
                TimelineEntry(
                    now,
                    TimelineKind.PAGE_FAILED,
                    ACTOR,
                    f"drill: not paging {', '.join(skipped)} (not a participant)",
                    {"drill": True, "skipped": skipped},
                )
            )
        return tuple(user for user in users if user in incident.drill_participants)

    def _posts_to_chat(self, incident: Incident) -> bool:
        """Once per escalation, when it starts: the incident in the team's chat channel (per config)."""
        return not (
            incident.drill
            or incident.canary
            or self.settings.chat_webhook_url is None
            or incident.severity not in self.config.paging.chat_severities
        )

    def _post_to_chat(self, incident: Incident, now: datetime, code: str | None) -> list[TimelineEntry]:
        read_url = self.settings.chat_webhook_url
        if read_url is None:
            return []
        try:
            url = read_url()
        except Exception as error:  # a broken secret must not stop the paging
            unavailable = f"chat webhook unavailable: {type(error).__name__}"
            return [TimelineEntry(now, TimelineKind.PAGE_FAILED, SYSTEM_ACTOR, unavailable, {"channel": "chat"})]
        if not url:
            return []
        attempt = self.pager.send_chat(url, chat_payload(incident, code))
        kind = TimelineKind.PAGED if attempt.ok else TimelineKind.PAGE_FAILED
        detail = f"chat via {attempt.via}" + ("" if attempt.ok else f" failed: {attempt.error}")
        return [
            TimelineEntry(
                self.clock(),
                kind,
                SYSTEM_ACTOR,
                detail,
                {"channel": "chat", "via": attempt.via, "error": attempt.error},
            )
        ]

    @property
    def _sms_links(self) -> bool:
        return self.config.paging.sms_links

    def _link(self, incident: Incident, action: AckAction, user: str, now: datetime) -> str | None:
        links = self.settings.links
        return links.link(incident.id, action, user, now) if links else None

    def _incident_severity(self, incident_id: str) -> str:
        incident = self.incidents.get(incident_id)
        return incident.severity if incident else "SEV3"


def _stop(incident_id: str, reason: str) -> dict[str, Any]:
    return {
        "action": "stop",
        "cursor": {"incident_id": incident_id, "done": True},
        "wait_seconds": 0,
        "pages": [],
        "reason": reason,
    }


def canary_seconds(incident: Incident, now: datetime) -> float:
    """Seconds from the canary's alert to its first escalation step. The canary names its alert with the time it
    sent it (``canary:<epoch milliseconds>``); another key falls back to when the incident was opened."""
    _, _, sent = incident.dedup_key.rpartition(":")
    try:
        sent_at = datetime.fromtimestamp(int(sent) / 1000, UTC)
    except ValueError:
        sent_at = incident.opened_at
    return max(0.0, (now - sent_at).total_seconds())
