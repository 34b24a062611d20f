"""Incident artifacts (postmortem drafts) in the private artifacts bucket."""

from __future__ import annotations

from siren.clients import client


class Artifacts:
    def __init__(self, bucket_name: str) -> None:
        self._bucket = bucket_name

    def put_markdown(self, key: str, body: str) -> str:
        client("s3").put_object(
            Bucket=self._bucket, Key=key, Body=body.encode(), ContentType="text/markdown; charset=utf-8"
        )
        return f"s3://{self._bucket}/{key}"
