"""The fake store (tests/fakes.py) passes the store contract (tests/store_contract.py) that the real store passes
in tests/integration/test_store_contract.py: what a use-case test on the fakes shows holds on the real store."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fakes import FakeStore
from tests.store_contract import CHECKS, Store


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
def test_the_fakes_keep_the_store_contract(check: Callable[[Store], None]) -> None:
    fakes = FakeStore()
    check(
        Store(
            fakes.incidents,
            fakes.escalations,
            fakes.codes,
            fakes.changes,
            fakes.subscribers,
            seed=fakes.incidents.put,
            slack_threads=fakes.slack_threads,
        )
    )
