"""Acknowledgement codes against the real store (in-process local AWS, the deployed table).

GIVEN incidents written straight to the store
WHEN codes are drawn, renewed, freed and expire
THEN a code is never live for two incidents and a resolved incident's code goes back to the pool.

The page tasks that use the codes are tested on the fakes (tests/unit/test_escalation_on_fakes.py), which keep the
store's contract (tests/store_contract.py, run against this store in test_store_contract.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siren.adapters.dynamodb import DynamoStore, dynamo_store
from siren.adapters.dynamodb.ack_codes import ACK_CODE_GRACE, ACK_CODE_TTL
from siren.config import load_config
from siren.domain.incidents import Incident, IncidentStatus
from tests.conftest import running_runtime

CONFIG = load_config(Path(__file__).resolve().parents[2] / "siren.yaml")
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def stores(siren_assembly: Path) -> Iterator[DynamoStore]:
    for runtime in running_runtime("in-process", 600, siren_assembly):
        runtime.pause_schedules("Siren-")  # nothing but the test writes to the table
        assert runtime.drain(30)
        yield dynamo_store(runtime.stacks["Siren"].outputs["IncidentsTableName"])


def incident(number: int, status: IncidentStatus = IncidentStatus.OPEN) -> Incident:
    return Incident(
        id=f"INC-20261130-0300-{number:06x}",
        status=status,
        severity="SEV2",
        title=f"alarm {number}",
        service="search",
        dedup_key=f"codes:{number}",
        source="test",
        opened_at=NOW,
        last_seen_at=NOW,
    )


def drawing(*codes: str) -> Any:
    """A code source that draws ``codes`` in turn, then the last one forever."""
    queue = list(codes)
    return lambda: queue.pop(0) if len(queue) > 1 else queue[0]


# -- codes ------------------------------------------------------------------------------------------------
def test_a_live_incident_keeps_its_code_and_renews_it_while_it_pages(stores):
    first = incident(1)
    stores.incidents.bulk_put([first])

    code = stores.ack_codes.ack_code(first.id, drawing("111111"), NOW)
    # Six days later it pages again: same code, and its life runs from now (it outlives the first week).
    assert stores.ack_codes.ack_code(first.id, drawing("222222"), NOW + timedelta(days=6)) == code
    assert stores.ack_codes.code_binding(code, NOW + ACK_CODE_TTL + timedelta(days=5)) == (first.id, [])


def test_an_expired_code_and_its_binding_go_together_and_never_cross_to_another_incident(stores):
    """The review's crossing: an incident open past the code's life kept its binding while the code expired; once
    another incident drew the code, the first incident's re-page reused it, and its responders' ACK reached the
    second incident."""
    old, new = incident(2), incident(3)
    stores.incidents.bulk_put([old, new])
    code = stores.ack_codes.ack_code(old.id, drawing("333333"), NOW)
    assert stores.ack_codes.bind_number(code, old.id, "+14255550101", NOW)

    later = NOW + ACK_CODE_TTL + timedelta(hours=1)  # both expired (TTL has not deleted them yet)
    assert stores.ack_codes.code_binding(code, later) is None
    assert stores.ack_codes.ack_code(new.id, drawing(code), later) == code  # the other incident draws the freed code

    repaged = stores.ack_codes.ack_code(old.id, drawing(code, "444444"), later)
    assert repaged == "444444"  # not the other incident's live code
    assert stores.ack_codes.code_binding(code, later) == (new.id, [])  # the old responder's number is not on it
    assert not stores.ack_codes.bind_number(code, old.id, "+14255550101", later)  # and cannot be put on it
    assert stores.ack_codes.bind_number(repaged, old.id, "+14255550101", later)
    assert stores.ack_codes.code_binding(repaged, later) == (old.id, ["+14255550101"])


def test_a_resolved_incidents_code_is_freed_after_a_grace_for_late_replies(stores):
    resolved, next_one = incident(4), incident(5)
    stores.incidents.bulk_put([resolved, next_one])
    code = stores.ack_codes.ack_code(resolved.id, drawing("555555"), NOW)

    assert stores.ack_codes.free_ack_code(resolved.id, NOW) == code
    assert stores.ack_codes.free_ack_code(resolved.id, NOW) == code  # a redelivered "Incident Resolved" changes nothing
    assert stores.ack_codes.code_binding(code, NOW + ACK_CODE_GRACE / 2) == (
        resolved.id,
        [],
    )  # "already resolved" still
    after = NOW + ACK_CODE_GRACE + timedelta(seconds=1)
    assert stores.ack_codes.code_binding(code, after) is None
    assert stores.ack_codes.ack_code(next_one.id, drawing(code), after) == code


def test_no_code_is_handed_out_when_every_draw_is_live(stores):
    holder, starved = incident(6), incident(7)
    stores.incidents.bulk_put([holder, starved])
    code = stores.ack_codes.ack_code(holder.id, drawing("666666"), NOW)

    assert stores.ack_codes.ack_code(starved.id, drawing(code), NOW, attempts=5) is None
    assert stores.ack_codes.code_binding(code, NOW) == (holder.id, [])
