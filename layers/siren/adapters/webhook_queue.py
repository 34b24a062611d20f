"""The queue between the webhook and the store: raw request bodies in S3, their chunks as asynchronous invocations.

A large webhook request (Alertmanager posts a whole group in one request, up to the function URL's 6 MB) is not
applied while its sender waits: the front door keeps the body as it came (an S3 object, encrypted at rest, kept
:data:`BODY_RETENTION_DAYS` days by the bucket's lifecycle rule) and hands the consumer function one small message per
chunk of alerts (:class:`Chunk`). Lambda's asynchronous invocation is the queue: it holds the messages, retries a
failed chunk twice, and then keeps it in the function's dead-letter queue, from which ``siren dlq redrive`` invokes
the consumer again. A chunk applied twice is harmless: every alert's delivery id is checked by the store.
"""

from __future__ import annotations

import contextvars
import functools
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config

from siren.clients import client, endpoint_url, new_client, region_name
from siren.ports import Chunk

BODY_RETENTION_DAYS = 14  # as long as the dead-letter queue keeps a chunk that failed: its body must still be there
_SEND_THREADS = 8
# An asynchronous invoke answers at once on AWS. The embedded local AWS runs the function before it answers, so the
# read timeout allows for a chunk's work; retries are botocore's (an invoke that failed before it was queued).
_INVOKE_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=3, read_timeout=120)


class RawBodies:
    """Request bodies as they came, one S3 object each."""

    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def put(self, key: str, body: bytes) -> None:
        client("s3").put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/json")

    def get(self, key: str) -> bytes:
        return bytes(client("s3").get_object(Bucket=self._bucket, Key=key)["Body"].read())


class ChunkQueue:
    """Chunks to the consumer function, as asynchronous invocations (Lambda's own queue, retries and DLQ)."""

    def __init__(self, function_name: str) -> None:
        self._function_name = function_name  # its ARN, in the stack

    def send(self, chunks: Sequence[Chunk]) -> None:
        """Queue every chunk; raises if any could not be queued (the caller answers 503 and the sender retries:
        the chunks queued already are then applied twice, harmlessly)."""
        # The client is made here, not in the threads: the function's settings (region, endpoint) are read from
        # this thread's context (siren.settings.environment), which new threads do not inherit.
        lambda_client = _invoke_client(region_name(), endpoint_url())
        # Each send runs in a copy of this thread's context, so that whatever the caller's context holds (the
        # embedded local AWS keeps the running function's credentials there) holds in the pool's threads too.
        contexts = [contextvars.copy_context() for _ in chunks]
        with ThreadPoolExecutor(min(_SEND_THREADS, max(len(chunks), 1))) as pool:
            list(pool.map(lambda context, chunk: context.run(self._send_one, lambda_client, chunk), contexts, chunks))

    def _send_one(self, lambda_client: Any, chunk: Chunk) -> None:
        # The message names its consumer: Lambda's dead-letter message does not, and a replay (``siren dlq
        # redrive``) must know where the chunk goes.
        payload = {**chunk.to_json(), "function": self._function_name}
        response = lambda_client.invoke(
            FunctionName=self._function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
        if int(response.get("StatusCode", 0)) // 100 != 2:
            raise RuntimeError(
                f"Lambda did not queue chunk {chunk.start}..{chunk.stop} of {chunk.key}: {response.get('StatusCode')}"
            )


@functools.cache
def _invoke_client(region: str, endpoint: str | None) -> Any:
    return new_client("lambda", region, endpoint, _INVOKE_CONFIG)


def forget() -> None:
    """Drop the cached invoke clients (see siren.bootstrap.forget_built)."""
    _invoke_client.cache_clear()
