"""Foundation figures: synth time, local deploy time, handler cold starts (import, and import + first wiring),
package sizes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.harness import PROJECT_ROOT, Report, free_port

IMPORT_REPEATS = 7

# A handler's first invocation imports its module and wires its use case (siren.bootstrap's builder, which imports
# the use case, its adapters and reads the deployed configuration) before it does any work: that is what a cold
# start pays before the first AWS call. The handlers made with siren.entrypoint.lambda_handler carry their wiring as
# ``handler.wire``; these two call siren.bootstrap themselves.
UNDECORATED_WIRING = {"webhook_chunk": "intake", "send_canary": "alert_poster"}

# Run in a fresh interpreter: ``sys.argv[1]`` is a JSON list of paths to put first on sys.path, ``[2]`` the handler
# (``module.name``). Prints one JSON line: seconds to import, seconds to import and wire, the modules then loaded.
FIRST_WIRING = """\
import importlib, json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
module_name, _, name = sys.argv[2].rpartition(".")
started = time.perf_counter()
module = importlib.import_module(module_name)
imported = time.perf_counter()
handler = getattr(module, name)
wire = getattr(handler, "wire", None)
if wire is None:
    wire = getattr(importlib.import_module("siren.bootstrap"), json.loads(sys.argv[3])[name])
wire()
wired = time.perf_counter()
print(json.dumps({"import": imported - started, "wired": wired - started, "wire": wire.__name__,
                  "modules": sorted(sys.modules)}))
