"""The shared layer's asset carries the renderer's templates: the functions read them from the layer at run time
(siren.render.templates loads them from beside the module), so a layer without them fails on its first render."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import ModuleLoader

from siren.render.templates import TEMPLATE_DIR


def _shared_layer(assembly: Path) -> Path:
    template = json.loads((assembly / "Siren.template.json").read_text())
    manifest = json.loads((assembly / "Siren.assets.json").read_text())
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::LayerVersion":
            continue
        asset = manifest["files"][resource["Properties"]["Content"]["S3Key"].split(".")[0]]
        directory = assembly / asset["source"]["path"]
        if (directory / "python" / "siren").is_dir():
            found.append(directory)
    (layer,) = found
    return layer


def test_the_shared_layer_carries_every_template_byte_for_byte(siren_assembly: Path) -> None:
    # GIVEN the synthesized assembly WHEN the shared layer's asset is opened
    shipped = _shared_layer(siren_assembly) / "python" / "siren" / "render" / "templates"
    # THEN every template file of the source tree is there, unchanged, and nothing else is
    sources = {path.relative_to(TEMPLATE_DIR): path for path in TEMPLATE_DIR.rglob("*.j2")}
    assert sources, "no templates in the source tree"
    assert {path.relative_to(shipped) for path in shipped.rglob("*.j2")} == set(sources)
    for relative, source in sources.items():
        assert (shipped / relative).read_bytes() == source.read_bytes(), relative


def test_the_shared_layer_carries_the_templates_compiled(siren_assembly: Path) -> None:
    # GIVEN the shared layer WHEN its compiled templates are listed THEN there is one module per template file,
    # named as Jinja2's ModuleLoader looks them up
    compiled = _shared_layer(siren_assembly) / "python" / "siren" / "render" / "templates_compiled"
    names = {path.relative_to(TEMPLATE_DIR).as_posix() for path in TEMPLATE_DIR.rglob("*.j2")}
    assert {path.name for path in compiled.glob("*.py")} == {f"{ModuleLoader.get_module_filename(n)}" for n in names}
    assert not list(compiled.rglob("__pycache__"))  # bytecode of the build's Python would not fit Lambda's
