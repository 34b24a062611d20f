"""The Siren stack: one construct per concern, and the outputs every tool reads by name."""

from __future__ import annotations

from aws_cdk import CfnCondition, CfnOutput, CfnParameter, Fn, Stack
from constructs import Construct

from infra.components.alerting import AlertTopics
from infra.components.canary import Canary
from infra.components.config_layer import ConfigLayer
from infra.components.escalation import Escalation
from infra.components.events import IncidentEvents
from infra.components.functions import FunctionBase, ReservedConcurrency, SharedLayer, SirenFunction
from infra.components.ingest import Ingest
from infra.components.operations import Operations, Watched
from infra.components.pipeline import Pipeline
from infra.components.reports import Reports
from infra.components.slack import SlackApp
from infra.components.status_publisher import StatusPublisher
from infra.components.status_site import StatusSite
from infra.components.store import IncidentStoreTable
from infra.components.subscriptions import Subscriptions
from infra.nag import acknowledge
from infra.outputs import OUTPUT_NAMES
from infra.watchdog import watchdog_region

__all__ = ["CONCURRENCY_PLAN", "OUTPUT_NAMES", "SirenStack"]

# Who reserves what (ReservedConcurrency; construct paths in the stack). The public URLs are capped, so that a
# flood at them cannot take the executions the paging path needs; the paging path is guaranteed its executions
# whatever else runs in the account. The status publisher, the reports and the canary share the unreserved pool:
# none of them pages anyone. A new function on the paging path gets a line here (tests/infra/test_scoped_iam.py
# finds the paging path in the template and fails for a function on it without a reservation).
CONCURRENCY_PLAN = {
    "Ingest/Webhook": ReservedConcurrency.PUBLIC_WEBHOOK,
    "Escalation/AckLink": ReservedConcurrency.PUBLIC_ACK_LINK,
    "Slack/App": ReservedConcurrency.PUBLIC_ACK_LINK,  # people clicking buttons and typing /siren, like links
    "Subscriptions/Form": ReservedConcurrency.PUBLIC_ACK_LINK,  # a public form: capped like the links
    "Ingest/AlarmEvents": ReservedConcurrency.PAGING_PATH,
    "Ingest/AlarmSns": ReservedConcurrency.PAGING_PATH,
    "Ingest/AlarmActions": ReservedConcurrency.PAGING_PATH,
    "Ingest/Publisher": ReservedConcurrency.STREAM_RELAY,
    "Ingest/WebhookChunks": ReservedConcurrency.PAGING_PATH,
    "Escalation/Lifecycle": ReservedConcurrency.PAGING_PATH,
    "Escalation/Step": ReservedConcurrency.ESCALATION_TASKS,
    "Escalation/Page": ReservedConcurrency.ESCALATION_TASKS,
    "Escalation/Hold": ReservedConcurrency.ESCALATION_TASKS,
    "Escalation/Roles": ReservedConcurrency.PAGING_PATH,
    "Escalation/Failure": ReservedConcurrency.PAGING_PATH,
    "Escalation/InboundSms": ReservedConcurrency.PAGING_PATH,
    "Ingest/Heartbeats": ReservedConcurrency.SCHEDULED,
    "Escalation/Reconciler": ReservedConcurrency.SCHEDULED,
}


class SirenStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        incident_events = IncidentEvents(self, "IncidentEvents")
        store = IncidentStoreTable(self, "IncidentStore")
        topics = AlertTopics(self, "AlertTopics")
        status_site = StatusSite(self, "StatusSite")
        shared = SharedLayer(self, "SharedLayer")
        config = ConfigLayer(self, "Config")
        base = FunctionBase(layers=[shared.layer, config.layer], environment=config.environment)
        pipeline = Pipeline(base=base, table=store.table, bus=incident_events.bus)
        ingest = Ingest(
            self,
            "Ingest",
            pipeline,
            alarm_topic=topics.alarm_topic,
            access_logs=status_site.access_logs,
        )
        incident_events.admit_only(ingest.publisher.role)
        acknowledge(
            ingest.dead_letters,
            "AwsSolutions-SQS3",
            "This is the dead-letter queue itself (of the functions, rules, schedules and the stream relay): a DLQ "
            "of a DLQ would only move the problem. Its depth alarms the operations contacts.",
        )
        escalation = Escalation(
            self,
            "Escalation",
            pipeline,
            inbound_sms_topic=topics.inbound_sms_topic,
            dead_letters=ingest.dead_letters,
            watchdog_region=watchdog_region(self),
        )
        SlackApp(self, "Slack", pipeline, dead_letters=ingest.dead_letters)
        canary_state = CfnParameter(
            self,
            "CanaryState",
            default="ENABLED",
            allowed_values=["ENABLED", "DISABLED"],
            description="Siren's end-to-end canary: DISABLED stops its schedule and the CanaryMissing alarm's actions",
        )
        canary_enabled = CfnCondition(
            self, "CanaryEnabled", expression=Fn.condition_equals(canary_state.value_as_string, "ENABLED")
        )
        Canary(
            self,
            "Canary",
            base=base,
            webhook_url=ingest.webhook_url,
            webhook_token=ingest.webhook_token,
            heartbeat_minutes=config.config.operations.heartbeat_minutes,
            dead_letters=ingest.dead_letters,
            state=canary_state,
        )
        Reports(
            self,
            "Reports",
            pipeline,
            config=config.config.reports,
            email_sender=escalation.email_sender,
            access_logs=status_site.access_logs,
            dead_letters=ingest.dead_letters,
        )
        subscriptions = Subscriptions(
            self,
            "Subscriptions",
            pipeline,
            link_key=escalation.ack_link_key,
            email_sender=escalation.email_sender,
            page_url=status_site.url,
            dead_letters=ingest.dead_letters,
        )
        # The page's subscribe form: the publisher renders it, the distribution's CSP lets it post there.
        status_site.allow_form_posts_to(subscriptions.url.url)
        StatusPublisher(
            self,
            "StatusPublisher",
            pipeline,
            bucket=status_site.bucket,
            page_url=status_site.url,
            subscriptions_url=subscriptions.url.url,
            dead_letters=ingest.dead_letters,
        )
        self._reserve_concurrency()
        functions = [
            (f"{construct.node.scope.node.id}{construct.node.id}", construct.function)  # type: ignore[union-attr]
            for construct in self.node.find_all()
            if isinstance(construct, SirenFunction)
        ]
        operations = Operations(
            self,
            "Operations",
            config=config.config.operations,
            canary_enabled=canary_enabled,
            watched=Watched(
                functions=functions,
                dead_letter_queues=[("Ingest", ingest.dead_letters)],
                state_machines=[("Escalation", escalation.machine)],
                stream_consumers=[("IngestPublisher", ingest.publisher.function)],
            ),
        )

        self._output("EventBusName", incident_events.bus.event_bus_name)
        self._output("IncidentsTableName", store.table.table_name)
        self._output("StatusBucketName", status_site.bucket.bucket_name)
        self._output("StatusPageUrl", status_site.url)
        self._output("SubscriptionsUrl", subscriptions.url.url)
        self._output("AlarmTopicArn", topics.alarm_topic.topic_arn)
        self._output("InboundSmsTopicArn", topics.inbound_sms_topic.topic_arn)
        self._output("OpsTopicArn", operations.topic.topic_arn)

    def _reserve_concurrency(self) -> None:
        """Apply CONCURRENCY_PLAN; a plan line naming no function is an error (a renamed function would otherwise
        silently lose its reservation)."""
        by_path = {
            construct.node.path.removeprefix(f"{self.node.path}/"): construct
            for construct in self.node.find_all()
            if isinstance(construct, SirenFunction)
        }
        missing = sorted(set(CONCURRENCY_PLAN) - set(by_path))
        if missing:
            raise ValueError(f"CONCURRENCY_PLAN names functions that do not exist: {missing}")
        for path, executions in CONCURRENCY_PLAN.items():
            if by_path[path].reserved_concurrency is None:  # a construct may have reserved its own already
                by_path[path].reserve_concurrency(executions)

    def _output(self, name: str, value: str) -> None:
        CfnOutput(self, name, value=value).override_logical_id(name)
