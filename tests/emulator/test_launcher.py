"""emulator.py: start / status / reset / stop, idempotent start, failures reported with the log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.support.emulator_fixture import _free_port, _load_cli

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "tools" / "emulator" / "emulator.py"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CLI), *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLINTH_EMULATOR")}
    env["PLINTH_STATE_DIR"] = str(tmp_path / "state")
    env["PLINTH_EMULATOR_PORT"] = str(_free_port())
    return env


def client(port: str, service: str) -> object:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_cli_lifecycle(cli_env: dict[str, str]) -> None:
    port = cli_env["PLINTH_EMULATOR_PORT"]
    state = Path(cli_env["PLINTH_STATE_DIR"]) / f"emulator-{port}"
    try:
        started = run_cli("start", env=cli_env)
        assert started.returncode == 0, started.stderr
        assert f"emulator started: http://127.0.0.1:{port}" in started.stdout
        pid = int((state / "emulator.pid").read_text())
        # The CLI has exited; the server it started keeps answering.
        ec2 = client(port, "ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]

        again = run_cli("start", env=cli_env)
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stdout
        assert int((state / "emulator.pid").read_text()) == pid

        status = run_cli("status", env=cli_env)
        assert status.returncode == 0
        assert f"running: http://127.0.0.1:{port} (pid {pid}" in status.stdout

        reset = run_cli("reset", env=cli_env)
        assert reset.returncode == 0, reset.stderr
        remaining = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
        assert vpc_id not in remaining
    finally:
        stopped = run_cli("stop", env=cli_env)
    assert stopped.returncode == 0, stopped.stderr
    assert "emulator stopped" in stopped.stdout
    assert not (state / "emulator.pid").exists()
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()

    status = run_cli("status", env=cli_env)
    assert status.returncode == 3
    assert f"not running: http://127.0.0.1:{port}" in status.stdout
    assert "was not running" in run_cli("stop", env=cli_env).stdout


def test_port_option_overrides_env(cli_env: dict[str, str]) -> None:
    port = str(_free_port())
    status = run_cli("--port", port, "status", env=cli_env)
    assert status.returncode == 3
    assert f"http://127.0.0.1:{port}" in status.stdout


def test_managed_policies_are_loaded(tmp_path: Path) -> None:
    cli = _load_cli()
    server = cli.Emulator(port=_free_port(), state_root=tmp_path)
    try:
        assert server.start() is True
        assert server.start() is False  # idempotent: already healthy
        iam = client(str(server.port), "iam")
        iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        iam.attach_role_policy(
            RoleName="r", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
        )
        attached = iam.list_attached_role_policies(RoleName="r")["AttachedPolicies"]
        assert [p["PolicyName"] for p in attached] == ["AmazonEKSClusterPolicy"]
    finally:
        assert server.stop() is True
    assert server.health() is None


def test_port_taken_by_a_stranger_is_a_clear_error(tmp_path: Path) -> None:
    cli = _load_cli()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        server = cli.Emulator(port=sock.getsockname()[1], state_root=tmp_path)
        with pytest.raises(cli.EmulatorError, match="is in use"):
            server.start(timeout=10)
    assert not server.pid_file.exists()


def test_server_dying_at_start_reports_the_log_tail(tmp_path: Path) -> None:
    cli = _load_cli()
    server = cli.Emulator(port=_free_port(), state_root=tmp_path)
    bad = {"PLINTH_EMULATOR_LATENCY": "1", "PLINTH_EMULATOR_LATENCY_SCALE": "-1"}
    with pytest.raises(cli.EmulatorError, match="exited before answering") as err:
        server.start(env=bad, timeout=60)
    assert "PLINTH_EMULATOR_LATENCY_SCALE must be positive" in str(err.value)
    assert not server.pid_file.exists()
