"""Siren's S3 buckets start the same way: private, encrypted, TLS only."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_s3 as s3
from constructs import Construct


def private_bucket(scope: Construct, construct_id: str, **properties: Any) -> s3.Bucket:
    """A bucket no one reaches publicly, encrypted with S3-managed keys, refusing plain HTTP; ``properties`` add
    what the bucket is for (versioning, lifecycle, access logs, removal policy)."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        **properties,
    )
