"""The project's config (siren.yaml), validated at synth and shipped to every function as a small layer.

Functions read /opt/siren-config/config.json (normalized JSON, no YAML parsing at cold start). An invalid
siren.yaml fails the synth with file:line: field: message, so a broken config never deploys.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.layer_build import build_lock
from siren.config import load_config
from siren.domain.policy import SirenConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_MOUNT = "/opt/siren-config/config.json"


def config_file() -> Path:
    """The config to deploy: $SIREN_CONFIG, else siren.yaml at the project root."""
    return Path(os.environ.get("SIREN_CONFIG") or PROJECT_ROOT / "siren.yaml")


def build_config_layer(config: SirenConfig) -> Path:
    with build_lock():
        layer_dir = PROJECT_ROOT / "build" / "config-layer"
        shutil.rmtree(layer_dir, ignore_errors=True)
        target = layer_dir / "siren-config" / "config.json"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(config.to_json(), sort_keys=True, indent=1))
        return layer_dir


class ConfigLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.config = load_config(config_file())
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(str(build_config_layer(self.config))),
            description="Siren config (siren.yaml, validated and normalized)",
        )
        self.environment = {"SIREN_CONFIG_PATH": CONFIG_MOUNT}
