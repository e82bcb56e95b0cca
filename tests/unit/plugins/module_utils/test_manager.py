"""run_manager: the present/absent main() dispatch shared by the modules with a manager class."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible_collections.plinth.platform.plugins.module_utils.manager import run_manager
from botocore.exceptions import ClientError, EndpointConnectionError


def _module(state: str) -> MagicMock:
    return MagicMock(params={"state": state})


@pytest.mark.parametrize(
    ("state", "called", "not_called"),
    [
        ("present", "ensure_present", "ensure_absent"),
        ("absent", "ensure_absent", "ensure_present"),
    ],
)
def test_dispatches_by_state(state, called, not_called):
    module, manager = _module(state), MagicMock()
    run_manager(module, manager, "thing x")
    getattr(manager, called).assert_called_once_with()
    getattr(manager, not_called).assert_not_called()
    module.fail_json_aws.assert_not_called()


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeThing"),
        EndpointConnectionError(endpoint_url="https://example.invalid"),
    ],
)
def test_an_aws_error_the_manager_left_fails_the_module_naming_the_resource(error):
    module, manager = _module("absent"), MagicMock()
    manager.ensure_absent.side_effect = error
    run_manager(module, manager, "dashboard main")
    module.fail_json_aws.assert_called_once_with(error, msg="Failed to manage dashboard main")


def test_other_errors_are_not_swallowed():
    module, manager = _module("present"), MagicMock()
    manager.ensure_present.side_effect = KeyError("bug")
    with pytest.raises(KeyError):
        run_manager(module, manager, "budget monthly")
    module.fail_json_aws.assert_not_called()
