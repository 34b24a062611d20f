"""The Slack app: one public function URL that Slack sends the ``/siren`` command and the buttons' clicks to, and
the notifier that posts each incident's message with the bot token and keeps it up to date.

The app's request URL (slash command and interactivity both) is the ``SlackUrl`` output. Its two secrets are
generated placeholders that the operator replaces once the Slack app exists (Slack issues both): the signing secret
(Basic Information -> App Credentials) in ``SlackSigningSecret``, the bot token (``xoxb-...``, OAuth & Permissions)
in ``SlackBotToken``. Until then every request is refused (no request is signed with the placeholder) and no
message is posted (the notifier sees no ``xoxb-`` token and says so in its log).

The notifier (``page_handlers.slack_notify``, siren.app.slack_messages) is on a rule of its own on Siren's bus, off
the paging path: a slow, refused or rate-limited Slack retries (EventBridge, then Lambda's asynchronous retries) and
ends in the dead-letter queue, and never holds back a page. It reaches Slack at ``https://slack.com/api/`` (slack-sdk's
default: no ``SLACK_API_URL`` here; the local runtime sets one for its Slack fake).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.events import on_every_lifecycle_event
from infra.components.functions import SirenFunction, grant_table_items
from infra.components.pipeline import Pipeline, escalation_machine_arn
from infra.components.secrets import generated_secret
from infra.components.store import ItemFamily

# What the app does to the incident table (siren.app.slack_app, siren.app.slack_requests): a signed request's
# single use (a nonce put), acknowledging or resolving (the incident, its key's state, the timeline and the lifecycle
# event; the escalation shortcut reads the incident's partition), and ``/siren status`` (the by-status index).
# Query: escalate now reads the incident's partition (its timeline holds the requests already made for a level).
TABLE_ACTIONS = ["GetItem", "PutItem", "Query"]
# RAW_ALERT: a /siren declare is written as a delivery, with its guard item, like every opening.
TABLE_FAMILIES = [
    ItemFamily.INCIDENT,
    ItemFamily.DEDUP_KEY,
    ItemFamily.EVENT,
    ItemFamily.LINK_NONCE,
    ItemFamily.RAW_ALERT,
]
INDEX_QUERIES = ["by-status"]

# What the notifier does (siren.app.slack_messages): reads the incident's partition; claims and saves the message's
# record (SLACKMSG#<id>: conditional puts only, never the incident's items).
NOTIFY_INCIDENT_ACTIONS = ["GetItem", "Query"]
NOTIFY_MESSAGE_ACTIONS = ["GetItem", "PutItem"]

_NOT_ROTATED = (
    "Slack issues this value and only the Slack app's owner can regenerate it; the operator replaces the generated "
    "placeholder with it, and again whenever it is regenerated in Slack."
)


class SlackApp(Construct):
    def __init__(self, scope: Construct, construct_id: str, pipeline: Pipeline, *, dead_letters: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.signing_secret = generated_secret(
            self,
            "SigningSecret",
            description="Siren: the Slack app's signing secret (replace this placeholder with Slack's)",
            length=32,
            why_not_rotated=_NOT_ROTATED,
        )
        # Read by the notifier only (chat.postMessage, chat.update, conversations.*): the app's function never posts.
        self.bot_token = generated_secret(
            self,
            "BotToken",
            description="Siren: the Slack app's bot token, xoxb-... (replace this placeholder with Slack's)",
            length=32,
            why_not_rotated=_NOT_ROTATED,
        )
        machine_arn = escalation_machine_arn(self)
        self.app = SirenFunction(
            self,
            "App",
            package="page",
            handler="page_handlers.slack",
            base=pipeline.base,
            environment={
                "TABLE_NAME": pipeline.table.table_name,
                "EVENT_BUS_NAME": pipeline.bus.event_bus_name,
                "ESCALATION_STATE_MACHINE_ARN": machine_arn,
                "SLACK_SIGNING_SECRET_ARN": self.signing_secret.secret_arn,
                "SIREN_STACK_NAME": stack.stack_name,
            },
            description="Siren: the Slack app's /siren command and buttons",
            dead_letter_queue=dead_letters,
        )
        grant_table_items(
            self.app,
            pipeline.table,
            actions=TABLE_ACTIONS,
            leading_keys=TABLE_FAMILIES,
            index_queries=INDEX_QUERIES,
        )
        self.signing_secret.grant_read(self.app.function)
        dead_letters.grant_send_messages(self.app.function)
        # An acknowledgement or an escalate-now from Slack ends the escalation's wait at once (the escalation
        # shortcut): SendTaskSuccess; a /siren declare starts its escalation at once: StartExecution.
        self.app.role.add_to_policy(
            iam.PolicyStatement(actions=["states:SendTaskSuccess", "states:StartExecution"], resources=[machine_arn])
        )
        self.url = self.app.function.add_function_url(
            # Public by design: Slack cannot sign a SigV4 request; its own signature (HMAC-SHA256 of the body with
            # the signing secret, a fresh timestamp, single use) is checked before anything of a request is read.
            auth_type=lambda_.FunctionUrlAuthType.NONE,
        )
        CfnOutput(self, "UrlOutput", value=self.url.url).override_logical_id("SlackUrl")
        CfnOutput(self, "SigningSecretArnOutput", value=self.signing_secret.secret_arn).override_logical_id(
            "SlackSigningSecretArn"
        )
        CfnOutput(self, "BotTokenArnOutput", value=self.bot_token.secret_arn).override_logical_id(
            "SlackBotTokenSecretArn"
        )

        self.notify = SirenFunction(
            self,
            "Notify",
            package="page",
            handler="page_handlers.slack_notify",
            base=pipeline.base,
            environment={
                "TABLE_NAME": pipeline.table.table_name,
                "EVENT_BUS_NAME": pipeline.bus.event_bus_name,
                "SLACK_BOT_TOKEN_SECRET_ARN": self.bot_token.secret_arn,
            },
            description="Siren: post and update each incident's Slack message (bot token)",
            dead_letter_queue=dead_letters,
            timeout_seconds=60,  # a few Web API calls of at most 10 s each (siren.adapters.slack_web)
        )
        # The incident and its timeline (one Query of its partition); the message's record (a conditional put).
        grant_table_items(
            self.notify, pipeline.table, actions=NOTIFY_INCIDENT_ACTIONS, leading_keys=[ItemFamily.INCIDENT]
        )
        grant_table_items(
            self.notify, pipeline.table, actions=NOTIFY_MESSAGE_ACTIONS, leading_keys=[ItemFamily.SLACK_MESSAGE]
        )
        self.bot_token.grant_read(self.notify.function)
        dead_letters.grant_send_messages(self.notify.function)
        on_every_lifecycle_event(
            self,
            pipeline.bus,
            self.notify.function,
            dead_letters,
            description="Post or update the incident's Slack message on each lifecycle event",
        )
