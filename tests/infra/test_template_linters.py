"""Linters nobody here wrote, on the templates `make test` synthesizes: cfn-lint (0 errors) and checkov, each finding
either fixed or listed with its reason in infra/template-lint.yaml (and no entry there outliving its finding).

The linters run as subprocesses, once per module: cfn-lint from Siren's virtual environment, checkov from its own
(``make lint-tools``: .venv/lint, because checkov pins boto3 and botocore far below Siren's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SKIPS = PROJECT_ROOT / "infra" / "template-lint.yaml"
TEMPLATES = ("Siren.template.json", "SirenWatchdog.template.json")
CHECKOV = Path(os.environ.get("SIREN_CHECKOV", PROJECT_ROOT / ".venv" / "lint" / "bin" / "checkov"))
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


@dataclass(frozen=True)
class Finding:
    rule: str
    resource: str  # "<type>.<logical id>"
    message: str


@dataclass(frozen=True)
class Skip:
    rule: str
    resources: tuple[str, ...]
    reason: str

    def covers(self, finding: Finding) -> bool:
        return finding.rule == self.rule and any(fnmatch(finding.resource, p) for p in self.resources)


def load_skips(linter: str) -> list[Skip]:
    entries = yaml.safe_load(SKIPS.read_text())[linter]
    skips = [Skip(e["rule"], tuple(e["resources"]), " ".join(str(e["reason"]).split())) for e in entries]
    for skip in skips:
        assert len(skip.reason) > 40, f"{linter} {skip.rule}: every skip says why"
    return skips


def templates(assembly: Path) -> list[Path]:
    found = [assembly / name for name in TEMPLATES]
    assert all(path.exists() for path in found), f"not synthesized: {found}"
    return found


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # cwd: the assembly, so that no linter configuration of the working tree or home directory is picked up
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture(scope="module")
def cfn_lint_findings(siren_assembly: Path) -> list[Finding]:
    finished = run([str(CFN_LINT), "--format", "json", *map(str, templates(siren_assembly))], siren_assembly)
    # cfn-lint exits with a bit mask of what it found (2 errors, 4 warnings, 8 informational); 1 is its own failure
    assert finished.returncode & 1 == 0, finished.stderr
    findings = []
    for match in json.loads(finished.stdout or "[]"):
        template = json.loads(Path(match["Filename"]).read_text())
        path = match["Location"]["Path"]
        logical_id = path[1] if len(path) > 1 and path[0] == "Resources" else "/".join(map(str, path))
        kind = template.get("Resources", {}).get(logical_id, {}).get("Type", "Template")
        findings.append(Finding(match["Rule"]["Id"], f"{kind}.{logical_id}", match["Message"]))
    return findings


@pytest.fixture(scope="module")
def checkov_findings(siren_assembly: Path) -> list[Finding]:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make lint-tools`", pytrace=False)
    files = [arg for path in templates(siren_assembly) for arg in ("-f", str(path))]
    finished = run(
        [
            str(CHECKOV),
            "--quiet",
            "--compact",
            "--output",
            "json",
            "--soft-fail",
            "--skip-download",
            "--framework",
            "cloudformation",
            *files,
        ],
        siren_assembly,
    )
    assert finished.returncode == 0, finished.stderr
    reports: Any = json.loads(finished.stdout)
    findings = []
    for report in reports if isinstance(reports, list) else [reports]:
        assert report["summary"]["parsing_errors"] == 0, report["summary"]
        assert report["summary"]["resource_count"] > 100, "checkov read both templates"
        findings += [Finding(f["check_id"], f["resource"], f["check_name"]) for f in report["results"]["failed_checks"]]
    return findings


def unexplained(findings: list[Finding], skips: list[Skip]) -> list[str]:
    return sorted({f"{f.rule} {f.resource}: {f.message}" for f in findings if not any(s.covers(f) for s in skips)})


def stale(findings: list[Finding], skips: list[Skip]) -> list[str]:
    return [
        f"{skip.rule} {pattern}"
        for skip in skips
        for pattern in skip.resources
        if not any(finding.rule == skip.rule and fnmatch(finding.resource, pattern) for finding in findings)
    ]


def test_cfn_lint_finds_no_error(cfn_lint_findings):
    errors = [f"{f.rule} {f.resource}: {f.message}" for f in cfn_lint_findings if f.rule.startswith("E")]
    assert errors == []


def test_every_cfn_lint_warning_is_fixed_or_listed_with_its_reason(cfn_lint_findings):
    skips = load_skips("cfn-lint")
    assert unexplained(cfn_lint_findings, skips) == []
    assert stale(cfn_lint_findings, skips) == [], "fixed: remove these entries from infra/template-lint.yaml"


def test_every_checkov_finding_is_fixed_or_listed_with_its_reason(checkov_findings):
    skips = load_skips("checkov")
    assert unexplained(checkov_findings, skips) == []
    assert stale(checkov_findings, skips) == [], "fixed: remove these entries from infra/template-lint.yaml"


def test_the_skip_list_cannot_hide_a_new_finding():
    # GIVEN a finding of a listed rule on a resource no entry names (a third public function URL) THEN it is reported
    new = Finding("CKV_AWS_258", "AWS::Lambda::Url.StatusPublisherPublishFunctionFunctionUrl0A1B2C3D", "no auth")
    assert unexplained([new], load_skips("checkov")) == [f"{new.rule} {new.resource}: no auth"]
    # ...and an entry whose finding is gone is reported as stale
    assert "CKV_AWS_258 AWS::Lambda::Url.IngestWebhookFunctionFunctionUrl*" in stale([new], load_skips("checkov"))
