"""The CDK's Node version banner (as jsii's runtime writes it on stderr) becomes one plain line; other lines pass."""

from __future__ import annotations

import io

from infra.jsii_console import banner_lines, plain_stderr_sink

# What the CDK printed on this machine (Node 20, 2026-11-30), as the Node process wrote it.
BANNER = [
    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
    "!!                                                                                       !!\n",
    "!!  Node 20 is end-of-life and not supported anymore by this software since 2026-10-30.  !!\n",
    "!!  Please upgrade to a supported node version as soon as possible.                      !!\n",
    "!!                                                                                       !!\n",
    "!!  This software is currently running on node v20.20.2.                                 !!\n",
    "!!  As of the current release of this software, supported node releases are:             !!\n",
    "!!  - ^24.0.0 (Planned end-of-life: 2028-04-30)                                          !!\n",
    "!!  - ^22.0.0 (Planned end-of-life: 2027-04-30)                                          !!\n",
    "!!                                                                                       !!\n",
    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
]


def test_the_node_banner_is_one_line_that_keeps_what_it_says():
    emitted: list[str] = []
    handle = banner_lines([], emitted.append)
    for line in BANNER:
        handle(line)
    assert emitted == [
        "CDK (Node): Node 20 is end-of-life and not supported anymore by this software since 2026-10-30. "
        "Please upgrade to a supported node version as soon as possible. "
        "This software is currently running on node v20.20.2. "
        "As of the current release of this software, supported node releases are: "
        "- ^24.0.0 (Planned end-of-life: 2028-04-30) - ^22.0.0 (Planned end-of-life: 2027-04-30)"
    ]


def test_other_lines_pass_as_text_and_console_messages_as_jsii_sends_them(capsys):
    stream = io.BytesIO(b"".join(line.encode() for line in BANNER) + b"plain words\n" + b'{"stderr": "aGk="}\n')
    plain_stderr_sink(stream)
    err = capsys.readouterr().err
    assert "b'" not in err and "!!" not in err
    assert err.count("CDK (Node): Node 20 is end-of-life") == 1
    assert "plain words\n" in err and err.endswith("hi")
