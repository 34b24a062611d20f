"""Status page subscriptions: the public function URL the page's form posts to (and a mail's links open), and the
function that mails a public incident's life to the confirmed subscribers, on a rule of its own beside the status
publisher's (a slow or refused mail never holds back or retries the page's publish).

Subscribers live in the table only (pk=SUBSCRIBERS), never on the status bucket, which is public. Only these two
functions can read them, and only these two can send as the page's sender.
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.events import on_every_lifecycle_event
from infra.components.functions import SirenFunction, grant_send_email, grant_table_items
from infra.components.pipeline import Pipeline
from infra.components.store import ItemFamily


class Subscriptions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        pipeline: Pipeline,
        *,
        link_key: secretsmanager.ISecret,
        email_sender: str,
        page_url: str,
        dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        base, table, bus = pipeline.base, pipeline.table, pipeline.bus
        environment = {
            "TABLE_NAME": table.table_name,
            "EVENT_BUS_NAME": bus.event_bus_name,
            "EMAIL_SENDER": email_sender,
            # Links are signed with the ack links' key, under versions of their own (siren.domain.subscriptions).
            "ACK_LINK_SECRET_ARN": link_key.secret_arn,
        }
        # No SUBSCRIPTIONS_URL here: a function's own URL in its environment is a cycle in the template; it links
        # to the URL it was called at (siren.app.subscription_links). No STATUS_PAGE_URL either (it mails no link to
        # the page): the distribution's CSP names this function's URL (StatusSite.allow_form_posts_to), so the page's
        # URL here would be a cycle too.
        self.form = SirenFunction(
            self,
            "Form",
            package="subscription",
            handler="subscription_handlers.subscriptions",
            base=base,
            environment=environment,
            description="Siren: status page subscriptions (subscribe, confirm, unsubscribe)",
            dead_letter_queue=dead_letters,  # its URL invokes it synchronously; kept like every other function
        )
        self.url = self.form.function.add_function_url(
            # Public by design: the page's form posts here, and a mail's links are signed (the link is the credential).
            auth_type=lambda_.FunctionUrlAuthType.NONE,
        )
        # A subscriber by address (GetItem), written pending, confirmed or removed (conditional writes); the form's
        # request counts per source and per address (RATE#...).
        grant_table_items(
            self.form,
            table,
            actions=["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
            leading_keys=[ItemFamily.SUBSCRIBERS, ItemFamily.REQUEST_RATE],
        )
        link_key.grant_read(self.form.function)
        grant_send_email(self.form, email_sender)
        dead_letters.grant_send_messages(self.form.function)

        self.notify = SirenFunction(
            self,
            "Notify",
            package="subscription",
            handler="subscription_handlers.notify_subscribers",
            base=base,
            environment={**environment, "STATUS_PAGE_URL": page_url, "SUBSCRIPTIONS_URL": self.url.url},
            description="Siren: mail a public incident's life to the status page's subscribers",
            dead_letter_queue=dead_letters,
            timeout_seconds=300,
        )
        # The incident by key (its public face); the confirmed subscribers and the maintenance windows (one Query of
        # each partition).
        grant_table_items(self.notify, table, actions=["GetItem"], leading_keys=[ItemFamily.INCIDENT])
        grant_table_items(
            self.notify, table, actions=["Query"], leading_keys=[ItemFamily.SUBSCRIBERS, ItemFamily.STATUS_PAGE]
        )
        # How far each piece of news's mailing got (read before, written during and after): once per news.
        grant_table_items(self.notify, table, actions=["GetItem", "PutItem"], leading_keys=[ItemFamily.NOTICE])
        link_key.grant_read(self.notify.function)
        grant_send_email(self.notify, email_sender)
        dead_letters.grant_send_messages(self.notify.function)
        on_every_lifecycle_event(
            self,
            bus,
            self.notify.function,
            dead_letters,
            description="Mail subscribers the public news of an incident's lifecycle event",
        )
