"""The stack's output names, in a module of their own: readers need them without loading the CDK."""

# Output names are an interface (the CLI, the local runtime and users' scripts read them): keep them stable.
OUTPUT_NAMES = (
    "EventBusName",
    "IncidentsTableName",
    "StatusBucketName",
    "StatusPageUrl",
    "AlarmTopicArn",
    "AlarmActionFunctionArn",
    "InboundSmsTopicArn",
    "WebhookUrl",
    "WebhookTokenSecretArn",
    "DeadLetterQueueUrl",
    "EscalationStateMachineArn",
    "AckLinkUrl",
    "ChatWebhookSecretArn",
    "ArtifactsBucketName",
    "OpsTopicArn",
    "SlackUrl",
    "SlackSigningSecretArn",
    "SlackBotTokenSecretArn",
    "SubscriptionsUrl",
)

# The watchdog stack's (SirenWatchdog, in the second region).
WATCHDOG_OUTPUT_NAMES = ("WatchdogTopicArn",)
