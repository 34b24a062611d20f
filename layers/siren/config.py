"""Siren's declarative configuration: ``siren.yaml`` at the repo root, checked in and deployed with the stack.

Two ways in, one schema. People write YAML, and every problem is reported as ``file:line: field: message``,
all of them at once, so one edit fixes a file. Lambda gets the same configuration as normalized JSON
(:meth:`SirenConfig.to_json`), read back by :func:`config_from_json` through the very same validators, so the
two readings cannot drift apart; that path never imports PyYAML.

Adding a section (users, schedules, escalation policies...) takes a frozen dataclass with a ``to_json`` method,
a validator ``def _section(field: _Field) -> Section`` written with the :class:`_Field` helpers, and one line
in :func:`_config`. The helpers record wrong types, bad values and unknown keys as problems and return None,
so a validator falls back to a default and carries on looking for more problems. Validation is plain code on
purpose: a schema library such as pydantic costs about 300 ms of Lambda cold start.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from siren.domain.signals import SEVERITIES, Source

if TYPE_CHECKING:
    import yaml


class OnRecovery(enum.StrEnum):
    """What a resolved signal does to its open incident."""

    RESOLVE = "resolve"  # the incident resolves by itself
    RECOVER = "recover"  # the incident is marked recovered; a person resolves it


class InsufficientData(enum.StrEnum):
    """What CloudWatch's INSUFFICIENT_DATA state counts as."""

    IGNORE = "ignore"
    ALERT = "alert"  # as firing
    RECOVER = "recover"  # as resolved


class BuiltinRule(enum.StrEnum):
    """Severity rules that read what the sender said, named by ``use:`` in ``severity.rules``."""

    EXPLICIT = "explicit"  # SeverityHints.explicit
    DESCRIPTION_TAG = "description_tag"  # a "[SEV2]" tag in the description or the title
    SEVERITY_LABEL = "severity_label"  # the "severity" label through severity.label_map


# Rule names a severity decision records when no configured rule made it ("declared": `siren declare`).
RESERVED_RULE_NAMES: Final = frozenset({"service-default", "default", "declared"})
DEFAULT_LABEL_MAP: Final[Mapping[str, str]] = {
    "critical": "SEV1",
    "high": "SEV2",
    "error": "SEV2",
    "warning": "SEV3",
    "info": "SEV4",
}
_SERVICE_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]*")


# ---- the configuration ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flapping:
    """This many firing<->resolved transitions of one dedup key within the window: flapping, no new page."""

    transitions: int = 4
    window_minutes: int = 30

    def to_json(self) -> dict[str, Any]:
        return {"transitions": self.transitions, "window_minutes": self.window_minutes}


@dataclass(frozen=True, slots=True)
class FlappingOverride:
    """A service's flapping settings; None inherits ``defaults.flapping``."""

    transitions: int | None = None
    window_minutes: int | None = None

    def to_json(self) -> dict[str, Any]:
        return _without_none({"transitions": self.transitions, "window_minutes": self.window_minutes})


@dataclass(frozen=True, slots=True)
class Defaults:
    severity: str = "SEV3"
    on_recovery: OnRecovery = OnRecovery.RESOLVE
    insufficient_data: InsufficientData = InsufficientData.IGNORE
    flapping: Flapping = Flapping()

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "on_recovery": self.on_recovery.value,
            "insufficient_data": self.insufficient_data.value,
            "flapping": self.flapping.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Service:
    """A service's settings; None inherits from ``defaults``."""

    name: str
    description: str = ""
    alarm_patterns: tuple[str, ...] = ()  # fnmatch globs on CloudWatch alarm names, case-sensitive
    default_severity: str | None = None
    on_recovery: OnRecovery | None = None
    insufficient_data: InsufficientData | None = None
    flapping: FlappingOverride = FlappingOverride()

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "description": self.description,
                "alarm_patterns": list(self.alarm_patterns),
                "default_severity": self.default_severity,
                "on_recovery": _value_of(self.on_recovery),
                "insufficient_data": _value_of(self.insufficient_data),
                "flapping": self.flapping.to_json() or None,
            }
        )


@dataclass(frozen=True, slots=True)
class Match:
    """The ``when`` of a rule: every field given must match (AND)."""

    alarm_name: str | None = None  # fnmatch glob, case-sensitive
    namespace: str | None = None
    metric: str | None = None
    service: str | None = None  # the resolved service
    source: Source | None = None
    labels: Mapping[str, str] = field(default_factory=dict)  # each label must be equal

    def to_json(self) -> dict[str, Any]:
        return _without_none(
            {
                "alarm_name": self.alarm_name,
                "namespace": self.namespace,
                "metric": self.metric,
                "service": self.service,
                "source": _value_of(self.source),
                "labels": dict(self.labels) or None,
            }
        )


