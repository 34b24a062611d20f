"""The real store (in-process local AWS, the deployed table) passes the store contract (tests/store_contract.py)
that the fakes pass in tests/unit/test_fakes_keep_the_store_contract.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from siren.adapters.dynamodb import DynamoStore, dynamo_store
from siren.domain.incidents import Incident
from tests.conftest import running_runtime
from tests.store_contract import CHECKS, Store


@pytest.fixture(scope="module")
def store(siren_assembly: Path) -> Iterator[Store]:
    for runtime in running_runtime("in-process", 600, siren_assembly):
        runtime.pause_schedules("Siren-")  # nothing but the test writes to the table
        assert runtime.drain(30)
        real = dynamo_store(runtime.stacks["Siren"].outputs["IncidentsTableName"])
        yield Store(
            real.incidents,
            real.escalations,
            real.ack_codes,
            real.changes,
            real.subscribers,
            seed=seeding(real),
            slack_threads=real.slack_threads,
        )


def seeding(real: DynamoStore) -> Callable[[Incident], None]:
    def seed(incident: Incident) -> None:
        real.incidents.bulk_put([incident])

    return seed


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
def test_the_store_keeps_its_contract(store: Store, check: Callable[[Store], None]) -> None:
    check(store)
