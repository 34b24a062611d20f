"""The renderer's template files: every one compiles, escaping follows the file name, one environment per
process, and the wheel's package data takes every file the renderer reads."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import jinja2
import pytest

from siren.render.templates import TEMPLATE_DIR, environment, template

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_NAMES = sorted(path.relative_to(TEMPLATE_DIR).as_posix() for path in TEMPLATE_DIR.rglob("*.j2"))


def test_there_are_templates_for_the_site_the_feed_the_report_and_the_ack_pages() -> None:
    assert {"status/index.html.j2", "status/feed.atom.j2", "report/report.html.j2", "report/report.txt.j2"} <= set(
        TEMPLATE_NAMES
    )
    assert "ack/page.html.j2" in TEMPLATE_NAMES


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_compiles(name: str) -> None:
    assert template(name).name == name


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_html_and_atom_are_autoescaped_and_nothing_else(name: str) -> None:
    # GIVEN a template file WHEN the environment decides on escaping THEN the file's kind decides it
    decide = environment().autoescape
    assert callable(decide)
    assert decide(name) is name.endswith((".html.j2", ".atom.j2"))
    assert name.endswith((".html.j2", ".atom.j2", ".css.j2", ".txt.j2"))  # no kind the rule has not been made for


def test_untrusted_text_is_escaped_in_an_html_template() -> None:
    page = template("ack/page.html.j2").render(
        heading="<script>x</script>", message='"><img src=x>', incident=None, form=None, button="", colour="#000"
    )
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<img" not in page and "&#34;&gt;&lt;img src=x&gt;" in page


def test_the_environment_and_its_templates_are_made_once_per_process() -> None:
    assert environment() is environment()
    assert template("status/index.html.j2") is template("status/index.html.j2")


def test_the_wheel_ships_every_template() -> None:
    settings = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = settings["package-data"]["siren.render"]
    for name in TEMPLATE_NAMES:
        assert any(fnmatch.fnmatch(f"templates/{name}", pattern) for pattern in patterns), name
    assert "siren.*" in settings["packages"]["find"]["include"]  # siren.render itself is found, not listed


def test_compiled_templates_render_the_same_bytes_as_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the templates compiled as the layer build compiles them, and the same renders from the files
    from siren.render import templates
    from siren.render.ack_pages import IncidentSummary, confirm_page
    from siren.render.report_email import render_report
    from siren.render.status_site import render_site
    from tests.unit.test_reports import weekly_report
    from tests.unit.test_status_render import SCRIPT, snapshot

    def everything() -> list[object]:
        incident = IncidentSummary(SCRIPT, "SEV1", "checkout", SCRIPT, "open")
        return [
            render_site(snapshot()),
            render_report(weekly_report()),
            confirm_page("ack", SCRIPT, incident, {"s": SCRIPT}),
        ]

    from_files = everything()
    templates.compile_templates(tmp_path)
    monkeypatch.setattr(templates, "COMPILED_DIR", tmp_path)
    templates.environment.cache_clear()
    try:
        # WHEN the process's environment finds them THEN it loads the modules, and every byte is the same
        assert isinstance(templates.environment().loader, jinja2.ModuleLoader)
        assert everything() == from_files
    finally:
        templates.environment.cache_clear()
