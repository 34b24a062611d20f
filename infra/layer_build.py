"""Builds the shared Lambda layer without Docker.

Third-party wheels are fetched for the Lambda platform (``pip install --platform ... --only-binary``) into a
cache keyed by the requirements file and target, then the layer directory is assembled from that cache plus
the ``siren`` package source. Only a change of requirements costs a download.

The package is copied whole, data files included: siren.render reads its Jinja2 templates
(``siren/render/templates/*/*.j2``) from beside its modules. The layer also carries them compiled to Python
modules (``siren/render/templates_compiled/``), by the layer's own Jinja2, so a cold function skips compiling
them (tests/infra/test_layer_templates.py opens the synthesized asset and finds both).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = Path(__file__).resolve().parent / "layer_requirements.txt"
PACKAGE_SOURCE = PROJECT_ROOT / "layers" / "siren"
BUILD_ROOT = PROJECT_ROOT / "build"

# The Lambda target: keep in step with infra.constructs.functions.LAMBDA_RUNTIME / LAMBDA_ARCHITECTURE.
PYTHON_VERSION = "3.14"
PLATFORM = "manylinux2014_aarch64"


class LayerBuildError(RuntimeError):
    pass


def _dependencies_dir() -> Path:
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + f"{PYTHON_VERSION}/{PLATFORM}".encode()).hexdigest()[:16]
    target = BUILD_ROOT / "layer-deps" / key
    if (target / ".complete").exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    staging = target.with_suffix(".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--platform",
        PLATFORM,
        "--target",
        str(staging / "python"),
        "-r",
        str(REQUIREMENTS),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise LayerBuildError(f"could not fetch the layer's dependencies: {completed.stderr.strip()[-2000:]}")
    for cache_dir in (staging / "python").rglob("__pycache__"):
        shutil.rmtree(cache_dir, ignore_errors=True)
    staging.rename(target)
    (target / ".complete").touch()
    return target


_held = threading.local()


@contextlib.contextmanager
def build_lock() -> Iterator[None]:
    """Serializes builds into build/ across processes (two synths at once must not interleave). Reentrant."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    BUILD_ROOT.mkdir(exist_ok=True)
    with (BUILD_ROOT / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
            fcntl.flock(handle, fcntl.LOCK_UN)


# Run with the layer first on sys.path: the templates are compiled by the layer's pinned Jinja2 (the one that
# will run them) from the layer's copy of the package.
_COMPILE_TEMPLATES = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from siren.render.templates import COMPILED_DIR, compile_templates; compile_templates(COMPILED_DIR)"
)


def _compile_templates(python_dir: Path) -> None:
    command = [sys.executable, "-c", _COMPILE_TEMPLATES, str(python_dir)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise LayerBuildError(f"could not compile the layer's templates: {completed.stderr.strip()[-2000:]}")
    for cache_dir in python_dir.rglob("__pycache__"):
        shutil.rmtree(cache_dir, ignore_errors=True)


def build_layer() -> Path:
    """Assemble ``build/layer`` (``python/`` holds the dependencies and the ``siren`` package) and return it."""
    with build_lock():
        dependencies = _dependencies_dir()
        layer_dir = BUILD_ROOT / "layer"
        shutil.rmtree(layer_dir, ignore_errors=True)
        shutil.copytree(dependencies / "python", layer_dir / "python")
        # Everything but bytecode: modules and the data files they read (the renderer's templates).
        shutil.copytree(
            PACKAGE_SOURCE, layer_dir / "python" / "siren", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        _compile_templates(layer_dir / "python")
        return layer_dir
