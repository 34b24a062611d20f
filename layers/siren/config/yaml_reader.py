"""YAML and JSON into :class:`~siren.config.fields.Node` s: values with the line each was written on.

PyYAML is imported only here, and only when a YAML file is read: Lambda reads the normalized JSON and never
imports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from siren.config.fields import Check, ConfigError, ConfigProblem, Node
from siren.domain.validation import where_of

if TYPE_CHECKING:
    import yaml


def plain_node(value: object) -> Node:
    if isinstance(value, Mapping):
        return Node({str(key): plain_node(item) for key, item in value.items()}, None)
    if isinstance(value, list | tuple):
        return Node([plain_node(item) for item in value], None)
    return Node(value, None)


def parse_yaml(text: str, check: Check) -> Node | None:
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
    """Composed YAML nodes to :class:`Node`: keys as written, scalars typed by YAML's rules, lines kept."""

    def __init__(self, loader: yaml.SafeLoader, check: Check) -> None:
        self._loader = loader
        self._check = check
        self._open: set[int] = set()  # nodes being read: an alias back into one of them is a cycle

    def node(self, node: yaml.Node, path: str) -> Node:
        import yaml

        line = node.start_mark.line + 1
        if id(node) in self._open:
            self._check.add(line, path, "an alias must not refer to a value that contains it")
            return Node(None, line)
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return Node(dict(self._entries(node, path)), line)
            if isinstance(node, yaml.SequenceNode):
                return Node([self.node(item, f"{path}[{index}]") for index, item in enumerate(node.value)], line)
            try:
                return Node(self._loader.construct_object(node), line)  # type: ignore[no-untyped-call]
            except yaml.MarkedYAMLError as error:
                self._check.add(line, path, error.problem or "not a valid value")
                return Node(None, line)
        finally:
            self._open.discard(id(node))

    def _entries(self, node: yaml.MappingNode, path: str) -> Iterator[tuple[str, Node]]:
        import yaml

        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self._check.add(key_line, path, "keys must be plain names, not lists or mappings")
                continue
            key = key_node.value
            key_path = where_of(path, key)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._check.add(key_line, key_path, "merge keys are not supported: write the keys out")
            elif key in seen:
                self._check.add(key_line, key_path, f"duplicate key (first at line {seen[key]})")
            else:
                seen[key] = key_line
                value = self.node(value_node, key_path)
                yield key, Node(value.value, value.line, key_line)
