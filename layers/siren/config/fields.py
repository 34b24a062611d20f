"""The validation toolkit of siren.yaml: every problem is recorded with its file, line and field, and reading goes on.

A validator reads a section through :class:`Field`: each reader returns the value, or None after recording what
was wrong, so the validator falls back to a default and carries on looking for more problems, and a person sees
every problem of a file at once. (The parsers of alert payloads stop at the first problem instead: see
:mod:`siren.domain.validation`, which both share.)
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final, TypeVar

from siren.domain.signals import SEVERITIES
from siren.domain.validation import shown, where_of

_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.StrEnum)
SERVICE_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]*")
SERVICE_NAME_RULE: Final = 'service names are lowercase letters, digits, "-" and "_", starting with a letter or digit'


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int | None  # 1-based; None when the configuration came as JSON
    field: str  # dotted path, e.g. "services.checkout.on_recovery"; "" for the file as a whole
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ConfigError(ValueError):
    """The configuration is invalid. ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def or_default(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def first_at(line: int | None) -> str:
    return "" if line is None else f" (first at line {line})"


class Check:
    """The problems found in one file so far."""

    def __init__(self, filename: str, *, normalized: bool = False) -> None:
        self.filename = filename
        self.normalized = normalized  # the JSON of SirenConfig.to_json, not YAML a person wrote
        self.problems: list[ConfigProblem] = []
        self.references: list[tuple[str, str, Field]] = []  # (kind, name, where): checked once all is read

    def add(self, line: int | None, path: str, message: str) -> None:
        self.problems.append(ConfigProblem(self.filename, line, path, message))

    def sorted(self) -> list[ConfigProblem]:
        return sorted(self.problems, key=lambda problem: problem.line or 0)


@dataclass(frozen=True, slots=True)
class Node:
    """A value with the line it was written on. Mappings hold ``dict[str, Node]``, lists ``list[Node]``."""

    value: object
    line: int | None
    key_line: int | None = None  # the line of the key this value belongs to, in a mapping


class Field:
    """A value being validated, with its path and line.

    ``exists`` says whether the key was written at all. A null (``key:`` with nothing after it) reads as empty
    where a mapping or a list is expected, and as a problem where a single value is. Every reader returns None
    when the key is absent, or after recording a problem.
    """

    __slots__ = ("_check", "exists", "key_line", "line", "path", "value")

    def __init__(self, check: Check, path: str, node: Node | None, *, line: int | None) -> None:
        self._check = check
        self.path = path
        self.exists = node is not None
        self.value = None if node is None else node.value
        # An absent field's problems ("required...") are reported on the line of the mapping it is missing from.
        self.line = line if node is None else node.line
        self.key_line = self.line if node is None or node.key_line is None else node.key_line

    @property
    def normalized(self) -> bool:
        return self._check.normalized

    def problem(self, message: str, *, at_key: bool = False) -> None:
        self._check.add(self.key_line if at_key else self.line, self.path, message)

    @property
    def references(self) -> list[tuple[str, str, Field]]:
        """Every (kind, name, where) recorded by :meth:`refers_to` in this file so far."""
        return self._check.references

    def refers_to(self, kind: str, name: str) -> None:
        """Record that this field names a user, schedule or escalation policy, checked when all is read."""
        self._check.references.append((kind, name, self))

    def _child(self, path: str, node: Node | None) -> Field:
        return Field(self._check, path, node, line=self.line)

    def _collection(self, kind: type[_T], expected: str) -> _T | None:
        if isinstance(self.value, kind):
            return self.value
        if self.value is not None:
            self.problem(f"must be {expected} (got {shown(self.value)})")
        return None

    def fields(self) -> Fields:
        """A fixed set of keys: read each with ``[key]``; leaving the block reports the keys not read."""
        return Fields(self, self._collection(dict, "a mapping") or {})

    def entries(self) -> list[tuple[str, Field]]:
        """A mapping whose keys are names the user chooses (services, labels)."""
        entries: dict[str, Node] = self._collection(dict, "a mapping") or {}
        return [(key, self._child(where_of(self.path, key), node)) for key, node in entries.items()]

    def items(self) -> list[Field]:
        items: list[Node] = self._collection(list, "a list") or []
        return [self._child(f"{self.path}[{index}]", node) for index, node in enumerate(items)]

    def _scalar(self, expected: str) -> object:
        """The value, or None after saying what was expected of a null."""
        if self.exists and self.value is None:
            self.problem(f"must be {expected} (got nothing)")
        return self.value

    def _typed(self, expected: str, kind: type[_T], *, not_kind: type | None = None) -> _T | None:
        """The value if it is a ``kind`` (and not a ``not_kind``: a bool is an int to Python, not to a person)."""
        value = self._scalar(expected)
        if value is None:
            return None
        if not isinstance(value, kind) or (not_kind is not None and isinstance(value, not_kind)):
            self.problem(f"must be {expected} (got {shown(value)})")
            return None
        return value

    def string(self, *, allow_empty: bool = False) -> str | None:
        value = self._typed("a string", str)
        if value is not None and not allow_empty and not value.strip():
            self.problem("must not be empty")
            return None
        return value

    def strings(self) -> tuple[str, ...] | None:
        if not self.exists:
            return None
        values = [item.string() for item in self.items()]
        return tuple(value for value in values if value is not None)

    def string_map(self) -> dict[str, str] | None:
        if not self.exists:
            return None
        values = {key: entry.string(allow_empty=True) for key, entry in self.entries()}
        return {key: value for key, value in values.items() if value is not None}

    def integer(self, *, minimum: int) -> int | None:
        value = self._typed("a whole number", int, not_kind=bool)
        if value is not None and value < minimum:
            self.problem(f"must be at least {minimum} (got {value})")
            return None
        return value

    def boolean(self) -> bool | None:
        return self._typed("true or false", bool)

    def choice(self, options: type[_E]) -> _E | None:
        chosen = self.one_of([option.value for option in options])
        return None if chosen is None else options(chosen)

    def severity(self) -> str | None:
        return self.one_of(SEVERITIES)

    def one_of(self, allowed: Sequence[str]) -> str | None:
        expected = "one of " + ", ".join(allowed)
        value = self._scalar(expected)
        if value is None:
            return None
        if isinstance(value, str) and value in allowed:
            return value
        same_but_case = [option for option in allowed if str(value).lower() == option.lower()]
        hint = f'; did you mean "{same_but_case[0]}"?' if same_but_case else ""
        self.problem(f"must be {expected} (got {shown(value)}{hint})")
        return None

    def service_name(self) -> str | None:
        name = self.string()
        if name is not None and not SERVICE_NAME.fullmatch(name):
            self.problem(SERVICE_NAME_RULE + f" (got {shown(name)})")
            return None
        return name


class Fields:
    """The keys of a mapping with a fixed schema; the keys never read are reported as unknown on exit."""

    def __init__(self, owner: Field, entries: dict[str, Node]) -> None:
        self._owner = owner
        self._entries = entries
        self._known: list[str] = []

    def __getitem__(self, key: str) -> Field:
        if key not in self._known:
            self._known.append(key)
        return self._owner._child(where_of(self._owner.path, key), self._entries.get(key))

    def __enter__(self) -> Fields:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            return

        for key, node in self._entries.items():
            if key not in self._known:
                close = difflib.get_close_matches(key, self._known, n=1, cutoff=0.65)
                close = close or [known for known in self._known if len(key) >= 3 and known.startswith(key)]
                hint = f'did you mean "{close[0]}"?' if close else f"known keys: {', '.join(self._known)}"
                line = node.line if node.key_line is None else node.key_line
                self._owner._check.add(line, where_of(self._owner.path, key), f"unknown key ({hint})")
