"""What every noun of the table shares: the base item, binding the models to a table at run time, transactions.

The models are defined once, at module level, with typed attributes, and bound to a table when a repository is
made: PynamoDB reads ``Meta`` when a class is defined, and the table's name is known only at run time (and a test
process meets several tables). :func:`bound_table` makes, once per table, a subclass of every item kind whose
``Meta`` names the table. Each table's subclasses register their discriminator values on a ``kind`` attribute of
their own, so that a Query of the table's base model returns that table's subclasses (``isinstance`` of the
module-level kinds, so the repositories read them by their module-level names).
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self, TypeVar, cast

from pynamodb.attributes import DiscriminatorAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import TableConnection
from pynamodb.connection.base import MetaTable
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from siren.clients import endpoint_url, region_name
from siren.ports import ConcurrentChange, DuplicateDelivery


class Item(Model):
    """Every item of the table: its key, its kind (PynamoDB's discriminator) and an optional TTL."""

    class Meta:
        """No table here: :func:`bound_table` names it at run time (an unbound model refuses to be used)."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    expires_at = NumberAttribute(null=True)  # the table's TTL attribute (epoch seconds)


ItemKind = TypeVar("ItemKind", bound=Item)


class StringListAttribute(ListAttribute[str]):
    """A list of strings, typed as one (``ListAttribute(of=UnicodeAttribute)`` is typed as a list of attributes)."""

    def __init__(self, *, null: bool | None = None, default: Callable[[], list[str]] | None = None) -> None:
        super().__init__(null=null, default=default, of=cast("type[str]", UnicodeAttribute))


@dataclass(frozen=True, slots=True)
class BoundTable:
    """The item kinds bound to one table, and the table's connection for transactions and raw updates."""

    name: str
    base: type[Item]
    connection: TableConnection
    kinds: Mapping[type[Item], type[Item]]

    def model(self, kind: type[ItemKind]) -> type[ItemKind]:
        """``kind`` (a module-level item model) bound to this table."""
        return cast("type[ItemKind]", self.kinds[kind])

    def transaction(self) -> TransactWrite:
        return TransactWrite(connection=self.connection.connection)


@functools.cache
def bind_models(table_name: str, region: str, host: str | None, defined: frozenset[type[Item]]) -> BoundTable:
    """The item kinds ``defined`` bound to ``table_name`` (cached: one set of classes and connections per table,
    endpoint and set of kinds).

    A function imports only the item kinds its repositories use (a paging function has no status page items), so
    the kinds defined grow as modules are imported: a repository made after another kind's module was imported gets
    a binding with that kind too, and the earlier repositories keep theirs. What a Query of the base model may meet
    must be defined before it binds: each repository module imports the kinds that share its partitions.
    """
    meta_attributes: dict[str, Any] = {"table_name": table_name, "region": region}
    if host:
        meta_attributes["host"] = host

    def meta() -> type:
        return type("Meta", (), dict(meta_attributes))

    # The table's base has a discriminator of its own: the module-level one maps each value to one class, and each
    # table's classes must be what a Query of that table's base returns.
    base = cast(
        "type[Item]",
        types.new_class(
            f"Item[{table_name}]",
            (Item,),
            exec_body=lambda namespace: namespace.update({"Meta": meta(), "kind": DiscriminatorAttribute()}),
        ),
    )
    kinds: dict[type[Item], type[Item]] = {Item: base}
    for kind in sorted(defined, key=lambda kind: kind.__name__):
        kinds[kind] = cast(
            "type[Item]",
            types.new_class(
                f"{kind.__name__}[{table_name}]",
                (kind, base),
                {"discriminator": Item.kind.get_discriminator(kind)},
                exec_body=lambda namespace: namespace.update({"Meta": meta()}),
            ),
        )
    schema = {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    }
    connection = TableConnection(table_name, region=region, host=host, meta_table=MetaTable(schema))
    return BoundTable(table_name, base, connection, kinds)


def bound_table(table_name: str) -> BoundTable:
    """The table bound with every item kind defined so far (see :func:`bind_models`)."""
    defined = frozenset(Item.kind.get_registered_subclasses(Item))
    return bind_models(table_name, region_name(), endpoint_url(), defined)


class Change:
    """One TransactWriteItems for a state change, its failures translated for the use cases.

    The raw alert, when there is one, is the first put: DynamoDB reports cancellation reasons in the order of the
    items, and PynamoDB sends every put before any update, so a failed condition on the first reason is the
    delivery's guard (a redelivery) when the first put was a raw alert.
    """

    def __init__(self, table: BoundTable) -> None:
        self._write = table.transaction()
        self._first_put: str | None = None

    def save(self, item: Item, condition: Condition | None = None) -> None:
        if self._first_put is None:
            self._first_put = item.pk
        self._write.save(item, condition=condition)

    def update(
        self,
        item: Item,
        actions: list[Action],
        condition: Condition | None = None,
        *,
        add_version_condition: bool = True,
    ) -> None:
        self._write.update(item, actions=actions, condition=condition, add_version_condition=add_version_condition)

    def __enter__(self) -> Self:
        self._write.__enter__()
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        try:
            self._write.__exit__(kind, error, trace)
        except TransactWriteError as failure:
            if failure.cause_response_code != "TransactionCanceledException":
                raise
            codes = cancellation_codes(failure)
            first_is_alert = self._first_put is not None and self._first_put.startswith("ALERT#")
            if codes and codes[0] == "ConditionalCheckFailed" and first_is_alert:
                raise DuplicateDelivery("this delivery was already applied") from None
            if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                raise ConcurrentChange(f"a concurrent change won ({codes})") from None
            raise


def cancellation_codes(failure: TransactWriteError) -> list[str | None]:
    """The reason of each item of a cancelled transaction, in the order of its items (None: that item was fine)."""
    return [reason.code if reason else None for reason in (failure.cancellation_reasons or [])]


def won(write: Callable[[], object]) -> bool:
    """Run one conditional write: True when it wrote, False when its condition failed (another writer won, or the
    state had already moved on); any other failure raises."""
    try:
        write()
    except (PutError, UpdateError) as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


@contextlib.contextmanager
def unless_condition_fails() -> Iterator[None]:
    """An update whose condition says it is not needed (someone else made it already) is not an error."""
    try:
        yield
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def optional_iso(value: datetime | None) -> str | None:
    return iso(value) if value else None


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def instant(moment: datetime) -> str:
    """Fixed-width UTC ISO text (always with microseconds): two instants compare as their texts do."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