@dataclass(frozen=True, slots=True)
class WhenRule:
    """Give ``severity`` to signals that match ``when``."""

    name: str
    when: Match
    severity: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "when": self.when.to_json(), "severity": self.severity}


@dataclass(frozen=True, slots=True)
class UseRule:
    """Take the severity the sender stated, one of the ways :class:`BuiltinRule` names."""

    name: str
    use: BuiltinRule

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "use": self.use.value}


SeverityRule = WhenRule | UseRule

DEFAULT_RULES: Final[tuple[SeverityRule, ...]] = (
    UseRule("explicit", BuiltinRule.EXPLICIT),
    UseRule("description_tag", BuiltinRule.DESCRIPTION_TAG),
    UseRule("severity_label", BuiltinRule.SEVERITY_LABEL),
)


@dataclass(frozen=True, slots=True)
class SeverityConfig:
    # Keys are lowercase: a "severity" label's value is looked up lowercased.
    label_map: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LABEL_MAP))
    rules: tuple[SeverityRule, ...] = DEFAULT_RULES  # in order, the first match wins

    def to_json(self) -> dict[str, Any]:
        return {"label_map": dict(self.label_map), "rules": [rule.to_json() for rule in self.rules]}


@dataclass(frozen=True, slots=True)
class SirenConfig:
    defaults: Defaults = field(default_factory=Defaults)
    services: Mapping[str, Service] = field(default_factory=dict)  # in file order
    severity: SeverityConfig = field(default_factory=SeverityConfig)

    def to_json(self) -> dict[str, Any]:
        """The normalized configuration (every default filled in), as shipped to Lambda.

        It is the YAML schema but for one thing: ``services`` is a list of objects with a ``name``, because the
        first service whose alarm patterns match wins, in file order, and the order of a JSON object's keys
        does not survive ``json.dumps(sort_keys=True)`` or ``jq -S``.
        """
        return {
            "defaults": self.defaults.to_json(),
            "services": [{"name": name, **service.to_json()} for name, service in self.services.items()],
            "severity": self.severity.to_json(),
        }


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _value_of(option: enum.StrEnum | None) -> str | None:
    return None if option is None else option.value


# ---- problems ---------------------------------------------------------------------------------------------


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


# ---- the entry points -------------------------------------------------------------------------------------


