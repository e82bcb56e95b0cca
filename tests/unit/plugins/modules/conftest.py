"""Fixtures shared by the module unit tests.

``run_module`` runs a module's ``main()`` in-process and returns its result::

    def test_create(run_module):
        result = run_module(vpc_flow_log, {"resource_id": "vpc-1", ...}, check_mode=True)
        assert result["changed"]

``aws_moto`` starts moto's in-process ``mock_aws`` with fake credentials, so modules (which build
their own boto3 clients) and the test's own ``boto3`` clients talk to the same emulated account.

``stubbed_client`` puts a botocore ``Stubber`` under the client modules get, for the APIs moto
lacks::

    def test_upgrade(run_module, stubbed_client):
        stub = stubbed_client("eks")
        stub.add_response("describe_cluster", {...}, {"name": "c"})
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from unittest import mock

import boto3
import botocore.client
import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import Stubber

AWS_REGION = "us-east-1"

RunModule = Callable[..., dict[str, Any]]


@pytest.fixture
def run_module() -> RunModule:
    """Return ``run(module, args, *, check_mode=False, diff=False) -> dict``.

    ``module`` is the imported module (its ``main()`` is called), ``args`` its task arguments.
    ``check_mode`` / ``diff`` set ``_ansible_check_mode`` / ``_ansible_diff`` as the controller
    would. The return value is the module's result JSON: ``exit_json`` results as they are,
    ``fail_json`` results with ``failed: true`` and ``msg``. Each run starts with no recorded
    warnings or deprecations, so ``result.get("warnings")`` belongs to that run only.
    """

    def run(
        module: ModuleType, args: dict[str, Any], *, check_mode: bool = False, diff: bool = False
    ) -> dict[str, Any]:
        module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        out = io.StringIO()
        # AnsibleModule keeps warnings and deprecations in process-wide dicts (a module normally
        # runs once per process); isolate them so runs do not see each other's.
        with (
            mock.patch.dict(ansible_warnings._global_warnings, clear=True),
            mock.patch.dict(ansible_warnings._global_deprecations, clear=True),
            patch_module_args(module_args),
            contextlib.redirect_stdout(out),
            pytest.raises(SystemExit) as exit_info,
        ):
            module.main()
        try:
            result = json.loads(out.getvalue())
        except ValueError as e:
            raise AssertionError(f"module printed no single JSON result: {out.getvalue()!r}") from e
        # exit_json exits 0, fail_json 1: anything else means the module did not finish normally.
        expected_code = 1 if result.get("failed") else 0
        assert exit_info.value.code == expected_code, (exit_info.value.code, result)
        return result

    return run


@pytest.fixture
def aws_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS with fake credentials in ``AWS_REGION``; nothing reaches a network."""
    from moto import mock_aws

    # A developer's profile, endpoint (the emulator) or config must not leak into the tests.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", AWS_REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
    with mock_aws():
        yield


@pytest.fixture
def moto_vpc(aws_moto: None) -> dict[str, Any]:
    """A VPC in moto with one subnet in each of two AZs: ``{"vpc_id": ..., "subnets": [...]}``."""
    ec2 = boto3.client("ec2", region_name=AWS_REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{AWS_REGION}{az}"
        )["Subnet"]["SubnetId"]
        for i, az in enumerate("ab")
    ]
    return {"vpc_id": vpc, "subnets": subnets}


@pytest.fixture
def stubbed_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Stubber]]:
    """Return ``stub(service) -> Stubber``: from then on every module instance gets one boto3
    client of ``service`` (in the module's retry wrapper, as ``AnsibleAWSModule.client`` returns
    it), answered only by the Stubber. Every queued response must be used by the end of the test.
    """
    stubbers: list[Stubber] = []

    def stub(service: str) -> Stubber:
        client = boto3.client(
            service, region_name=AWS_REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )

        def fake_client(
            self: AnsibleAWSModule, name: str, retry_decorator: Any = None, **kwargs: Any
        ) -> Any:
            assert name == service
            return RetryingBotoClientWrapper(client, retry_decorator) if retry_decorator else client

        monkeypatch.setattr(AnsibleAWSModule, "client", fake_client)
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        return stubber

    yield stub
    for stubber in stubbers:
        stubber.deactivate()
        stubber.assert_no_pending_responses()


@pytest.fixture
def api_calls(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[str]]:
    """Return ``record(service) -> list``: the list fills with the operation names of every call
    to ``service`` from then on (the modules' calls and the test's own), for tests that prove how
    many calls a module makes."""

    def record(service: str) -> list[str]:
        made: list[str] = []
        original = botocore.client.BaseClient._make_api_call

        def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
            if self.meta.service_model.service_name == service:
                made.append(operation)
            return original(self, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
        return made

    return record
