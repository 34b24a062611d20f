"""Siren's declarative configuration: ``siren.yaml`` at the repo root, checked in and deployed with the stack.

- :mod:`siren.config.loading`: the entry points, a YAML file and JSON of the same schema, through the same
  validators (Lambda reads its deployed JSON with :meth:`siren.domain.policy.SirenConfig.from_json` instead).
- :mod:`siren.config.sections` and :mod:`siren.config.oncall_sections`: one validator per section.
- :mod:`siren.config.fields`: the toolkit the validators are written with (every problem with its line).
- :mod:`siren.config.yaml_reader`: YAML to values with lines; the only place PyYAML is imported.

What the configuration declares, the policy, is domain data: :mod:`siren.domain.policy`; this package only reads
and checks it.

Validation is plain code, shared with the alert parsers (:mod:`siren.domain.validation`): pydantic v2 was measured
(``make bench``: ``pydantic_cold_import_ms``) and ``from pydantic import BaseModel`` alone costs over a third of
``import boto3`` (43 ms against 117 ms), before any model is built, on handlers that are already past their
cold-start budget.
"""

from siren.config.fields import ConfigError as ConfigError
from siren.config.fields import ConfigProblem as ConfigProblem
from siren.config.loading import config_from_json as config_from_json
from siren.config.loading import load_config as load_config
from siren.config.loading import load_config_text as load_config_text