def load_config(path: Path) -> SirenConfig:
    """Read and validate a YAML configuration file; problems name the path as given."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError([ConfigProblem(str(path), line, "", "the file is not UTF-8 text")]) from error
    return load_config_text(text, str(path))


def load_config_text(text: str, filename: str) -> SirenConfig:
    """Validate YAML text; ``filename`` is what problems name. Empty text is the all-defaults configuration."""
    check = _Check(filename)
    root = _parse_yaml(text, check)
    return _validated(_Field(check, "", root, line=1), check)


def config_from_json(data: Mapping[str, Any], source: str = "siren.json") -> SirenConfig:
    """Read the normalized JSON of :meth:`SirenConfig.to_json` (or any JSON of the same schema) back."""
    check = _Check(source, normalized=True)
    return _validated(_Field(check, "", _plain_node(data), line=None), check)


def _validated(root: _Field, check: _Check) -> SirenConfig:
    config = _config(root)
    if check.problems:
        raise ConfigError(check.sorted())
    return config


# ---- the validators: one per section ----------------------------------------------------------------------


def _config(root: _Field) -> SirenConfig:
    with root.fields() as section:
        return SirenConfig(
            defaults=_defaults(section["defaults"]),
            services=_services(section["services"]),
            severity=_severity(section["severity"]),
        )


def _defaults(given: _Field) -> Defaults:
    fallback = Defaults()
    with given.fields() as key:
        severity = key["severity"].severity()
        on_recovery = key["on_recovery"].choice(OnRecovery)
        insufficient_data = key["insufficient_data"].choice(InsufficientData)
        flapping = _flapping(key["flapping"])
    return Defaults(
        severity=_or(severity, fallback.severity),
        on_recovery=_or(on_recovery, fallback.on_recovery),
        insufficient_data=_or(insufficient_data, fallback.insufficient_data),
        flapping=Flapping(
            transitions=_or(flapping.transitions, fallback.flapping.transitions),
            window_minutes=_or(flapping.window_minutes, fallback.flapping.window_minutes),
        ),
    )


def _flapping(given: _Field) -> FlappingOverride:
    with given.fields() as key:
        return FlappingOverride(
            transitions=key["transitions"].integer(minimum=1),
            window_minutes=key["window_minutes"].integer(minimum=1),
        )


def _services(given: _Field) -> dict[str, Service]:
    services: dict[str, Service] = {}
    if given.normalized and isinstance(given.value, list):  # see SirenConfig.to_json
        for entry in given.items():
            with entry.fields() as key:
                name = key["name"].service_name()
                if not key["name"].exists:
                    entry.problem("every service needs a name")
                elif name in services:
                    key["name"].problem(f"duplicate service {_shown(name)}")
                services[name or ""] = _service(name or "", key)
        return services
    for name, entry in given.entries():
        if not _SERVICE_NAME.fullmatch(name):
            entry.problem(_SERVICE_NAME_RULE + f" (got {_shown(name)})", at_key=True)
        with entry.fields() as key:
            services[name] = _service(name, key)
    return services


def _service(name: str, key: _Fields) -> Service:
    return Service(
        name=name,
        description=_or(key["description"].string(allow_empty=True), ""),
        alarm_patterns=_or(key["alarm_patterns"].strings(), ()),
        default_severity=key["default_severity"].severity(),
        on_recovery=key["on_recovery"].choice(OnRecovery),
        insufficient_data=key["insufficient_data"].choice(InsufficientData),
        flapping=_flapping(key["flapping"]),
    )


def _severity(given: _Field) -> SeverityConfig:
    with given.fields() as key:
        label_map = _label_map(key["label_map"])
        rules = _rules(key["rules"])
    return SeverityConfig(label_map=_or(label_map, dict(DEFAULT_LABEL_MAP)), rules=_or(rules, DEFAULT_RULES))


def _label_map(given: _Field) -> dict[str, str] | None:
    if not given.exists:
        return None
    label_map: dict[str, str] = {}
    written: dict[str, str] = {}  # lowercased -> as written
    for value, entry in given.entries():
        label = value.strip().lower()
        severity = entry.severity()
        if not label:
            entry.problem("label values must not be empty", at_key=True)
        elif label in written:
            entry.problem(
                f"the same label value as {_shown(written[label])}: they are matched in any case", at_key=True
            )
        else:
            written[label] = value
            if severity is not None:
                label_map[label] = severity
    return label_map


def _rules(given: _Field) -> tuple[SeverityRule, ...] | None:
    if not given.exists:
        return None
    first_line: dict[str, int | None] = {}
    rules = [_rule(item, first_line) for item in given.items()]
    return tuple(rule for rule in rules if rule is not None)


def _rule(given: _Field, first_line: dict[str, int | None]) -> SeverityRule | None:
    with given.fields() as key:
        name_field, when_field, use_field, severity_field = key["name"], key["when"], key["use"], key["severity"]
        name = name_field.string()
        when = _match(when_field) if when_field.exists else None
        use = use_field.choice(BuiltinRule)
        severity = severity_field.severity()
    if not name_field.exists:
        name_field.problem("every rule needs a name")
    elif name in RESERVED_RULE_NAMES:
        name_field.problem(f"{_shown(name)} is reserved for decisions that no rule made")
    elif name in first_line:
        name_field.problem(f"duplicate rule name {_shown(name)}{_first_at(first_line[name])}")
    elif name is not None:
        first_line[name] = name_field.line
    if when_field.exists and use_field.exists:
        given.problem('a rule has either "when" (with "severity") or "use", not both')
    elif when_field.exists and not severity_field.exists:
        severity_field.problem('required with "when"')
    elif use_field.exists and severity_field.exists:
        severity_field.problem('not allowed with "use": the severity comes from the signal')
    elif not when_field.exists and not use_field.exists:
        given.problem('a rule needs either "when" (with "severity") or "use"')
    # Past this point a None means a problem was recorded above; the configuration will not be used.
    if name is None:
        return None
    if when is not None and use is None and severity is not None:
        return WhenRule(name, when, severity)
    if use is not None and when is None:
        return UseRule(name, use)
    return None


def _match(given: _Field) -> Match:
    with given.fields() as key:
        match = Match(
            alarm_name=key["alarm_name"].string(),
            namespace=key["namespace"].string(),
            metric=key["metric"].string(),
            service=key["service"].service_name(),
            source=key["source"].choice(Source),
            labels=_or(key["labels"].string_map(), {}),
        )
    # Empty: nothing written in it, or only `labels: {}`. (A typo in a key is reported as such, and only so.)
    written = {key: node.value for key, node in given.value.items()} if isinstance(given.value, dict) else {}
    if given.value is None or written in ({}, {"labels": {}}):
        given.problem("give at least one of alarm_name, namespace, metric, service, source, labels")
    return match


# ---- the validation layer ---------------------------------------------------------------------------------

_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.StrEnum)
_SERVICE_NAME_RULE: Final = 'service names are lowercase letters, digits, "-" and "_", starting with a letter or digit'


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _first_at(line: int | None) -> str:
    return "" if line is None else f" (first at line {line})"


def _shown(value: object) -> str:
    """A value as a problem quotes it: strings in double quotes, other scalars as YAML writes them."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class _Check:
    """The problems found in one file so far."""

    def __init__(self, filename: str, *, normalized: bool = False) -> None:
        self.filename = filename
        self.normalized = normalized  # the JSON of SirenConfig.to_json, not YAML a person wrote
        self.problems: list[ConfigProblem] = []

    def add(self, line: int | None, path: str, message: str) -> None:
        self.problems.append(ConfigProblem(self.filename, line, path, message))

    def sorted(self) -> list[ConfigProblem]:
        return sorted(self.problems, key=lambda problem: problem.line or 0)


