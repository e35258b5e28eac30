"""Amazon S3 and S3-compatible servers: ``s3://bucket/prefix``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from obstore.store import S3Store

from .object_store import NO_RETRIES, BucketUrl, checked_endpoint, client_options

if TYPE_CHECKING:
    from obstore.store import S3Config

    from ..config import BucketsConfig

KIND = "s3"


def make_store(location: BucketUrl, options: BucketsConfig) -> S3Store:
    """Credentials come from the standard chain (``AWS_*``); requester pays and anonymous access from the options."""
    config: S3Config = {
        "region": options.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        "virtual_hosted_style_request": not options.path_style,
        "request_payer": options.requester_pays,
        "skip_signature": options.anonymous,
    }
    endpoint = options.endpoint or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        config["endpoint"] = checked_endpoint(endpoint, options.allow_http, "https")
    return S3Store(location.bucket, config=config, client_options=client_options(options), retry_config=NO_RETRIES)
