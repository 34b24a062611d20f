"""The test suite's own cost: `make test` as a developer runs it, its wall time and the peak memory of its whole
process tree (pytest, its workers, the CDK's node, Chromium), sampled from /proc every quarter second.

Memory is each process's proportional set size (PSS), summed: a page that several processes share (Chromium's
many processes, the Python binary and libraries of both workers) counts once, so the sum is what the tree
really occupies. Summed RSS would count each shared page once per process.

Run alone: `python -m bench.suite [command...]` (default `make test`) prints the two figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.harness import PROJECT_ROOT, Report

SAMPLE_INTERVAL_S = 0.25
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name (field 2) may hold spaces and parentheses: split after its closing one.
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended while we looked
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _proportional_bytes(pid: int) -> int:
    """The process's proportional set size: its private pages plus its share of pages it shares (libraries,
    Chromium's processes): summed over a tree, shared memory counts once. Its resident size if PSS is not known."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0  # ended while we looked


def tree_memory_bytes(root: int) -> int:
    """Memory of ``root`` and all its descendants now (see :func:`_proportional_bytes`)."""
    children = _children_by_parent()
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        total += _proportional_bytes(pid)
    return total


def measure(argv: list[str], echo: bool = False) -> tuple[float, float, int]:
    """Run ``argv`` from the project root: (wall seconds, peak memory in MB of its process tree, exit code).
    Its output is echoed when ``echo``, else only its tail on failure."""
    peak = 0
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []

    def read() -> None:
        for line in process.stdout or []:
            output.append(line)
            if echo:
                sys.stdout.write(line)

    reader = threading.Thread(target=read, name="bench-suite-output")
    reader.start()
    while process.poll() is None:
        peak = max(peak, tree_memory_bytes(process.pid))
        time.sleep(SAMPLE_INTERVAL_S)
    wall = time.monotonic() - started
    reader.join()
    if process.returncode != 0 and not echo:
        sys.stdout.write("".join(output[-60:]))
    return wall, peak / 2**20, process.returncode


def run(report: Report) -> None:
    wall, peak_mb, code = measure(["make", "test"])
    note = "make test: lint, type checks, every tier" + ("" if code == 0 else f" (FAILED, exit {code})")
    report.add("test_suite_wall_s", round(wall, 1), "s", note)
    report.add(
        "test_suite_peak_rss_mb",
        round(peak_mb),
        "MB",
        "peak over the run of the memory of pytest, its workers and their children (PSS: shared pages once)",
    )


if __name__ == "__main__":
    command = sys.argv[1:] or ["make", "test"]
    wall_s, peak, exit_code = measure(command, echo=True)
    print(f"{' '.join(command)}: exit {exit_code}, wall {wall_s:.1f}s, peak memory of the process tree {peak:.0f} MB")
