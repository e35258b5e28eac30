"""Amazon S3 and S3-compatible servers: ``s3://bucket/prefix``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from obstore.store import S3Store

from .endpoints import (
    S3_ENDPOINT_VARIABLES,
    Endpoint,
    bucket_endpoint,
    checked_endpoint,
    client_options,
    configured_endpoint,
    env_flag,
    virtual_hosted,
    warn_once,
)
from .object_store import NO_RETRIES, BucketUrl

if TYPE_CHECKING:
    from obstore.store import S3Config

    from ..config import BucketsConfig

KIND = "s3"
#: How users of object_store (and so of obstore) allow plain HTTP already.
ALLOW_HTTP_VARIABLE = "AWS_ALLOW_HTTP"


def make_store(location: BucketUrl, options: BucketsConfig) -> S3Store:
    """Credentials come from the standard chain (``AWS_*``); requester pays and anonymous access
    from the options; the endpoint from ``buckets.endpoint`` or the AWS variables, addressed as
    ``buckets.addressing`` says."""
    if options.path_style is not None:
        warn_once("path_style", 'buckets.path_style is deprecated: use buckets.addressing = "path" (or "auto")')
    allow_http = options.allow_http or env_flag(ALLOW_HTTP_VARIABLE)
    endpoint = configured_endpoint(options.endpoint, S3_ENDPOINT_VARIABLES, "https")
    virtual = virtual_hosted(options.addressing, location.bucket, endpoint)
    config: S3Config = {
        "region": options.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        "virtual_hosted_style_request": virtual,
        "request_payer": options.requester_pays,
        "skip_signature": options.anonymous,
    }
    if endpoint is not None:
        checked_endpoint(endpoint, allow_http, opt_in=f"buckets.allow_http = true or {ALLOW_HTTP_VARIABLE}=true")
        url = bucket_endpoint(location.bucket, endpoint) if virtual else endpoint.url
        # obstore reads the same variables itself, AWS_ENDPOINT_URL_S3 first: the URL checked here wins
        config["endpoint"] = config["aws_endpoint_url_s3"] = url
    return S3Store(location.bucket, config=config, client_options=client_options(options, allow_http=allow_http), retry_config=NO_RETRIES)


def empty_listing_hint(location: BucketUrl, options: BucketsConfig) -> str | None:
    """What to say when a listing finds nothing: with a custom endpoint, the addressing may be the
    cause (a server answers a request in the style it does not serve with an empty listing)."""
    endpoint = configured_endpoint(options.endpoint, S3_ENDPOINT_VARIABLES, "https")
    if endpoint is None:
        return None
    return _addressing_hint(endpoint, options.addressing, virtual_hosted(options.addressing, location.bucket, endpoint))


def _addressing_hint(endpoint: Endpoint, addressing: str, virtual: bool) -> str:
    sent = "virtual-hosted (bucket.host/key)" if virtual else "path-style (host/bucket/key)"
    other = "path" if virtual else "virtual"
    return (
        f"Check the bucket URL and its prefix. Requests to {endpoint.shown} ({endpoint.origin}) were {sent}, "
        f'as buckets.addressing = "{addressing}" chose; a server that does not serve that style may answer with an empty '
        f'listing: try buckets.addressing = "{other}" (HIERO_REPLAY_BUCKETS__ADDRESSING={other}).'
    )
