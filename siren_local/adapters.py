"""Installing the adapters: each module of siren_local patches one gap of moto; this puts them all in place for
the runtime that starts now."""

from __future__ import annotations

import threading

from siren_local import (
    botocore_models,
    cloudformation,
    dynamodb_streams,
    dynamodb_transactions,
    environ,
    eventbridge,
    function_urls,
    sns,
    stepfunctions,
)
from siren_local import faults as faults_module
from siren_local import lambda_runtime as lambda_module
from siren_local import outbox as outbox_module
from siren_local import secretsmanager as secretsmanager_module
from siren_local import sms_voice as sms_voice_module
from siren_local.dynamodb_streams import StreamDispatcher
from siren_local.lambda_runtime import InProcessLambdaRuntime
from siren_local.outbox import Outbox
from siren_local.scheduler import SchedulerSchedule
from siren_local.sms_voice import SmsVoiceFake

_installed = False
_install_lock = threading.Lock()


def install_adapters(
    lambda_runtime: InProcessLambdaRuntime,
    outbox: Outbox,
    sms_voice: SmsVoiceFake,
    streams: StreamDispatcher,
    function_url_base: str,
) -> None:
    """Patch moto's gaps (each adapter module says which). Idempotent; the latest runtime objects win."""
    global _installed
    from moto.core.config import default_user_config

    with _install_lock:
        lambda_module.install(lambda_runtime)
        outbox_module.install(outbox)
        sms_voice_module.install(sms_voice)
        faults_module.install(sms_voice.faults)  # the runtime's faults, for in-process clients
        dynamodb_streams.install(streams)
        function_urls.install(function_url_base)
        if not _installed:
            botocore_models.share_one_loader()
            environ.install()
            dynamodb_transactions.install()
            eventbridge.install()
            sns.install()
            stepfunctions.install()
            cloudformation.install(
                extra_types=(SchedulerSchedule, function_urls.LambdaUrl, *secretsmanager_module.LOCAL_TYPES)
            )
            _installed = True
        # State machines execute (moto's default only records them).
        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
