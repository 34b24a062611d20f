"""The incident store: one DynamoDB table, typed item kinds, through PynamoDB; one module per noun.

Item kinds (single-table design; ``kind`` is PynamoDB's discriminator):

  incident  pk=INC#<id>                   sk=META          GSIs: by-status (unresolved only), by-service, by-time
  timeline  pk=INC#<id>                   sk=TL#<at>#<rnd>  one per state change, with actor and timestamp
  key       pk=KEY#<dedup key>            sk=STATE         the key's unresolved incident and recent transitions
  alert     pk=ALERT#<source>#<delivery>  sk=ALERT         the raw payload; doubles as the delivery's idempotency
                                                           guard; TTL ``expires_at``
  event     pk=EVENT#<uuid>               sk=EVENT         a lifecycle event (transactional outbox); the table's
                                                           stream feeds the publisher, which puts it on the bus
  escalation pk=INC#<id>                  sk=ESC#TOKEN     the current escalation attempt and its wait's task token
            pk=INC#<id>                   sk=ESC#CODE      the incident's acknowledgement code (expires with it)
            pk=INC#<id>                   sk=SENT#<page>   the channels a page task has sent; TTL
  ack_code  pk=ACKCODE#<code>             sk=CODE          the code's incident and the numbers paged with it; TTL
  link_nonce pk=LINKNONCE#<nonce>         sk=USED          a signed ack link that was used (single use); TTL at
                                                           the link's expiry
  sms_reply pk=SMSREPLY#<number>          sk=WINDOW        when the number may next get an SMS answer (one a
                                                           minute); TTL ``expires_at``
  heartbeat pk=HEARTBEATS                 sk=<name>         a heartbeat's first sight, last ping and the deadline last
                                                           reported missed (one Query reads them all)
            pk=CANARY                     sk=HEARTBEAT      Siren's own canary: its last good run and end-to-end seconds
  status_override pk=STATUSPAGE           sk=COMPONENT#<id> a component status set by hand
  maintenance pk=STATUSPAGE               sk=MAINT#<id>     a scheduled maintenance window
  publish_state pk=STATUSPAGE             sk=PUBLISH        the publisher's request mark and lease
  action_item pk=ACTIONS                  sk=<action id>    a postmortem action item
  change    pk=CHANGE#<service>           sk=<at>#<id>     a change of the service (a PagerDuty change event); TTL
  subscriber pk=SUBSCRIBERS               sk=<email>       a status page subscriber, pending (TTL) or confirmed
  slack_thread pk=SLACKMSG#<id>           sk=MESSAGE       where an incident's Slack message is (channel, ts), its
                                                           thread's replies so far, its incident channel

Modules: ``table`` (the base item, binding to a table at run time, transactions), ``incident_items`` (the
items of an incident's life) and one repository per port of siren.ports: ``incidents``, ``escalations``,
``ack_codes``, ``heartbeats``, ``status_page``, ``action_items``, ``changes``, ``subscribers``, ``slack_threads``.
Each function imports
the repositories it uses and so only their item kinds (a paging function does not define the status page's): the
names below are loaded from their modules when first asked for, and a table is bound with the kinds defined when a
repository is made (see :func:`siren.adapters.dynamodb.table.bind_models`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from siren.adapters.dynamodb.table import bind_models

if TYPE_CHECKING:
    from siren.adapters.dynamodb.ack_codes import DynamoAckCodes
    from siren.adapters.dynamodb.action_items import DynamoActionItems
    from siren.adapters.dynamodb.changes import DynamoChangeEvents
    from siren.adapters.dynamodb.escalations import DynamoEscalations
    from siren.adapters.dynamodb.heartbeats import DynamoHeartbeats
    from siren.adapters.dynamodb.incidents import DynamoIncidents
    from siren.adapters.dynamodb.slack_threads import DynamoSlackThreads
    from siren.adapters.dynamodb.status_page import DynamoStatusPage
    from siren.adapters.dynamodb.subscribers import DynamoSubscribers

# Each repository's module, imported when the name is first used (module __getattr__, PEP 562).
_REPOSITORIES = {
    "DynamoAckCodes": "ack_codes",
    "DynamoActionItems": "action_items",
    "DynamoChangeEvents": "changes",
    "DynamoEscalations": "escalations",
    "DynamoHeartbeats": "heartbeats",
    "DynamoIncidents": "incidents",
    "DynamoStatusPage": "status_page",
    "DynamoSlackThreads": "slack_threads",
    "DynamoSubscribers": "subscribers",
}


def __getattr__(name: str) -> Any:
    module = _REPOSITORIES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "DynamoAckCodes",
    "DynamoActionItems",
    "DynamoChangeEvents",
    "DynamoEscalations",
    "DynamoHeartbeats",
    "DynamoIncidents",
    "DynamoSlackThreads",
    "DynamoStatusPage",
    "DynamoStore",
    "DynamoSubscribers",
    "dynamo_store",
    "forget",
]


@dataclass(frozen=True, slots=True)
class DynamoStore:
    """Every noun of one table, for a caller that needs several (the CLI, benchmarks, tests)."""

    incidents: DynamoIncidents
    escalations: DynamoEscalations
    ack_codes: DynamoAckCodes
    heartbeats: DynamoHeartbeats
    status_page: DynamoStatusPage
    action_items: DynamoActionItems
    changes: DynamoChangeEvents
    subscribers: DynamoSubscribers
    slack_threads: DynamoSlackThreads


def dynamo_store(table_name: str, raw_alert_ttl: timedelta | None = None) -> DynamoStore:
    from siren.adapters.dynamodb.ack_codes import DynamoAckCodes
    from siren.adapters.dynamodb.action_items import DynamoActionItems
    from siren.adapters.dynamodb.changes import DynamoChangeEvents
    from siren.adapters.dynamodb.escalations import DynamoEscalations
    from siren.adapters.dynamodb.heartbeats import DynamoHeartbeats
    from siren.adapters.dynamodb.incidents import RAW_ALERT_TTL, DynamoIncidents
    from siren.adapters.dynamodb.slack_threads import DynamoSlackThreads
    from siren.adapters.dynamodb.status_page import DynamoStatusPage
    from siren.adapters.dynamodb.subscribers import DynamoSubscribers

    return DynamoStore(
        incidents=DynamoIncidents(table_name, RAW_ALERT_TTL if raw_alert_ttl is None else raw_alert_ttl),
        escalations=DynamoEscalations(table_name),
        ack_codes=DynamoAckCodes(table_name),
        heartbeats=DynamoHeartbeats(table_name),
        status_page=DynamoStatusPage(table_name),
        action_items=DynamoActionItems(table_name),
        changes=DynamoChangeEvents(table_name),
        subscribers=DynamoSubscribers(table_name),
        slack_threads=DynamoSlackThreads(table_name),
    )


def forget() -> None:
    """Drop every per-process cache of the store: the bound models (and their connections) and the open-incident
    hints. For siren.bootstrap.forget_built: a process that outlives an endpoint must not keep either."""
    import sys

    bind_models.cache_clear()
    incidents = sys.modules.get(f"{__name__}.incidents")  # not imported: no hints to forget
    if incidents is not None:
        incidents.DynamoIncidents.forget_hints()
