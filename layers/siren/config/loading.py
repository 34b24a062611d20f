"""The entry points: a YAML file (people, the synth, ``siren config validate``) and JSON of the same schema.

Two ways in, one schema. People write YAML, and every problem is reported as ``file:line: field: message``,
all of them at once, so one edit fixes a file. The synth validates siren.yaml here and ships it to Lambda as
normalized JSON (:meth:`SirenConfig.to_json`). Lambda reads that file back without this package
(:meth:`SirenConfig.from_json`: it was validated at synth, and the validators cost a cold start); anyone else's
JSON goes through :func:`config_from_json` and the very same validators, and the tests hold the two readers to
the same result on the deployed JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from siren.config.fields import Check, ConfigError, ConfigProblem, Field
from siren.config.sections import validated_config
from siren.config.yaml_reader import parse_yaml, plain_node
from siren.domain.policy import SirenConfig


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
    check = Check(filename)
    root = parse_yaml(text, check)
    return _validated(Field(check, "", root, line=1), check)


def config_from_json(data: Mapping[str, Any], source: str = "siren.json") -> SirenConfig:
    """Read the normalized JSON of :meth:`SirenConfig.to_json` (or any JSON of the same schema) back."""
    check = Check(source, normalized=True)
    return _validated(Field(check, "", plain_node(data), line=None), check)


def _validated(root: Field, check: Check) -> SirenConfig:
    config = validated_config(root)
    if check.problems:
        raise ConfigError(check.sorted())
    return config
