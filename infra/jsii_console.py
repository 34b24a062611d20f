"""What the CDK's Node process says on stderr, as plain text: its Node version banner as one line.

The CDK runs in a Node process (jsii) whose stderr the Python side reads. jsii passes its own console messages on
as they are, but prints any other line as a Python bytes repr; Node's version check writes its banner as such
lines, so every synth showed a dozen ``b'!!!...!!\\n'`` lines. :func:`install` replaces jsii's reader (jsii offers no
hook; the reader is looked up when the Node process starts, so this must run before ``import aws_cdk``): banner
boxes become one line, other lines are decoded, console messages pass as before.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from typing import IO

BANNER_EDGE = "!!"


def banner_lines(lines: list[str], emit: Callable[[str], None]) -> Callable[[str], None]:
    """A line handler that gathers the text of a ``!!`` box into ``lines`` and emits it as one line when the box
    closes; any other line is emitted as it is."""

    def handle(line: str) -> None:
        text = line.rstrip("\n")
        if not text.startswith(BANNER_EDGE):
            emit(text)
            return
        inner = text.strip("!").strip()
        if inner:
            lines.append(" ".join(inner.split()))
        elif not set(text.strip()) - {"!"} and lines:  # the closing edge (the opening one finds nothing gathered)
            emit("CDK (Node): " + " ".join(lines))
            lines.clear()

    return handle


def plain_stderr_sink(reader: IO[bytes]) -> None:
    """jsii's stderr reader, with non-console lines decoded and its Node banner folded into one line."""
    handle = banner_lines([], lambda text: print(text, file=sys.stderr, flush=True))
    for line in iter(reader.readline, b""):
        try:
            console = json.loads(line)
        except ValueError:
            handle(line.decode("utf-8", "replace"))
            continue
        if not isinstance(console, dict):
            handle(line.decode("utf-8", "replace"))
            continue
        if console.get("stderr") is not None:
            sys.stderr.buffer.write(base64.b64decode(console["stderr"]))
        if console.get("stdout") is not None:
            sys.stdout.buffer.write(base64.b64decode(console["stdout"]))


def install() -> None:
    from jsii._kernel.providers import process

    if not hasattr(process, "stderr_sink"):
        raise RuntimeError("jsii changed: jsii._kernel.providers.process.stderr_sink is gone; infra/jsii_console.py")
    process.stderr_sink = plain_stderr_sink  # type: ignore[assignment]
