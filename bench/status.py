"""Status page figures: publishing with 1,000 past incidents and 20 components, and the weight of index.html.

The real path: the incident store (PynamoDB, the deployed table), the snapshot, the renderer and the status
bucket adapter (S3, only changed objects), on the embedded local AWS in-process. The first publish reads every
incident and renders every page; the one after an update reads the unresolved incidents, takes the resolved ones
from the publisher's record and renders only the incident pages whose content changed.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import Report, synthesized_assembly
from bench.ingest import RequestCounter

PAST_INCIDENTS = 1_000
COMPONENTS = 20
SERVICES = [f"service-{n:02d}" for n in range(COMPONENTS)]


def _config() -> Any:
    from siren.domain.policy import SirenConfig, StatusComponent, StatusPageConfig

    components = {
        f"component-{n:02d}": StatusComponent(
            name=f"Component {n:02d}",
            description=f"Part {n} of the product",
            group=f"Group {n // 5}",
            services=(SERVICES[n],),
        )
        for n in range(COMPONENTS)
    }
    return SirenConfig(status_page=StatusPageConfig(name="Bench Status", components=components))


def _seed(incidents: Any, now: datetime) -> None:
    from siren.domain.incidents import Incident, IncidentStatus, Outcome, PublicNote

    rng = random.Random(7)  # noqa: S311 (reproducible bench data, not secrets)
    for n in range(PAST_INCIDENTS):
        opened = now - timedelta(days=rng.uniform(0, 89), minutes=rng.uniform(0, 600))
        resolved = n >= 5  # a handful still open
        incident = Incident(
            id=f"INC-{opened:%Y%m%d-%H%M}-{n:06x}",
            status=IncidentStatus.RESOLVED if resolved else IncidentStatus.OPEN,
            severity=rng.choice(["SEV1", "SEV2", "SEV3", "SEV3", "SEV4"]),
            title=f"alarm {n}",
            service=rng.choice(SERVICES),
            dedup_key=f"bench:{n}",
            source="bench",
            opened_at=opened,
            last_seen_at=opened,
            resolved_at=opened + timedelta(minutes=rng.uniform(5, 240)) if resolved else None,
            public_title=f"Elevated errors on part {n % COMPONENTS}",
            public_updates=(
                PublicNote(opened + timedelta(minutes=3), "investigating", "We are looking into it.", "b"),
                PublicNote(opened + timedelta(minutes=20), "identified", "We found the cause.", "b"),
            ),
        )
        incidents.apply(Outcome("opened", "bench", incident), None)


def run(report: Report) -> None:
    from siren.adapters.dynamodb import dynamo_store
    from siren.adapters.status_bucket import StatusBucket
    from siren.app.incidents import Incidents
    from siren.app.status_page import StatusPage
    from siren.domain.incidents import IncidentStatus
    from siren.render.status_site import render_site
    from siren_local.runtime import LocalAws

    assembly = synthesized_assembly("status")
    with LocalAws.in_process() as runtime:
        outputs = runtime.deploy_siren(assembly, canary=False).outputs
        # The bench measures its own publishes: the deployed functions must not publish (nor count requests)
        # beside them. Every change below commits a lifecycle event; with the table's stream mappings off, none
        # reaches the deployed relay (and so no publisher, notifier or Slack function runs in the window). Without
        # this, how much of their work fell inside the measured window depended on whether their handlers were
        # already loaded in this process (16 requests and 799 ms after the Slack suite, 4 and ~160 ms alone).
        lambda_api = runtime.client("lambda")
        for mapping in lambda_api.list_event_source_mappings()["EventSourceMappings"]:
            lambda_api.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
        stores = dynamo_store(outputs["IncidentsTableName"])
        now = datetime.now(UTC)
        _seed(stores.incidents, now)
        page = StatusPage(stores.incidents, stores.status_page, _config(), "https://status.example.com")
        bucket = StatusBucket(outputs["StatusBucketName"])
        counter = RequestCounter()

        with counter.installed():
            started = time.perf_counter()
            full = page.publish_now(bucket)
            full_seconds = time.perf_counter() - started
        full_requests = sum(counter.take().values())

        objects = render_site(page.snapshot())
        index = next(obj for obj in objects if obj.key == "index.html")
        render_started = time.perf_counter()
        render_site(page.snapshot())
        render_seconds = time.perf_counter() - render_started

        # One public update on an open incident, then publish again: only what changed is written.
        open_incident = stores.incidents.list_by_status(IncidentStatus.OPEN, limit=1)[0]

        Incidents(stores.incidents, _config()).post_update(
            open_incident.id, "A fix is rolling out.", "monitoring", "bench"
        )
        with counter.installed():
            started = time.perf_counter()
            incremental = page.publish_now(bucket)
            incremental_seconds = time.perf_counter() - started
        incremental_requests = sum(counter.take().values())

    note = f"{PAST_INCIDENTS} past incidents, {COMPONENTS} components, in-process local AWS"
    # In-process, moto answers every PUT on this interpreter's GIL: the bucket's parallel writes (siren.adapters.
    # status_bucket.WRITERS, which overlap the network latency of S3's PUTs) cannot shorten this figure here.
    report.add(
        "status_publish_full",
        round(full_seconds * 1000),
        "ms",
        f"{note}; {full.written} objects written (in parallel on S3; one at a time under in-process moto's GIL)",
    )
    report.add(
        "status_publish_after_one_update",
        round(incremental_seconds * 1000),
        "ms",
        f"{incremental.written} written, {incremental.unchanged} unchanged",
    )
    report.add(
        "status_incident_pages_rendered_after_one_update",
        incremental.rendered,
        "pages",
        f"of {full.rendered} on the first publish; the feed, API, history and index are rendered every time",
    )
    report.add("status_snapshot_and_render", round(render_seconds * 1000), "ms", "reads + render, no writes")
    report.add("status_site_objects", len(objects), "objects", f"{full.bytes_written // 1024} KB written in all")
    report.add("status_publish_dynamodb_requests", full_requests, "requests", "Query pages on the indexes")
    report.add("status_publish_dynamodb_requests_incremental", incremental_requests, "requests")
    report.add("status_index_html_bytes", len(index.body), "bytes", "goal < 51200, CSS inline, no JavaScript")
    report.add("status_index_html_scripts", index.body.count(b"<script"), "elements")
