"""A local AWS End User Messaging SMS and voice v2 (``pinpoint-sms-voice-v2``): moto 5.2.5 lacks it (404).

Requests are validated against botocore's own model of the real service (required members, types), so a
call that the fake accepts has the shape AWS accepts. Every accepted message is recorded in the outbox. The
runtime's faults (faults.py, target ``sms-voice``) make sends fail as End User Messaging fails; ``fail_destinations``
is the older way to fail given numbers, kept as an alias of one such fault.

The same handler serves both transports: the HTTP server (middleware on the moto port, matched on
``X-Amz-Target: PinpointSMSVoiceV2.*``) and in-process tests (a hook in moto's botocore stubber).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from siren_local.faults import SMS_VOICE_ALIAS_ID, FaultInjector
from siren_local.outbox import Outbox
from siren_local.patching import answer_in_process

TARGET_PREFIX = "PinpointSMSVoiceV2."
SERVICE_NAME = "pinpoint-sms-voice-v2"
_JSON = {"Content-Type": "application/x-amz-json-1.0"}


@dataclass
class SmsVoiceFake:
    outbox: Outbox
    faults: FaultInjector = field(default_factory=FaultInjector)
    dry_runs: int = 0  # requests checked with DryRun (the canary's): nothing sent, nothing in the outbox
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _model: Any = None

    def _operation_model(self, operation: str) -> Any:
        if self._model is None:
            self._model = botocore.session.get_session().get_service_model(SERVICE_NAME)
        return self._model.operation_model(operation)

    @staticmethod
    def _target(headers: Any) -> str:
        value = headers.get("X-Amz-Target", "")
        return value.decode() if isinstance(value, bytes) else str(value)

    def handles(self, headers: Any) -> bool:
        return self._target(headers).startswith(TARGET_PREFIX)

    def answer_request(self, request: Any) -> tuple[int, dict[str, str], str] | None:
        """The answer to an in-process boto3 request, if it is one for End User Messaging."""
        return self.handle(request.headers, request.body) if self.handles(request.headers) else None

    def handle(self, headers: Any, body: bytes | str | None) -> tuple[int, dict[str, str], str]:
        operation = self._target(headers)[len(TARGET_PREFIX) :]
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return self._error(400, "ValidationException", "request body is not JSON")
        try:
            operation_model = self._operation_model(operation)
        except Exception:
            return self._error(400, "UnknownOperationException", f"unknown operation {operation}")
        report = ParamValidator().validate(request, operation_model.input_shape)
        if report.has_errors():
            return self._error(400, "ValidationException", report.generate_report())
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            return self._error(400, "UnknownOperationException", f"{operation} is not served by the local fake")
        result: dict[str, Any] = handler(request)
        if "__injected__" in result:
            injected = result["__injected__"]
            return injected.status, dict(injected.headers), injected.body
        if "__error__" in result:
            status, code, message = result["__error__"]
            return self._error(status, code, message)
        return 200, dict(_JSON), json.dumps(result)

    def _error(self, status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
        return status, {**_JSON, "x-amzn-ErrorType": code}, json.dumps({"__type": code, "message": message})

    @property
    def fail_destinations(self) -> set[str]:
        """The numbers End User Messaging fails for (500 InternalServerException): the live set of the alias fault
        (``add`` to it works), made on first use."""
        numbers = self.faults.numbers_fault(SMS_VOICE_ALIAS_ID, "sms-voice").numbers
        assert numbers is not None  # a numbers fault always has its set
        return numbers

    @fail_destinations.setter
    def fail_destinations(self, numbers: set[str]) -> None:
        self.faults.remove(SMS_VOICE_ALIAS_ID)
        if numbers:
            self.faults.add("sms-voice", fault_id=SMS_VOICE_ALIAS_ID, numbers=sorted(numbers))

    def _send(self, operation: str, channel: str, request: dict[str, Any], **extra: Any) -> dict[str, Any]:
        destination = request["DestinationPhoneNumber"]
        fault = self.faults.strike("sms-voice", operation, destination)
        if fault is not None:
            injected = self.faults.answer(fault, operation, request)
            return {"__injected__": injected}
        message_id = str(uuid.uuid4())
        if request.get("DryRun"):
            # End User Messaging checks the request and sends nothing (no charge, no message).
            self.dry_runs += 1
            return {"MessageId": message_id}
        self.outbox.record(
            channel=channel,
            to=destination,
            body=request.get("MessageBody", ""),
            via="end-user-messaging",
            origin=request.get("OriginationIdentity"),
            message_id=message_id,
            **extra,
        )
        return {"MessageId": message_id}

    def _op_SendTextMessage(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._send("SendTextMessage", "sms", request)

    def _op_SendVoiceMessage(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._send("SendVoiceMessage", "voice", request, body_type=request.get("MessageBodyTextType", "TEXT"))

    def _op_DescribePhoneNumbers(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"PhoneNumbers": []}


# -- the in-process transport -----------------------------------------------------------------------------
_active: SmsVoiceFake | None = None


def install(fake: SmsVoiceFake) -> None:
    """Serve the fake to in-process boto3 clients too (under ``mock_aws``)."""
    global _active
    _active = fake
    answer_in_process("sms-voice", lambda: _active)
