"""The one Jinja2 environment: template files read from this package, compiled once per process.

Autoescaping is chosen by file name: ``*.html.j2`` and ``*.atom.j2`` are escaped (every value shown may have been
typed by a stranger or come from an alarm), ``*.css.j2`` and ``*.txt.j2`` are not (a stylesheet, a plain text
email body). Undefined names fail loudly, and blocks leave no stray blank lines (``trim_blocks``,
``lstrip_blocks``); a template's last newline is kept, so a file renders to what it says.

In the Lambda layer the templates also come compiled: infra/layer_build.py writes them as Python modules
(``templates_compiled/``, Jinja2's own ModuleLoader format) so that a cold start skips Jinja2's lexer, parser and
code generator, most of the cost of a first render (measured: the test site's first render 49 ms from the files,
13 ms from the modules). The source tree has no such directory and reads the files.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import jinja2
from markupsafe import Markup

from siren.domain.status import COMPONENT_STATUS_TEXT, HISTORY_DAYS
from siren.render import status_view
from siren.render.text import display_time, iso_utc

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
COMPILED_DIR = Path(__file__).resolve().parent / "templates_compiled"  # only in a built layer

# Characters XML 1.0 does not allow at all (escaping cannot save them): dropped from XML documents.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_XML_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}
)


def xml_text(value: object) -> Markup:
    """``value`` as XML character data, escaped as ElementTree escapes it (the feed's bytes predate the template).
    Markup is escaped too: in the feed, HTML is content, carried as text."""
    return Markup(_XML_INVALID.sub("", str(value)).translate(_XML_TEXT))  # noqa: S704 (escaped by the translate)


def xml_attribute(value: object) -> Markup:
    """``value`` as a double-quoted XML attribute value (line ends and tabs as character references)."""
    return Markup(_XML_INVALID.sub("", str(value)).translate(_XML_ATTRIBUTE))  # noqa: S704 (escaped by the translate)


def _configured(loader: jinja2.BaseLoader) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "atom.j2"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # the files do not change under a running process: no stat per render
    )
    env.filters.update(
        when=status_view.when,
        paragraphs=status_view.paragraphs,
        incident_path=status_view.incident_path,
        display_time=display_time,
        iso_utc=iso_utc,
        xml_text=xml_text,
        xml_attribute=xml_attribute,
    )
    env.globals.update(
        component_status=COMPONENT_STATUS_TEXT,
        public_status=status_view.PUBLIC_STATUS_TEXT,
        impact_text=status_view.IMPACT_TEXT,
        maintenance_status=status_view.MAINTENANCE_STATUS_TEXT,
        impact_colour=status_view.IMPACT_COLOUR,
        history_days=HISTORY_DAYS,
    )
    return env


@functools.cache
def environment() -> jinja2.Environment:
    """The process's one environment: compiled modules where the layer build left them, else the files."""
    if COMPILED_DIR.is_dir():
        return _configured(jinja2.ModuleLoader(COMPILED_DIR))
    return _configured(jinja2.FileSystemLoader(TEMPLATE_DIR))


def compile_templates(target: Path) -> None:
    """Every template file as a Python module in ``target`` (the layer's COMPILED_DIR), with this module's
    settings: escaping and whitespace are decided when a template is compiled."""
    _configured(jinja2.FileSystemLoader(TEMPLATE_DIR)).compile_templates(target, zip=None, ignore_errors=False)


def template(name: str) -> jinja2.Template:
    """A template by its path under ``templates/``, compiled on first use and kept by the environment."""
    return environment().get_template(name)
