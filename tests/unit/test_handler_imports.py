"""What each handler's cold start imports: its module and its first wiring, in a fresh interpreter, as Lambda does.

Counted, not timed: the modules in ``sys.modules`` after the import and the wiring the first invocation does
(``handler.wire``: siren.bootstrap's builder of the use case), with the environment the stack gives the functions
and the deployed configuration as the config layer ships it. No function reads siren.yaml's YAML or runs the
configuration's validators (the deployed JSON was validated at synth); only the functions that render HTML (ack
pages, the status site, the report email) import Jinja2; none imports boto3 (botocore's clients are enough).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.foundation import UNDECORATED_WIRING, first_wiring
from siren.config import load_config

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
LAYERS = ROOT / "layers"

YAML_AND_VALIDATOR = ("yaml", "siren.config")  # PyYAML; siren.config: its YAML reader, sections and fields
JINJA2 = ("jinja2", "markupsafe", "siren.render.templates")
# Where HTML is rendered, Jinja2 is what renders it.
RENDERS_HTML = {
    "page_handlers.ack_link",
    "status_handlers.publish",
    "subscription_handlers.subscriptions",
    "report_handlers.scheduled_report",
}


def handlers() -> list[str]:
    """Every handler of functions/, as ``module.name``: the public functions the handler modules define."""
    found = []
    for path in sorted(FUNCTIONS.glob("*/*_handlers.py")):
        source = path.read_text()
        found += [
            f"{path.stem}.{line.split('(')[0].removeprefix('def ')}"
            for line in source.splitlines()
            if line.startswith("def ")
        ]
    return found


def environment(tmp: Path) -> dict[str, str]:
    """Every variable the stack sets on any function (placeholders for what deploy resolves), so that each builder
    wires all it can; AWS pointed at a port where nothing listens, since wiring makes no call."""
    config = tmp / "siren-config" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(load_config(ROOT / "siren.yaml").to_json(), sort_keys=True))
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:stand-in"
    return {
        "PATH": "/usr/bin:/bin",
        "POWERTOOLS_SERVICE_NAME": "siren",
        "POWERTOOLS_METRICS_NAMESPACE": "Siren",
        "SIREN_CONFIG_PATH": str(config),
        "TABLE_NAME": "siren-table",
        "EVENT_BUS_NAME": "siren-bus",
        "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
        "ORIGINATION_IDENTITY": "+15555550100",
        "EMAIL_SENDER": "siren@example.com",
        "ESCALATION_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:escalation",
        "WATCHDOG_REGION": "us-west-2",
        "SIREN_STACK_NAME": "Siren",
        "ACK_LINK_BASE_URL": "https://ack.stand-in.invalid/",
        "ACK_LINK_SECRET_ARN": arn,
        "CHAT_WEBHOOK_SECRET_ARN": arn,
        "SLACK_SIGNING_SECRET_ARN": arn,
        "SLACK_BOT_TOKEN_SECRET_ARN": arn,
        "WEBHOOK_TOKEN_SECRET_ARN": arn,
        "INTEGRATION_SECRET_ARN": arn,  # the webhook answers PagerDuty and Opsgenie: their APIs load too
        "WEBHOOK_URL": "https://hook.stand-in.invalid/",
        "WEBHOOK_BODY_BUCKET": "bodies",
        "WEBHOOK_CHUNK_FUNCTION": "chunks",
        "WEBHOOK_REQUESTS_PER_MINUTE": "600",
        "STATUS_BUCKET_NAME": "status",
        "STATUS_PAGE_URL": "https://status.stand-in.invalid/",
        "SUBSCRIPTIONS_URL": "https://subscribe.stand-in.invalid/",
        "ARTIFACTS_BUCKET_NAME": "artifacts",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "stand-in",
        "AWS_SECRET_ACCESS_KEY": "stand-in",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def cold_starts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Each handler's modules after its import and first wiring, one fresh interpreter per handler."""
    env = environment(tmp_path_factory.mktemp("config-layer"))
    loaded = {}
    for handler in handlers():
        paths = [str(FUNCTIONS / handler.split("_")[0]), str(LAYERS), str(ROOT)]
        loaded[handler] = set(first_wiring(handler, paths, env)["modules"])
    return loaded


def imported(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(f"{p}.") for p in prefixes))


