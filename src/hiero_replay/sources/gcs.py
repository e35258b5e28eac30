"""Google Cloud Storage, requester-pays buckets included: ``gs://bucket/prefix``."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from obstore.store import GCSStore

from .object_store import NO_RETRIES, BucketUrl, checked_endpoint, client_options

if TYPE_CHECKING:
    from ..config import BucketsConfig

KIND = "gcs"


def make_store(location: BucketUrl, options: BucketsConfig) -> GCSStore:
    """Credentials from ``GOOGLE_APPLICATION_CREDENTIALS`` or the metadata server; with a billing
    project, every request bills it (``x-goog-user-project``); an emulator takes no credentials."""
    client = client_options(options)
    if options.billing_project:
        client["default_headers"] = {"x-goog-user-project": options.billing_project}
    emulator = options.endpoint or os.environ.get("STORAGE_EMULATOR_HOST")
    if emulator:  # STORAGE_EMULATOR_HOST is host:port, plain HTTP by convention
        base = checked_endpoint(emulator, options.allow_http, "http")
        key = {"gcs_base_url": base.rstrip("/"), "disable_oauth": True, "client_email": "", "private_key": "", "private_key_id": ""}
        return GCSStore(location.bucket, service_account_key=json.dumps(key), client_options=client, retry_config=NO_RETRIES)
    return GCSStore(location.bucket, skip_signature=options.anonymous, client_options=client, retry_config=NO_RETRIES)
