"""The CDK app. ``python -m infra.app`` is what cdk.json runs; :func:`synthesize` is the in-process synth.

Two stacks: ``Siren`` and its watchdog ``SirenWatchdog`` in a second region (CDK context ``watchdog_region``),
which share nothing, so that each deploys and runs on its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import cx_api

from infra.components.config_layer import config_file
from infra.layer_build import build_lock
from infra.nag import apply_nag
from infra.stack import SirenStack
from infra.watchdog import add_watchdog
from siren.config import load_config

STACK_NAME = "Siren"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def build_app(outdir: str | None = None) -> tuple[cdk.App, SirenStack]:
    app = cdk.App(outdir=outdir) if outdir else cdk.App()
    stack = SirenStack(
        app,
        STACK_NAME,
        description="Siren: serverless incident pipeline (detect, escalate, acknowledge, communicate, learn)",
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    add_watchdog(app, stack, load_config(config_file()).operations)
    apply_nag(app, stack)
    return app, stack


def synthesize(outdir: Path | None = None) -> cx_api.CloudAssembly:
    """Synthesize in-process (no cdk CLI, no Docker). Raises if cdk-nag reports an unsuppressed error."""
    # The build/ directories the assets come from stay put until the assembly has copied them.
    with build_lock():
        app, _ = build_app(str(outdir or PROJECT_ROOT / "cdk.out"))
        assembly = app.synth()
    errors = [
        f"{message.id}: {message.entry.data}"
        for artifact in assembly.stacks
        for message in artifact.messages
        if message.level == cx_api.SynthesisMessageLevel.ERROR
    ]
    if errors:
        raise SystemExit("cdk-nag found unsuppressed problems:\n" + "\n".join(errors))
    return assembly


if __name__ == "__main__":
    build_app()[0].synth()
