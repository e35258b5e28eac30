"""Where bucket requests go: endpoint overrides, plain HTTP, and S3 addressing.

An endpoint comes from the configuration (``buckets.endpoint``) or from the variables users already
set for their other tools (``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST``). Plain HTTP is opt-in;
the opt-in also works for a server on the local network, with a warning logged once, since requests
(credentials included) then cross a network unencrypted. S3 addressing follows the ecosystem:
virtual-hosted for AWS, path-style for any other endpoint.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlparse

from ..errors import ConfigError
from ..logs import get_logger

if TYPE_CHECKING:
    from obstore.store import ClientConfig

    from ..config import BucketsConfig

Addressing = Literal["auto", "path", "virtual"]

#: Host names of AWS's own endpoints (every region, FIPS, dual-stack, China).
AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")
#: The S3 endpoint variables, in the order the AWS SDKs and object_store give them precedence.
S3_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")
#: What ``AWS_ALLOW_HTTP`` and object_store's other switches accept as "on".
_TRUTHY = frozenset({"1", "true", "yes", "on", "y"})

_warned: set[str] = set()
_warned_lock = threading.Lock()


@dataclass(frozen=True)
class Endpoint:
    """An endpoint override: its URL and where it came from (a key or a variable, for messages)."""

    url: str
    origin: str

    @property
    def host(self) -> str:
        return urlparse(self.url).hostname or ""

    @property
    def shown(self) -> str:
        return redacted(self.url)


def env_flag(name: str) -> bool:
    """An environment switch in object_store's convention (``true``, ``1``, ``yes``, ``on``)."""
    return os.environ.get(name, "").strip().lower() in _TRUTHY


def configured_endpoint(configured: str | None, variables: tuple[str, ...], default_scheme: str) -> Endpoint | None:
    """``buckets.endpoint``, else the first of ``variables`` that is set, as a URL."""
    origin, value = "buckets.endpoint", configured
    for name in variables:
        if value:
            break
        origin, value = name, os.environ.get(name)
    if not value:
        return None
    return Endpoint(value if "://" in value else f"{default_scheme}://{value}", origin)


def checked_endpoint(endpoint: Endpoint, allow_http: bool, *, opt_in: str) -> str:
    """The endpoint's URL, once it is usable. Plain HTTP only when opted in (``opt_in`` says how);
    to a server that is not on this machine it is allowed then too, with a warning logged once."""
    parsed = urlparse(endpoint.url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            f"The endpoint {endpoint.shown} ({endpoint.origin}) is not an http:// or https:// URL with a host.",
            hint="Write it as https://host[:port].",
        )
    if parsed.scheme == "http":
        if not allow_http:
            raise ConfigError(
                f"The endpoint {endpoint.shown} ({endpoint.origin}) is plain HTTP, which is off unless opted in.",
                hint=f"Use an https:// endpoint, or opt in with {opt_in}.",
            )
        if not is_loopback(parsed.hostname):
            warn_once(
                f"plain-http {parsed.hostname}:{parsed.port}",
                "plain HTTP to a server that is not on this machine: requests, credentials included, travel unencrypted",
                endpoint=endpoint.shown,
                origin=endpoint.origin,
            )
    return endpoint.url


def redacted(url: str) -> str:
    """A URL as messages and logs may show it: without a user name or password."""
    parsed = urlparse(url)
    if "@" not in parsed.netloc:
        return url
    return parsed._replace(netloc="***@" + parsed.netloc.rpartition("@")[2]).geturl()


def warn_once(key: str, message: str, **fields: str) -> None:
    """Log a warning the first time ``key`` is seen in this process."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    get_logger().warning(message, **fields)


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_aws_host(host: str) -> bool:
    """An endpoint of AWS itself (``s3.eu-west-1.amazonaws.com``, ``s3.cn-north-1.amazonaws.com.cn``)."""
    host = host.lower().rstrip(".")
    return any(host.endswith(suffix) or host == suffix[1:] for suffix in AWS_HOST_SUFFIXES)


def virtual_hosted(addressing: Addressing, bucket: str, endpoint: Endpoint | None) -> bool:
    """Does this bucket get virtual-hosted requests (``bucket.host/key``), or path-style ones
    (``host/bucket/key``)? ``auto``: virtual-hosted on AWS (unless the bucket name has a dot, which
    no TLS certificate for ``*.s3.amazonaws.com`` covers), path-style for any other endpoint."""
    if addressing != "auto":
        return addressing == "virtual"
    on_aws = endpoint is None or is_aws_host(endpoint.host)
    return on_aws and "." not in bucket


def bucket_endpoint(bucket: str, endpoint: Endpoint) -> str:
    """The URL of one bucket on an endpoint, virtual-hosted: the bucket goes in front of the host
    (unless it is there already)."""
    parsed = urlparse(endpoint.url)
    host = parsed.hostname or ""
    if is_ip_address(host):
        raise ConfigError(
            f"Virtual-hosted addressing puts the bucket in the host name, but the endpoint {endpoint.shown} "
            f"({endpoint.origin}) is an IP address.",
            hint='Set buckets.addressing = "path" (or "auto", which chooses path-style for it).',
        )
    if host.lower().startswith(bucket.lower() + "."):
        return endpoint.url
    userinfo, at, host_port = parsed.netloc.rpartition("@")
    return parsed._replace(netloc=f"{userinfo}{at}{bucket}.{host_port}").geturl()


def client_options(options: BucketsConfig, *, allow_http: bool) -> ClientConfig:
    """HTTP client settings every provider shares: timeouts, and plain HTTP when opted in."""
    timeout = options.timeout_seconds
    return {"allow_http": allow_http, "timeout": f"{timeout}s", "connect_timeout": f"{min(timeout, 10)}s"}