@dataclass(frozen=True, slots=True)
class _Node:
    """A value with the line it was written on. Mappings hold ``dict[str, _Node]``, lists ``list[_Node]``."""

    value: object
    line: int | None
    key_line: int | None = None  # the line of the key this value belongs to, in a mapping


class _Field:
    """A value being validated, with its path and line.

    ``exists`` says whether the key was written at all. A null (``key:`` with nothing after it) reads as empty
    where a mapping or a list is expected, and as a problem where a single value is. Every reader returns None
    when the key is absent, or after recording a problem.
    """

    __slots__ = ("_check", "exists", "key_line", "line", "path", "value")

    def __init__(self, check: _Check, path: str, node: _Node | None, *, line: int | None) -> None:
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

    def _child(self, path: str, node: _Node | None) -> _Field:
        return _Field(self._check, path, node, line=self.line)

    def _collection(self, kind: type[_T], expected: str) -> _T | None:
        if isinstance(self.value, kind):
            return self.value
        if self.value is not None:
            self.problem(f"must be {expected} (got {_shown(self.value)})")
        return None

    def fields(self) -> _Fields:
        """A fixed set of keys: read each with ``[key]``; leaving the block reports the keys not read."""
        return _Fields(self, self._collection(dict, "a mapping") or {})

    def entries(self) -> list[tuple[str, _Field]]:
        """A mapping whose keys are names the user chooses (services, labels)."""
        entries: dict[str, _Node] = self._collection(dict, "a mapping") or {}
        return [(key, self._child(_join(self.path, key), node)) for key, node in entries.items()]

    def items(self) -> list[_Field]:
        items: list[_Node] = self._collection(list, "a list") or []
        return [self._child(f"{self.path}[{index}]", node) for index, node in enumerate(items)]

    def _scalar(self, expected: str) -> object:
        """The value, or None after saying what was expected of a null."""
        if self.exists and self.value is None:
            self.problem(f"must be {expected} (got nothing)")
        return self.value

    def string(self, *, allow_empty: bool = False) -> str | None:
        value = self._scalar("a string")
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(f"must be a string (got {_shown(value)})")
            return None
        if not allow_empty and not value.strip():
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
        value = self._scalar("a whole number")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"must be a whole number (got {_shown(value)})")
            return None
        if value < minimum:
            self.problem(f"must be at least {minimum} (got {value})")
            return None
        return value

    def choice(self, options: type[_E]) -> _E | None:
        chosen = self._one_of([option.value for option in options])
        return None if chosen is None else options(chosen)

    def severity(self) -> str | None:
        return self._one_of(SEVERITIES)

    def _one_of(self, allowed: Sequence[str]) -> str | None:
        expected = "one of " + ", ".join(allowed)
        value = self._scalar(expected)
        if value is None:
            return None
        if isinstance(value, str) and value in allowed:
            return value
        same_but_case = [option for option in allowed if str(value).lower() == option.lower()]
        hint = f'; did you mean "{same_but_case[0]}"?' if same_but_case else ""
        self.problem(f"must be {expected} (got {_shown(value)}{hint})")
        return None

    def service_name(self) -> str | None:
        name = self.string()
        if name is not None and not _SERVICE_NAME.fullmatch(name):
            self.problem(_SERVICE_NAME_RULE + f" (got {_shown(name)})")
            return None
        return name


