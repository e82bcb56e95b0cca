"""pytest plugin: the embedded AWS (moto server + Plinth's layer) for tests.

Register with ``pytest_plugins = ["tests.support.emulator_fixture"]`` in ``tests/conftest.py``.

Fixtures:

- ``emulator`` (session): a server on a free port, its state under a tmp dir, the latency profile
  off, moto's request recorder on. Yields an :class:`EmulatorHandle`.
- ``aws`` (function): the same handle, reset (no resources, empty recording) before the test.
- ``emulator_latency`` (session): a second server with the realistic-latency profile on at a test
  scale (1:200, every transition at least 3 s, so 3 to 6 s).
- ``aws_latency`` (function): ``emulator_latency`` reset before the test.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import os
import re
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import botocore.session
import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_KEY = "testing"
# Test scale for the latency profile: real durations / 200, floor 3 s -> transitions of 3-6 s
# (the floor leaves a loaded machine time to observe each transitional state).
LATENCY_TEST_ENV = {
    "PLINTH_EMULATOR_LATENCY": "1",
    "PLINTH_EMULATOR_LATENCY_SCALE": "200",
    "PLINTH_EMULATOR_LATENCY_MIN_SECONDS": "3",
}
# Operation-name prefixes of AWS calls that only read.
READ_PREFIXES = ("Describe", "List", "Get", "Head", "BatchGet", "Search", "Lookup")


def _load_cli() -> Any:
    """tools/emulator/emulator.py, which is a script directory rather than a package."""
    name = "plinth_emulator_cli"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "emulator" / "emulator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class RecordedRequest:
    """One AWS API call seen by the emulator's request recorder."""

    method: str
    url: str
    service: str | None
    region: str | None
    operation: str
    is_write: bool


