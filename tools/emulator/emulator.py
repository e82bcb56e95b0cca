"""Plinth's embedded AWS: start, stop, reset and inspect a moto server on 127.0.0.1.

Usage: ``emulator.py [--port N] [--state-dir DIR] start|stop|reset|status``.

The server (``launcher.py``: moto plus Plinth's fidelity fixes and optional latency profile) runs
as a background process that outlives this command; its pid file, log and request recording live
in ``${PLINTH_STATE_DIR:-~/.cache/plinth/state}/emulator-<port>/``. Test and support code only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
DEFAULT_PORT = 5555
LAUNCHER = Path(__file__).resolve().parent / "launcher.py"
EXIT_NOT_RUNNING = 3  # LSB "program is not running"


class EmulatorError(RuntimeError):
    """The emulator could not be started, reached or stopped; the message says why."""


def default_state_root() -> Path:
    env = os.environ.get("PLINTH_STATE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "plinth" / "state"


def default_port() -> int:
    return int(os.environ.get("PLINTH_EMULATOR_PORT") or DEFAULT_PORT)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (exited, not yet waited for) is not running.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@dataclass
class Emulator:
    """One emulator instance, identified by its port and state directory."""

    port: int = field(default_factory=default_port)
    state_root: Path = field(default_factory=default_state_root)
    host: str = HOST
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def state_dir(self) -> Path:
        return self.state_root / f"emulator-{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "emulator.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "emulator.log"

    @property
    def recording_file(self) -> Path:
        return self.state_dir / "recording.jsonl"

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- low-level helpers -------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: bytes | None = None, timeout: float = 5.0
    ) -> bytes:
        """Send ``method path`` to the server and return the response body."""
        request = urllib.request.Request(self.endpoint_url + path, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
            return bytes(response.read())

    def health(self) -> dict[str, Any] | None:
        """The server's health document, or None when nothing of ours answers on the port."""
        try:
            doc = json.loads(self.request("GET", "/plinth-emulator/health", timeout=2.0))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) and doc.get("status") == "ok" else None

    def read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _owned_pid(self) -> int | None:
        """The pid in the pid file if that process is alive and is our launcher on our port."""
        pid = self.read_pid()
        if pid is None or not _pid_alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return pid  # no /proc: trust the pid file
        if str(LAUNCHER).encode() in cmdline and str(self.port).encode() in cmdline:
            return pid
        return None

    def _port_in_use(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            return sock.connect_ex((self.host, self.port)) == 0

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(
        self, env: Mapping[str, str] | None = None, timeout: float = 60.0, record: bool = False
    ) -> bool:
        """Start the server unless it is already healthy; True when this call started it.

        ``env`` is added to this process's environment for the server (e.g. the latency profile).
        """
        self.state_dir.mkdir(parents=True, exist_ok=True)
        pid = self._owned_pid()
        if pid is not None:
            self._wait_healthy(pid, timeout)
            return False
        self.pid_file.unlink(missing_ok=True)
        if self._port_in_use():
            raise EmulatorError(
                f"port {self.port} on {self.host} is in use by something this state dir "
                f"({self.state_dir}) does not manage; pick another --port / PLINTH_EMULATOR_PORT"
            )

        server_env = dict(os.environ)
        server_env.update(env or {})
        # Without it, attaching AWS managed policies (arn:aws:iam::aws:policy/...) fails.
        server_env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        server_env["MOTO_PORT"] = str(self.port)
        server_env["MOTO_RECORDER_FILEPATH"] = str(self.recording_file)
        if record or _truthy(server_env.get("PLINTH_EMULATOR_RECORD")):
            server_env["MOTO_ENABLE_RECORDING"] = "true"
        else:
            server_env.pop("MOTO_ENABLE_RECORDING", None)
        # moto's download-recording fails on a missing file.
        self.recording_file.write_text("")

        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, str(LAUNCHER), "--host", self.host, "--port", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                env=server_env,
                start_new_session=True,  # outlives the CLI and its terminal's signals
            )
        self._process = process
        self.pid_file.write_text(f"{process.pid}\n")
        try:
            self._wait_healthy(process.pid, timeout)
        except EmulatorError:
            self.stop()
            raise
        return True

    def _wait_healthy(self, pid: int, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            doc = self.health()
            if doc is not None and doc.get("pid") == pid:
                return doc
            if self._process is not None and self._process.pid == pid:
                exited = self._process.poll() is not None
            else:
                exited = not _pid_alive(pid)
            if exited:
                raise EmulatorError(
                    f"emulator (pid {pid}) exited before answering on {self.endpoint_url}; "
                    f"log {self.log_file}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise EmulatorError(
                    f"emulator (pid {pid}) did not answer on {self.endpoint_url} within "
                    f"{timeout:.0f}s; log {self.log_file}:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop the server and remove its pid file; True when a running server was stopped."""
        pid = self._owned_pid()
        if pid is None and self._process is not None and self._process.poll() is None:
            pid = self._process.pid
        stopped = False
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while not self._reaped(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self._reaped(pid):
                os.kill(pid, signal.SIGKILL)
                while not self._reaped(pid):
                    time.sleep(0.05)
            stopped = True
        self._process = None
        self.pid_file.unlink(missing_ok=True)
        return stopped

    def _reaped(self, pid: int) -> bool:
        if self._process is not None and self._process.pid == pid:
            return self._process.poll() is not None
        return not _pid_alive(pid)

    def reset(self) -> None:
        """Wipe every resource (moto's reset) and the request recording."""
        try:
            self.request("POST", "/moto-api/reset", body=b"")
            self.request("POST", "/moto-api/recorder/reset-recording", body=b"")
        except OSError as exc:
            raise EmulatorError(f"emulator at {self.endpoint_url} not reachable: {exc}") from exc


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emulator.py", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=default_port(), help="default 5555 or env")
    parser.add_argument("--state-dir", type=Path, default=default_state_root())
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start (idempotent) and wait until healthy")
    start.add_argument("--timeout", type=float, default=60.0)
    start.add_argument("--record", action="store_true", help="enable moto's request recorder")
    sub.add_parser("stop", help="stop and remove the pid file")
    sub.add_parser("reset", help="wipe all emulated AWS state")
    sub.add_parser("status", help="print whether it runs, and its endpoint")
    args = parser.parse_args(argv)

    emulator = Emulator(port=args.port, state_root=args.state_dir)
    try:
        if args.command == "start":
            started = emulator.start(timeout=args.timeout, record=args.record)
            doc = emulator.health() or {}
            latency = doc.get("latency", {})
            profile = f"on (1:{latency.get('scale'):g})" if latency.get("enabled") else "off"
            verb = "started" if started else "already running"
            print(
                f"emulator {verb}: {emulator.endpoint_url} (pid {doc.get('pid')}, "
                f"latency profile {profile}, log {emulator.log_file})"
            )
            if not started and _truthy(os.environ.get("PLINTH_EMULATOR_LATENCY")) != bool(
                latency.get("enabled")
            ):
                print(
                    "warning: the running emulator's latency profile differs from "
                    "PLINTH_EMULATOR_LATENCY; stop it and start again to change it",
                    file=sys.stderr,
                )
        elif args.command == "stop":
            stopped = emulator.stop()
            verb = "stopped" if stopped else "was not running"
            print(f"emulator {verb}: {emulator.endpoint_url}")
        elif args.command == "reset":
            emulator.reset()
            print(f"emulator reset: {emulator.endpoint_url}")
        else:
            doc = emulator.health()
            if doc is None:
                print(f"not running: {emulator.endpoint_url}")
                return EXIT_NOT_RUNNING
            latency = doc.get("latency", {})
            profile = f"on (1:{latency.get('scale'):g})" if latency.get("enabled") else "off"
            print(
                f"running: {emulator.endpoint_url} (pid {doc.get('pid')}, "
                f"latency profile {profile})"
            )
    except EmulatorError as exc:
        print(f"emulator {args.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
