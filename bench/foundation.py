"""Foundation figures: synth time, local deploy time, handler cold imports, package sizes."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import PROJECT_ROOT, Report, free_port

IMPORT_REPEATS = 7


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
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::LayerVersion":
            code_dir = asset_dirs[resource["Properties"]["Content"]["S3Key"].split(".")[0]]
            layer = "config" if "config" in resource["Properties"].get("Description", "").lower() else "shared"
            report.add(f"layer_zip_kb[{layer}]", round(len(zip_directory(code_dir)) / 1024, 1), "KB")
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        handler = resource["Properties"]["Handler"]
        module, _, name = handler.rpartition(".")
        code_dir = asset_dirs[resource["Properties"]["Code"]["S3Key"].split(".")[0]]
        label = f"{module}.{name}"
        report.add(f"package_kb[{label}]", round(len(zip_directory(code_dir)) / 1024, 2), "KB")
        env = resource["Properties"].get("Environment", {}).get("Variables", {})
        os.environ.update({k: v for k, v in env.items() if isinstance(v, str)})
        seconds = _median_import(f"import {module}", [str(code_dir), str(layer_dir)])
        report.add(
            f"cold_import_ratio[{label}]",
            round(seconds / baseline, 2),
            "x boto3",
            f"{seconds * 1000:.0f} ms vs import boto3",
        )
