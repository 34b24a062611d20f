"""Two-way SMS: "ACK 482193" / "RES 482193" replies to a page (End User Messaging publishes them to the inbound
topic). A code is bound to one incident and to the numbers paged with it; anything else changes nothing.

What Siren texts back tells a stranger nothing: any code a number may not use (none, unknown, expired, or bound to
other numbers) gets the same answer. Those answers, and HELP's, go out at most once a minute to a number, so that
inbound texts cannot buy unbounded outbound ones; a paged number's confirmations (acknowledged, resolved) always go
out. An opt-out keyword (STOP and AWS's others) is AWS's business: Siren stays silent."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siren.app.clock import utc_now
from siren.app.incidents import Incidents
from siren.domain.ack import ReplyKind, SmsCommandKind, help_text, parse_sms_reply, reply_text
from siren.domain.incidents import IncidentStatus
from siren.domain.policy import SirenConfig
from siren.ports import AckCodes, IncidentRepository, Pager


@dataclass(kw_only=True, frozen=True, slots=True, eq=False)
class SmsReplies:
    """The inbound-SMS function's use case: the code's binding and the reply window (codes), the incident it
    names (incidents), the acknowledgement or resolve a reply makes (changes), and the answer texted back."""

    incidents: IncidentRepository
    codes: AckCodes
    changes: Incidents
    config: SirenConfig
    pager: Pager
    clock: Callable[[], datetime] = utc_now

    def reply(self, message: str | Mapping[str, Any]) -> dict[str, Any]:
        codes, pager, incidents = self.codes, self.pager, self.changes
        body = json.loads(message) if isinstance(message, str) else message
        sender = str(body.get("originationNumber", ""))
        command = parse_sms_reply(str(body.get("messageBody", "")))
        if command.kind is SmsCommandKind.STOP:
            return {"outcome": "opt-out left to AWS"}

        def limited(text: str, outcome: dict[str, Any]) -> dict[str, Any]:
            """Send ``text`` unless ``sender`` had such an answer less than a minute ago."""
            if not codes.claim_sms_reply(sender, self.clock()):
                return {**outcome, "reply": "withheld: one a minute"}
            pager.send_sms(sender, text)
            return outcome

        if command.kind is SmsCommandKind.HELP:
            return limited(help_text(), {"outcome": "help"})
        refused = reply_text(ReplyKind.CODE_REFUSED)
        if command.kind is SmsCommandKind.UNKNOWN or not command.code:
            return limited(refused, {"outcome": "unknown command"})
        binding = codes.code_binding(command.code)
        if binding is None:
            return limited(refused, {"outcome": "unknown code"})
        incident_id, numbers = binding
        if sender not in numbers:
            # The outcome (logged, never sent) keeps the reason; the sender gets the same answer as for a dead code.
            return limited(refused, {"outcome": "not paged", "incident_id": incident_id})
        incident = self.incidents.get(incident_id)
        if incident is None or incident.status is IncidentStatus.RESOLVED:
            pager.send_sms(sender, reply_text(ReplyKind.ALREADY_RESOLVED, incident_id, command.code))
            return {"outcome": "already resolved", "incident_id": incident_id}
        actor = next((name for name, user in self.config.users.items() if user.phone == sender), sender)
        if command.kind is SmsCommandKind.ACK:
            incidents.acknowledge(incident_id, actor, via="sms")
            pager.send_sms(sender, reply_text(ReplyKind.ACKNOWLEDGED, incident_id, command.code))
            return {"outcome": "acknowledged", "incident_id": incident_id, "by": actor}
        incidents.resolve(incident_id, actor, note="resolved by SMS reply")
        pager.send_sms(sender, reply_text(ReplyKind.RESOLVED, incident_id, command.code))
        return {"outcome": "resolved", "incident_id": incident_id, "by": actor}