"""

# The stack's variables that are CloudFormation references (not known before deploy): stand-ins of the same shape.
# An ARN and a URL make the builders wire what they wire on AWS (the ack link signer needs an http(s) base URL).
_STAND_INS = {
    "_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:stand-in",
    "_URL": "https://stand-in.invalid/",
}


def wiring_environment(variables: Mapping[str, Any], config_root: Path, endpoint: str) -> dict[str, str]:
    """A function's environment for measuring its first wiring here: its own variables, references replaced by
    stand-ins, the config layer's ``/opt`` path pointed at ``config_root``, and AWS pointed at ``endpoint`` (where
    nothing listens: the wiring must make no call) with stand-in credentials (so no credential lookup either)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "SIREN_"))}
    for name, given in variables.items():
        value = given if isinstance(given, str) else _stand_in(name)
        env[name] = str(config_root / value.removeprefix("/opt/")) if value.startswith("/opt/") else value
    env.update(
        # The layer is read-only on Lambda (/opt): Python compiles it from source at every cold start, never
        # writing bytecode. So here: nothing is written to build/layer, and no run reuses another's bytecode.
        PYTHONDONTWRITEBYTECODE="1",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="stand-in",
        AWS_SECRET_ACCESS_KEY="stand-in",  # noqa: S106 (not a secret: nothing listens at the endpoint)
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def _stand_in(name: str) -> str:
    return next((stand_in for suffix, stand_in in _STAND_INS.items() if name.endswith(suffix)), "stand-in")


def first_wiring(handler: str, paths: list[str], env: Mapping[str, str]) -> dict[str, Any]:
    """Import ``handler``'s module and run its first wiring in a fresh interpreter (see :data:`FIRST_WIRING`)."""
    command = [sys.executable, "-c", FIRST_WIRING, json.dumps(paths), handler, json.dumps(UNDECORATED_WIRING)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, env=dict(env))
    if completed.returncode != 0:
        raise RuntimeError(f"the first wiring of {handler} failed: {completed.stderr.strip()[-2000:]}")
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def _timed_import(statement: str, extra_path: list[str]) -> float:
    """Seconds to run ``statement`` in a fresh interpreter, measured inside it (interpreter start excluded)."""
    code = (
        "import sys, time\n"
        f"sys.path[:0] = {extra_path!r}\n"
        "started = time.perf_counter()\n"
        f"{statement}\n"
        "print(time.perf_counter() - started)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(output.strip().splitlines()[-1])


def _median_import(statement: str, extra_path: list[str]) -> float:
    return statistics.median(_timed_import(statement, extra_path) for _ in range(IMPORT_REPEATS))


def _can_import(module: str) -> bool:
    """Whether ``module`` is importable by the interpreter the figures are measured with (a fresh process)."""
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True).returncode == 0


def pydantic_figure(report: Report, baseline: float) -> None:
    """pydantic v2's cold import, against ``import boto3`` in the same run: the measured cost behind choosing plain
    code over a validation library for siren.yaml and the alert parsers (both sit on the handlers' cold path)."""
    if not _can_import("pydantic"):
        print("pydantic_cold_import_ms: skipped: pydantic is not importable here (pip install pydantic to measure it)")
        return
    seconds = _median_import("from pydantic import BaseModel", [])
    report.add(
        "pydantic_cold_import_ms",
        round(seconds * 1000, 1),
        "ms",
        f"from pydantic import BaseModel, median of {IMPORT_REPEATS}; {seconds / baseline:.2f}x import boto3",
    )


def run(report: Report) -> None:
    out_dir = Path(tempfile.mkdtemp(prefix="bench-cdk-"))
    started = time.perf_counter()
    synth = f"from pathlib import Path; from infra.app import synthesize; synthesize(Path({str(out_dir)!r}))"
    subprocess.run([sys.executable, "-c", synth], check=True, cwd=PROJECT_ROOT, capture_output=True)
    report.add("synth_seconds", round(time.perf_counter() - started, 2), "s", "cold, in a fresh process, cdk-nag on")

    from siren_local.deploy import zip_directory
    from siren_local.runtime import LocalAws

    with LocalAws.over_http(port=free_port()) as runtime:
        started = time.perf_counter()
        stack = runtime.deploy_siren(out_dir, canary=False)
        report.add("local_deploy_seconds", round(time.perf_counter() - started, 2), "s", "bootstrap + assets + stack")
        template = stack.template

    manifest = json.loads((out_dir / "Siren.assets.json").read_text())
    asset_dirs = {asset_hash: out_dir / entry["source"]["path"] for asset_hash, entry in manifest["files"].items()}
    layer_dir = PROJECT_ROOT / "build" / "layer" / "python"
    baseline = _median_import("import boto3", [])
    report.add("import_boto3_ms", round(baseline * 1000, 1), "ms", "baseline, same run")
    pydantic_figure(report, baseline)
    config_root = PROJECT_ROOT / "build" / "config-layer"
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::LayerVersion":
            code_dir = asset_dirs[resource["Properties"]["Content"]["S3Key"].split(".")[0]]
            layer = "config" if "config" in resource["Properties"].get("Description", "").lower() else "shared"
            if layer == "config":
                config_root = code_dir
            report.add(f"layer_zip_kb[{layer}]", round(len(zip_directory(code_dir)) / 1024, 1), "KB")
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        handler = resource["Properties"]["Handler"]
        module, _, name = handler.rpartition(".")
        code_dir = asset_dirs[resource["Properties"]["Code"]["S3Key"].split(".")[0]]
        label = f"{module}.{name}"
        report.add(f"package_kb[{label}]", round(len(zip_directory(code_dir)) / 1024, 2), "KB")
        env = wiring_environment(
            resource["Properties"].get("Environment", {}).get("Variables", {}), config_root, endpoint
        )
        # On a shared machine the load changes from one handler to the next: each is judged against import boto3
        # measured alongside it, the two interleaved.
        boto3_runs, runs = [], []
        for _ in range(IMPORT_REPEATS):
            boto3_runs.append(_timed_import("import boto3", []))
            runs.append(first_wiring(handler, [str(code_dir), str(layer_dir)], env))
        alongside = statistics.median(boto3_runs)
        imported = statistics.median(run["import"] for run in runs)
        wired = statistics.median(run["wired"] for run in runs)
        report.add(
            f"cold_import_only_ratio[{label}]",
            round(imported / alongside, 2),
            "x boto3",
            f"{imported * 1000:.0f} ms vs {alongside * 1000:.0f} ms: the module's import alone, median of "
            f"{IMPORT_REPEATS}",
        )
        report.add(
            f"cold_import_ratio[{label}]",
            round(wired / alongside, 2),
            "x boto3",
            f"{wired * 1000:.0f} ms vs {alongside * 1000:.0f} ms: import + first wiring ({runs[0]['wire']}); no AWS "
            f"client is made at wiring, so the first call's is not in it; median of {IMPORT_REPEATS}",
        )