def test_every_handler_is_checked_and_wired(cold_starts: dict[str, set[str]]):
    # The handler list is read from the sources: a new handler is checked without editing this file.
    assert len(cold_starts) >= 18
    assert {"page_handlers.send_page", "ingest_handlers.webhook", "status_handlers.publish"} <= set(cold_starts)
    # The wiring ran: each function's use case module is loaded.
    assert "siren.app.escalation" in cold_starts["page_handlers.send_page"]
    assert "siren.app.intake" in cold_starts["ingest_handlers.webhook"]
    # the webhook answers PagerDuty and Opsgenie: their APIs are wired, the incident use case they act through is
    # built on their first acknowledge or close, not at every cold start of a door that mostly takes alerts
    webhook = cold_starts["ingest_handlers.webhook"]
    assert {"siren.app.pagerduty_api", "siren.app.opsgenie_api"} <= webhook and "siren.app.incidents" not in webhook
    assert "siren.app.status_page" in cold_starts["status_handlers.publish"]


@pytest.mark.parametrize("handler", handlers())
def test_no_handler_reads_yaml_or_runs_the_config_validators(cold_starts: dict[str, set[str]], handler: str):
    assert imported(cold_starts[handler], YAML_AND_VALIDATOR) == []


@pytest.mark.parametrize("handler", sorted(set(handlers()) - RENDERS_HTML))
def test_no_jinja2_where_no_html_is_rendered(cold_starts: dict[str, set[str]], handler: str):
    """The paging path above all: a page's SMS, voice call, email and chat text are plain string templates."""
    assert imported(cold_starts[handler], JINJA2) == []


@pytest.mark.parametrize("handler", handlers())
def test_no_handler_imports_boto3(cold_starts: dict[str, set[str]], handler: str):
    assert imported(cold_starts[handler], ("boto3", "s3transfer")) == []


def test_the_probe_sees_what_a_handler_imports(tmp_path: Path):
    """The check can fail: the same probe, on a module that imports Jinja2 and siren.config, finds both."""
    module = tmp_path / "probe_handlers.py"
    module.write_text(
        "import jinja2\nfrom siren.config import load_config_text\n"
        "from siren.entrypoint import lambda_handler\n"
        "@lambda_handler(lambda: load_config_text('', 'x'))\n"
        "def probe(event, config):\n    return {}\n"
    )
    modules = set(first_wiring("probe_handlers.probe", [str(tmp_path), str(LAYERS)], environment(tmp_path))["modules"])
    assert imported(modules, JINJA2) and imported(modules, YAML_AND_VALIDATOR)


def test_undecorated_handlers_name_their_wiring():
    """webhook_chunk and send_canary call siren.bootstrap themselves: the probe is told which builder they use."""
    assert set(UNDECORATED_WIRING) <= {handler.split(".")[1] for handler in handlers()}


@pytest.mark.parametrize("handler", [h for h in handlers() if h.startswith("page_handlers.")])
def test_paging_functions_define_no_status_page_or_action_items(cold_starts: dict[str, set[str]], handler: str):
    """PynamoDB models are imported by the functions whose repositories use them."""
    assert imported(cold_starts[handler], ("siren.adapters.dynamodb.status_page",)) == []
    assert imported(cold_starts[handler], ("siren.adapters.dynamodb.action_items",)) == []
    if handler not in RENDERS_HTML:  # the ack pages' renderer shares the status site's view helpers
        assert imported(cold_starts[handler], ("siren.domain.status",)) == []


def test_an_incident_repository_alone_defines_every_kind_its_partition_holds():
    """The incident's partition holds its escalation's items; view() reads the partition with the base model, so a
    function that imports only the incident repository must still be able to read them."""
    probe = (
        "import sys, json; sys.path.insert(0, sys.argv[1])\n"
        "import siren.adapters.dynamodb.incidents\n"
        "from siren.adapters.dynamodb.table import Item\n"
        "print(json.dumps(sorted(kind.__name__ for kind in Item.kind.get_registered_subclasses(Item))))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(LAYERS)], capture_output=True, text=True, check=True)
    defined = set(json.loads(out.stdout))
    assert {"IncidentItem", "TimelineItem", "EscalationItem"} <= defined
    assert "StatusOverrideItem" not in defined
