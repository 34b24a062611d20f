"""Layers are extracted once per process, by content: the /opt stand-in of the next runtime is the one already made,
and a layer whose content changed is a new one (siren_local.lambda_runtime.ExtractedLayers).

GIVEN layer versions as moto keeps them (their zip and its SHA-256), WHEN /opt is asked for again, as each
runtime's functions do, THEN each layer is unzipped once, the order still decides which file wins, and nothing
stale is served.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest

from siren_local.lambda_runtime import ExtractedLayers


@dataclass
class LayerVersion:
    """The attributes of moto's LayerVersion that extraction reads."""

    files: dict[str, str]
    code_bytes: bytes = field(init=False)
    code_digest: str = field(init=False)

    def __post_init__(self) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in self.files.items():
                archive.writestr(name, content)
        self.code_bytes = buffer.getvalue()
        self.code_digest = hashlib.sha256(self.code_bytes).hexdigest()


@pytest.fixture
def layers(tmp_path: Path) -> ExtractedLayers:
    return ExtractedLayers(tmp_path)


def unzips(layers: ExtractedLayers, versions: list[list[LayerVersion]]) -> tuple[list[Path], int]:
    """The /opt directory for each list of versions, and how many archives were extracted to make them."""
    with mock.patch.object(zipfile.ZipFile, "extractall", autospec=True, side_effect=zipfile.ZipFile.extractall) as spy:
        directories = [layers.opt_directory(each) for each in versions]
    return directories, spy.call_count


def test_the_same_layers_deployed_again_are_not_extracted_again(layers: ExtractedLayers) -> None:
    shared = {"python/siren/__init__.py": "", "shared.txt": "first"}
    config = {"siren-config/config.json": '{"team": "payments"}', "shared.txt": "second"}

    # Each runtime deploys its own layer versions (new objects), with the same bytes.
    directories, extracted = unzips(layers, [[LayerVersion(shared), LayerVersion(config)] for _runtime in range(3)])

    assert extracted == 2  # one per layer, not per runtime nor per function
    assert len(set(directories)) == 1
    assert (directories[0] / "siren-config" / "config.json").read_text() == '{"team": "payments"}'
    assert (directories[0] / "shared.txt").read_text() == "second"  # the later layer's file wins


def test_a_changed_layer_or_order_is_a_directory_of_its_own(layers: ExtractedLayers) -> None:
    shared = LayerVersion({"shared.txt": "first"})
    before = layers.opt_directory([shared, LayerVersion({"shared.txt": "second", "config.json": "old"})])

    changed = layers.opt_directory([shared, LayerVersion({"shared.txt": "second", "config.json": "new"})])
    reordered = layers.opt_directory([LayerVersion({"shared.txt": "second", "config.json": "new"}), shared])

    assert len({before, changed, reordered}) == 3
    assert (before / "config.json").read_text() == "old"
    assert (changed / "config.json").read_text() == "new"
    assert (reordered / "shared.txt").read_text() == "first"
