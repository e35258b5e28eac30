"""Google Cloud Storage, requester-pays buckets included: ``gs://bucket/prefix``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from obstore.store import GCSStore

from .endpoints import checked_endpoint, client_options, configured_endpoint
from .object_store import NO_RETRIES, BucketUrl

if TYPE_CHECKING:
    from ..config import BucketsConfig

KIND = "gcs"
#: The emulator convention of Google's client libraries: host:port, plain HTTP by definition.
EMULATOR_VARIABLE = "STORAGE_EMULATOR_HOST"


def make_store(location: BucketUrl, options: BucketsConfig) -> GCSStore:
    """Credentials from ``GOOGLE_APPLICATION_CREDENTIALS`` or the metadata server; with a billing
    project, every request bills it (``x-goog-user-project``); an emulator takes no credentials."""
    emulator = configured_endpoint(options.endpoint, (EMULATOR_VARIABLE,), "http")
    # setting STORAGE_EMULATOR_HOST is opting in to plain HTTP; buckets.endpoint needs allow_http
    allow_http = options.allow_http or (emulator is not None and emulator.origin == EMULATOR_VARIABLE)
    client = client_options(options, allow_http=allow_http)
    if options.billing_project:
        client["default_headers"] = {"x-goog-user-project": options.billing_project}
    if emulator is not None:
        base = checked_endpoint(emulator, allow_http, opt_in="buckets.allow_http = true")
        key = {"gcs_base_url": base.rstrip("/"), "disable_oauth": True, "client_email": "", "private_key": "", "private_key_id": ""}
        return GCSStore(location.bucket, service_account_key=json.dumps(key), client_options=client, retry_config=NO_RETRIES)
    return GCSStore(location.bucket, skip_signature=options.anonymous, client_options=client, retry_config=NO_RETRIES)
