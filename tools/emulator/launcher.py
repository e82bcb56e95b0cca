"""Server process of the embedded AWS: moto's server plus Plinth's patch layer.

Run by ``emulator.py start`` (or the test fixture) as ``python launcher.py --port N``; it applies
the fidelity fixes and, with ``PLINTH_EMULATOR_LATENCY=1``, the latency profile inside this process,
then serves moto's WSGI app behind a thin middleware that:

- removes resources whose asynchronous deletion has finished before each request (``timed.reap``);
- answers ``/plinth-emulator/*``: ``GET health`` (profile, pid) and ``POST replica-lag``;
- clears the layer's own state when moto is reset (``POST /moto-api/reset``).

Test and support code only: never imported by roles or plugins.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any

import fidelity
import latency
import timed
from latency_profile import LatencyProfile

StartResponse = Callable[..., Any]


class PlinthMiddleware:
    def __init__(self, app: Any, profile: LatencyProfile, fidelity_enabled: bool) -> None:
        self.app = app
        self.profile = profile
        self.fidelity_enabled = fidelity_enabled

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/plinth-emulator/"):
            return self._own(path, method, environ, start_response)
        timed.reap()
        result = self.app(environ, start_response)
        if path == "/moto-api/reset" and method == "POST":
            timed.clear()
            fidelity.reset()
        return result

    def _own(
        self, path: str, method: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if path == "/plinth-emulator/health" and method == "GET":
            return _json(
                start_response,
                200,
                {
                    "status": "ok",
                    "pid": os.getpid(),
                    "latency": self.profile.describe(),
                    "fidelity": self.fidelity_enabled,
                    "recording": bool(os.environ.get("MOTO_ENABLE_RECORDING")),
                },
            )
        if path == "/plinth-emulator/replica-lag" and method == "POST":
            try:
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(size) or b"{}")
                fidelity.set_replica_lag(
                    str(body["db_instance_identifier"]),
                    float(body["seconds"]),
                    str(body.get("region", "us-east-1")),
                    str(body.get("account_id", fidelity.DEFAULT_ACCOUNT)),
                )
            except (KeyError, TypeError, ValueError) as exc:
                return _json(start_response, 400, {"error": f"bad replica-lag request: {exc}"})
            return _json(start_response, 200, {"status": "ok"})
        return _json(start_response, 404, {"error": f"no such endpoint: {method} {path}"})


def _json(start_response: StartResponse, code: int, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[code]
    start_response(
        f"{code} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _truthy(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _cache_managed_policies() -> None:
    """Parse moto's AWS managed policies once per process instead of on every reset.

    With MOTO_IAM_LOAD_MANAGED_POLICIES each new IAM backend (after every ``/moto-api/reset``)
    re-parses the same ~1,600-policy JSON document: most of a reset's cost in the test fixtures.
    """
    from moto.iam import models as iam

    parsed: dict[str, Any] = json.loads(iam.aws_managed_policies_data)

    def init_aws_policies(self: Any) -> list[Any]:
        if not iam.load_iam_aws_managed_policies():
            return []
        return [
            iam.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in parsed.items()
        ]

    iam.IAMBackend._init_aws_policies = init_aws_policies  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    os.environ.setdefault("MOTO_PORT", str(args.port))
    profile = LatencyProfile.from_env()
    fidelity_enabled = _truthy(os.environ.get("PLINTH_EMULATOR_FIDELITY"), default=True)

    # Imported after the environment is final: moto reads some settings at import time.
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    _cache_managed_policies()
    if fidelity_enabled:
        fidelity.apply(profile)
    latency.apply(profile)

    app = DomainDispatcherApplication(create_backend_app)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(
        f"plinth emulator pid {os.getpid()} on http://{args.host}:{args.port} "
        f"fidelity={'on' if fidelity_enabled else 'off'} "
        f"latency={json.dumps(profile.describe())}",
        flush=True,
    )
    run_simple(
        args.host,
        args.port,
        PlinthMiddleware(app, profile, fidelity_enabled),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