def _header(headers: dict[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


@functools.cache
def _rest_reads(service: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(method, path pattern) of the REST reads of ``service`` sent with another method than GET,
    from botocore's service model (e.g. Route 53's ListTagsForResources is a POST)."""
    try:
        model = botocore.session.get_session().get_service_model(service)
    except botocore.exceptions.UnknownServiceError:
        return ()
    reads = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        if not name.startswith(READ_PREFIXES) or http.get("method") in ("GET", "HEAD"):
            continue
        segments = [
            (".+" if s.endswith("+}") else "[^/]+") if s.startswith("{") else re.escape(s)
            for s in http["requestUri"].split("?")[0].split("/")
        ]
        reads.append((http["method"], re.compile("^" + "/".join(segments) + "$")))
    return tuple(reads)


def _parse_recorded(entry: dict[str, Any]) -> RecordedRequest | None:
    url = entry.get("url", "")
    parsed = urlparse(url)
    if parsed.path.startswith(("/moto-api/", "/plinth-emulator/")):
        return None
    headers = entry.get("headers") or {}
    service = region = None
    credential = _header(headers, "Authorization").partition("Credential=")[2].split(",")[0]
    scope = credential.split("/")
    if len(scope) >= 5:
        region, service = scope[2], scope[3]

    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    operation = ""
    target = _header(headers, "X-Amz-Target")
    if target:  # JSON protocols: "Service_20150101.Operation"
        operation = target.rsplit(".", 1)[-1]
    elif "/operation/" in parsed.path:  # smithy RPC v2 (CBOR): /service/<svc>/operation/<Op>
        operation = parsed.path.rsplit("/operation/", 1)[1].split("/")[0]
    else:  # query protocol: Action in the form body or the query string
        action = parse_qs(body).get("Action") or parse_qs(parsed.query).get("Action")
        if action:
            operation = action[0]
    method = entry.get("method", "GET")
    if operation:
        is_write = not operation.startswith(READ_PREFIXES)
    else:  # REST protocols (EKS, S3...): the HTTP method says it
        operation = f"{method} {parsed.path}"
        is_write = method not in ("GET", "HEAD", "OPTIONS") and not any(
            method == m and pattern.match(parsed.path) for m, pattern in _rest_reads(service or "")
        )
    return RecordedRequest(method, url, service, region, operation, is_write)


class EmulatorHandle:
    """What the fixtures yield: one running emulator server."""

    def __init__(self, server: Any) -> None:
        self._server = server

    @property
    def endpoint_url(self) -> str:
        return str(self._server.endpoint_url)

    @property
    def port(self) -> int:
        return int(self._server.port)

    @property
    def state_dir(self) -> Path:
        return Path(self._server.state_dir)

    @property
    def latency(self) -> dict[str, Any]:
        """The server's latency profile: enabled, scale, min_seconds, seconds per transition."""
        health = self._server.health() or {}
        return dict(health.get("latency") or {})

    def reset(self) -> None:
        """Wipe all emulated AWS state and the request recording."""
        self._server.reset()

    def client(self, service: str, region: str = "us-east-1", **kwargs: Any) -> Any:
        """A boto3 client for ``service`` against this emulator, with fake credentials.

        ``kwargs`` go to ``boto3.client`` (e.g. ``config=botocore.config.Config(...)``).
        """
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=FAKE_KEY,
            aws_secret_access_key=FAKE_KEY,
            **kwargs,
        )

    def set_replica_lag(
        self, db_instance_identifier: str, seconds: float, region: str = "us-east-1"
    ) -> None:
        """Make the replica's AWS/RDS ReplicaLag metric report ``seconds`` from now on."""
        body = json.dumps(
            {"db_instance_identifier": db_instance_identifier, "seconds": seconds, "region": region}
        ).encode()
        self._server.request("POST", "/plinth-emulator/replica-lag", body=body)

    def recorded_requests(self) -> list[RecordedRequest]:
        """Every AWS API call since the last reset, oldest first (control calls left out)."""
        raw = self._server.request("GET", "/moto-api/recorder/download-recording")
        requests = []
        for line in raw.decode("utf-8").splitlines():
            if line.strip():
                recorded = _parse_recorded(json.loads(line))
                if recorded is not None:
                    requests.append(recorded)
        return requests

    def write_calls(self) -> list[RecordedRequest]:
        """The recorded calls that may change AWS state (not Describe*/List*/Get*/Head*...)."""
        return [request for request in self.recorded_requests() if request.is_write]

    def clear_recording(self) -> None:
        self._server.request("POST", "/moto-api/recorder/reset-recording", body=b"")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(state_root: Path, env: dict[str, str]) -> Any:
    cli = _load_cli()
    # The caller's emulator settings (latency profile, fidelity) must not leak into a fixture's.
    server_env = {key: "" for key in os.environ if key.startswith("PLINTH_EMULATOR_")}
    server_env.update(env)
    failures = 0
    while True:
        server = cli.Emulator(port=_free_port(), state_root=state_root)
        try:
            server.start(env=server_env, record=True)
            return server
        except cli.EmulatorError as exc:
            # Another process may take the free port before the server binds it: try another.
            failures += 1
            if "in use" not in str(exc) or failures == 5:
                raise


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    server = _start(tmp_path_factory.mktemp("emulator"), {"PLINTH_EMULATOR_LATENCY": "0"})
    try:
        yield EmulatorHandle(server)
    finally:
        server.stop()


@pytest.fixture
def aws(emulator: EmulatorHandle) -> EmulatorHandle:
    emulator.reset()
    return emulator


@pytest.fixture(scope="session")
def emulator_latency(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    server = _start(tmp_path_factory.mktemp("emulator-latency"), LATENCY_TEST_ENV)
    try:
        yield EmulatorHandle(server)
    finally:
        server.stop()


@pytest.fixture
def aws_latency(emulator_latency: EmulatorHandle) -> EmulatorHandle:
    emulator_latency.reset()
    return emulator_latency