class _Fields:
    """The keys of a mapping with a fixed schema; the keys never read are reported as unknown on exit."""

    def __init__(self, owner: _Field, entries: dict[str, _Node]) -> None:
        self._owner = owner
        self._entries = entries
        self._known: list[str] = []

    def __getitem__(self, key: str) -> _Field:
        if key not in self._known:
            self._known.append(key)
        return self._owner._child(_join(self._owner.path, key), self._entries.get(key))

    def __enter__(self) -> _Fields:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            return
        import difflib

        for key, node in self._entries.items():
            if key not in self._known:
                close = difflib.get_close_matches(key, self._known, n=1, cutoff=0.65)
                close = close or [known for known in self._known if len(key) >= 3 and known.startswith(key)]
                hint = f'did you mean "{close[0]}"?' if close else f"known keys: {', '.join(self._known)}"
                line = node.line if node.key_line is None else node.key_line
                self._owner._check.add(line, _join(self._owner.path, key), f"unknown key ({hint})")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# ---- turning YAML and JSON into nodes ---------------------------------------------------------------------


def _plain_node(value: object) -> _Node:
    if isinstance(value, Mapping):
        return _Node({str(key): _plain_node(item) for key, item in value.items()}, None)
    if isinstance(value, list | tuple):
        return _Node([_plain_node(item) for item in value], None)
    return _Node(value, None)


def _parse_yaml(text: str, check: _Check) -> _Node | None:
    """The document as nodes, with lines; None for an empty document.

    Duplicate keys and values YAML cannot construct are recorded and reading goes on; a syntax error stops
    everything at once (ConfigError), since nothing after it can be trusted.
    """
    import yaml

    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # checks the characters already
        root = loader.get_single_node()
        return None if root is None else _YamlReader(loader, check).node(root, "")
    except yaml.MarkedYAMLError as error:
        message = (error.problem or "not valid YAML").removeprefix("but ")
        if error.context:
            started = _yaml_line(error.context_mark)
            message = error.context + ("" if started is None else f" from line {started}") + f": {message}"
        line = _yaml_line(error.problem_mark) or _yaml_line(error.context_mark)
        raise ConfigError([ConfigProblem(check.filename, line, "", message)]) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        message = f"character {chr(error.character)!r} is not allowed in YAML"
        raise ConfigError([ConfigProblem(check.filename, line, "", message)]) from None
    finally:
        if loader is not None:
            loader.dispose()  # type: ignore[no-untyped-call]


def _yaml_line(mark: yaml.Mark | None) -> int | None:
    return None if mark is None else mark.line + 1


class _YamlReader:
    """Composed YAML nodes to :class:`_Node`: keys as written, scalars typed by YAML's rules, lines kept."""

    def __init__(self, loader: yaml.SafeLoader, check: _Check) -> None:
        self._loader = loader
        self._check = check
        self._open: set[int] = set()  # nodes being read: an alias back into one of them is a cycle

    def node(self, node: yaml.Node, path: str) -> _Node:
        import yaml

        line = node.start_mark.line + 1
        if id(node) in self._open:
            self._check.add(line, path, "an alias must not refer to a value that contains it")
            return _Node(None, line)
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return _Node(dict(self._entries(node, path)), line)
            if isinstance(node, yaml.SequenceNode):
                return _Node([self.node(item, f"{path}[{index}]") for index, item in enumerate(node.value)], line)
            try:
                return _Node(self._loader.construct_object(node), line)  # type: ignore[no-untyped-call]
            except yaml.MarkedYAMLError as error:
                self._check.add(line, path, error.problem or "not a valid value")
                return _Node(None, line)
        finally:
            self._open.discard(id(node))

    def _entries(self, node: yaml.MappingNode, path: str) -> Iterator[tuple[str, _Node]]:
        import yaml

        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self._check.add(key_line, path, "keys must be plain names, not lists or mappings")
                continue
            key = key_node.value
            key_path = _join(path, key)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._check.add(key_line, key_path, "merge keys are not supported: write the keys out")
            elif key in seen:
                self._check.add(key_line, key_path, f"duplicate key (first at line {seen[key]})")
            else:
                seen[key] = key_line
                value = self.node(value_node, key_path)
                yield key, _Node(value.value, value.line, key_line)
