"""DynamoDB writes with AWS's atomicity: conditional writes and transactions serialize, and a cancelled
transaction writes nothing (and so streams nothing).

moto 5.2.5 applies a transaction's operations one by one, then restores deep copies of whole tables when one
fails. That has three gaps that matter to Siren, whose correctness rests on conditional transactions:
- concurrent requests interleave: two racing transactions can both pass their conditions;
- the rollback copies every table the transaction touches, on every transaction (quadratic as tables grow),
  and fails with "dictionary changed size" when another thread writes meanwhile;
- writes that are rolled back have already been appended to the table's stream, so consumers see changes
  that never happened.

:func:`_transact_write_items` checks every condition first, under a lock shared with single-item writes, and
only then writes; items are snapshotted per key (not per table) in case a write fails validation.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

# One lock for every DynamoDB write in the process: DynamoDB serializes conflicting writes; a coarse lock is the
# simplest faithful model for a local runtime (reads stay concurrent).
_write_lock = threading.RLock()
_OPERATIONS = ("ConditionCheck", "Put", "Delete", "Update")


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _write_lock:
        operations: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        seen: set[tuple[str, str]] = set()
        for item in transact_items:
            if len(item) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(item.items()))
            if op_type not in _OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            key = _key_of(self, op_type, op)
            identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            operations.append((op_type, op, key))

        # 1. Every condition, against the state before the transaction.
        errors: list[tuple[str | None, str | None, Any]] = []
        for _op_type, op, key in operations:
            condition = op.get("ConditionExpression")
            current = self.get_item(op["TableName"], key)
            if condition is not None:
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    old = None
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                    continue
            errors.append((None, None, None))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        # 2. The writes. Snapshot the touched items, so a write that fails validation undoes the others.
        snapshots = [
            (op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key))) for _, op, key in operations
        ]
        try:
            for op_type, op, key in operations:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(
                        op["TableName"],
                        op["Item"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
                    )
                elif op_type == "Update":
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
        except Exception:
            for table_name, key, previous in snapshots:
                if previous is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, previous.to_json()["Attributes"])
            raise


def _locked(method: Any) -> Any:
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _write_lock:
            return method(self, *args, **kwargs)

    locked.__wrapped__ = method  # type: ignore[attr-defined]
    return locked


def install() -> None:
    if getattr(DynamoDBBackend.transact_write_items, "_siren", False):
        return
    for name in ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items"):
        if not hasattr(DynamoDBBackend, name):
            raise RuntimeError(f"moto changed: DynamoDBBackend.{name} is gone; the transaction adapter needs it")
    for name in ("put_item", "update_item", "delete_item", "batch_write_item"):
        setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
    _transact_write_items._siren = True  # type: ignore[attr-defined]
    setattr(DynamoDBBackend, "transact_write_items", _transact_write_items)  # noqa: B010
