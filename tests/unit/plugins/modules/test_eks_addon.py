"""Unit tests for plinth.platform.eks_addon and eks_addon_info.

moto does not implement the EKS add-on API, so the modules are driven against a botocore Stubber
that asserts every request's parameters; the live moto test below documents the gap and runs by
itself once moto gains the API.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import moto
import pytest
from ansible_collections.plinth.platform.plugins.modules import eks_addon, eks_addon_info
from botocore.exceptions import ClientError
from moto import mock_aws

REGION = "us-east-1"
CLUSTER = "prod"
NAME = "vpc-cni"
ARN = f"arn:aws:eks:{REGION}:123456789012:addon/{CLUSTER}/{NAME}/0000"
ROLE = "arn:aws:iam::123456789012:role/vpc-cni"
ROLE2 = "arn:aws:iam::123456789012:role/vpc-cni-2"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
BASE_ARGS = {"cluster_name": CLUSTER, "name": NAME, "region": REGION}


@pytest.fixture
def stub(stubbed_client):
    """A Stubber on the EKS client every module instance gets; all stubs must be consumed."""
    return stubbed_client("eks")


def addon(**overrides) -> dict:
    body = {
        "addonName": NAME,
        "clusterName": CLUSTER,
        "status": "ACTIVE",
        "addonVersion": "v1.18.3-eksbuild.1",
        "health": {"issues": []},
        "addonArn": ARN,
        "createdAt": NOW,
        "modifiedAt": NOW,
        "tags": {"team": "platform"},
        "podIdentityAssociations": [],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def expect_describe(stub, **overrides) -> None:
    stub.add_response(
        "describe_addon", {"addon": addon(**overrides)}, {"clusterName": CLUSTER, "addonName": NAME}
    )


def expect_missing(stub) -> None:
    stub.add_client_error(
        "describe_addon",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
        expected_params={"clusterName": CLUSTER, "addonName": NAME},
    )


def expect_default_version(stub, default="v1.18.3-eksbuild.1") -> None:
    stub.add_response(
        "describe_cluster", {"cluster": {"name": CLUSTER, "version": "1.31"}}, {"name": CLUSTER}
    )
    stub.add_response(
        "describe_addon_versions",
        {
            "addons": [
                {
                    "addonName": NAME,
                    "addonVersions": [
                        {
                            "addonVersion": "v1.19.0-eksbuild.1",
                            "compatibilities": [
                                {"clusterVersion": "1.31", "defaultVersion": False}
                            ],
                        },
                        {
                            "addonVersion": default,
                            "compatibilities": [
                                {"clusterVersion": "1.30", "defaultVersion": False},
                                {"clusterVersion": "1.31", "defaultVersion": True},
                            ],
                        },
                    ],
                }
            ]
        },
        {"addonName": NAME, "kubernetesVersion": "1.31"},
    )


# --- create -----------------------------------------------------------------------------------


def test_create_uses_default_version_and_waits(run_module, stub):
    expect_missing(stub)
    expect_default_version(stub)
    stub.add_response(
        "create_addon",
        {"addon": addon(status="CREATING")},
        {
            "clusterName": CLUSTER,
            "addonName": NAME,
            "addonVersion": "v1.18.3-eksbuild.1",
            "serviceAccountRoleArn": ROLE,
            "configurationValues": '{"env": {"ENABLE_PREFIX_DELEGATION": "true"}}',
            "resolveConflicts": "OVERWRITE",
            "tags": {"team": "platform"},
        },
    )
    expect_describe(stub)  # the addon_active waiter's first poll
    expect_describe(stub, serviceAccountRoleArn=ROLE)  # the final description

    result = run_module(
        eks_addon,
        dict(
            BASE_ARGS,
            service_account_role_arn=ROLE,
            configuration_values={"env": {"ENABLE_PREFIX_DELEGATION": "true"}},
            resolve_conflicts="OVERWRITE",
            tags={"team": "platform"},
            wait=True,
        ),
        diff=True,
    )

    assert result["changed"] is True
    assert result["addon"]["addon_arn"] == ARN
    assert result["addon"]["status"] == "ACTIVE"
    assert result["addon"]["service_account_role_arn"] == ROLE
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["addon_version"] == "v1.18.3-eksbuild.1"
    assert result["diff"]["after"]["configuration_values"] == {
        "env": {"ENABLE_PREFIX_DELEGATION": "true"}
    }


def test_create_with_version_and_pod_identity_skips_version_lookup(run_module, stub):
    expect_missing(stub)
    stub.add_response(
        "create_addon",
        {"addon": addon(status="CREATING")},
        {
            "clusterName": CLUSTER,
            "addonName": NAME,
            "addonVersion": "v1.19.0-eksbuild.1",
            "podIdentityAssociations": [{"serviceAccount": "aws-node", "roleArn": ROLE}],
        },
    )
    expect_describe(stub, status="CREATING")

    result = run_module(
        eks_addon,
        dict(
            BASE_ARGS,
            addon_version="v1.19.0-eksbuild.1",
            pod_identity_associations=[{"service_account": "aws-node", "role_arn": ROLE}],
        ),
    )

    assert result["changed"] is True
    assert result["addon"]["status"] == "CREATING"


def test_create_fails_without_default_version(run_module, stub):
    expect_missing(stub)
    stub.add_response(
        "describe_cluster", {"cluster": {"name": CLUSTER, "version": "1.31"}}, {"name": CLUSTER}
    )
    stub.add_response(
        "describe_addon_versions", {"addons": []}, {"addonName": NAME, "kubernetesVersion": "1.31"}
    )

    result = run_module(eks_addon, BASE_ARGS)

    assert result["failed"] is True
    assert "no default version" in result["msg"]


def test_check_mode_create_writes_nothing(run_module, stub):
    expect_missing(stub)
    expect_default_version(stub)
    # No create_addon stub: the Stubber fails the run if the module tries to write.

    result = run_module(eks_addon, dict(BASE_ARGS, tags={"a": "b"}), check_mode=True, diff=True)

    assert result["changed"] is True
    assert result["addon"] == {}
    assert result["diff"]["after"]["addon_version"] == "v1.18.3-eksbuild.1"
    assert result["diff"]["after"]["tags"] == {"a": "b"}


# --- idempotence --------------------------------------------------------------------------------


def test_rerun_is_not_changed_and_compares_configuration_as_json(run_module, stub):
    expect_describe(
        stub,
        serviceAccountRoleArn=ROLE,
        configurationValues='{\n  "env": {"WARM_IP_TARGET": "5", "MINIMUM_IP_TARGET": "10"}\n}',
        podIdentityAssociations=[f"arn:aws:eks:{REGION}:123456789012:podidentityassociation/p/a-1"],
    )
    stub.add_response(
        "describe_pod_identity_association",
        {
            "association": {
                "clusterName": CLUSTER,
                "namespace": "kube-system",
                "serviceAccount": "aws-node",
                "roleArn": ROLE2,
                "associationId": "a-1",
            }
        },
        {"clusterName": CLUSTER, "associationId": "a-1"},
    )

    result = run_module(
        eks_addon,
        dict(
            BASE_ARGS,
            addon_version="v1.18.3-eksbuild.1",
            service_account_role_arn=ROLE,
            configuration_values=json.dumps(
                {"env": {"MINIMUM_IP_TARGET": "10", "WARM_IP_TARGET": "5"}}
            ),
            pod_identity_associations=[{"service_account": "aws-node", "role_arn": ROLE2}],
            tags={"team": "platform"},
            resolve_conflicts="OVERWRITE",
        ),
    )

    assert result["changed"] is False
    assert result["addon"]["tags"] == {"team": "platform"}


def test_omitted_settings_leave_existing_addon_alone(run_module, stub):
    expect_describe(stub, addonVersion="v1.0.0-eksbuild.1", serviceAccountRoleArn=ROLE)

    result = run_module(eks_addon, BASE_ARGS)

    assert result["changed"] is False
    assert result["addon"]["addon_version"] == "v1.0.0-eksbuild.1"


# --- update ------------------------------------------------------------------------------------


def test_update_version_role_and_configuration_with_diff(run_module, stub):
    expect_describe(stub, serviceAccountRoleArn=ROLE, configurationValues='{"a": 1}')
    stub.add_response(
        "update_addon",
        {"update": {"id": "u-1", "status": "InProgress", "type": "AddonUpdate"}},
        {
            "clusterName": CLUSTER,
            "addonName": NAME,
            "addonVersion": "v1.19.0-eksbuild.1",
            "serviceAccountRoleArn": ROLE2,
            "configurationValues": '{"a": 2}',
            "resolveConflicts": "PRESERVE",
        },
    )
    expect_describe(stub, status="ACTIVE", addonVersion="v1.19.0-eksbuild.1")  # waiter
    expect_describe(
        stub,
        addonVersion="v1.19.0-eksbuild.1",
        serviceAccountRoleArn=ROLE2,
        configurationValues='{"a": 2}',
    )

    result = run_module(
        eks_addon,
        dict(
            BASE_ARGS,
            addon_version="v1.19.0-eksbuild.1",
            service_account_role_arn=ROLE2,
            configuration_values={"a": 2},
            resolve_conflicts="PRESERVE",
            wait=True,
        ),
        diff=True,
    )

    assert result["changed"] is True
    assert result["addon"]["addon_version"] == "v1.19.0-eksbuild.1"
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["addon_version"] == "v1.18.3-eksbuild.1"
    assert after["addon_version"] == "v1.19.0-eksbuild.1"
    assert (before["service_account_role_arn"], after["service_account_role_arn"]) == (ROLE, ROLE2)
    assert (before["configuration_values"], after["configuration_values"]) == ({"a": 1}, {"a": 2})
    assert before["tags"] == after["tags"] == {"team": "platform"}


def test_update_sends_only_what_differs_and_empty_mapping_clears_configuration(run_module, stub):
    expect_describe(stub, serviceAccountRoleArn=ROLE, configurationValues='{"a": 1}')
    stub.add_response(
        "update_addon",
        {"update": {"id": "u-1", "status": "InProgress", "type": "AddonUpdate"}},
        {"clusterName": CLUSTER, "addonName": NAME, "configurationValues": "{}"},
    )
    expect_describe(stub, status="UPDATING", serviceAccountRoleArn=ROLE)

    result = run_module(
        eks_addon,
        dict(
            BASE_ARGS,
            addon_version="v1.18.3-eksbuild.1",
            service_account_role_arn=ROLE,
            configuration_values={},
        ),
    )

    assert result["changed"] is True
    assert result["addon"]["status"] == "UPDATING"


def test_update_waits_for_busy_addon_before_updating(run_module, stub):
    expect_describe(stub, status="CREATING")
    expect_describe(stub, status="ACTIVE")  # addon_active before UpdateAddon
    stub.add_response(
        "update_addon",
        {"update": {"id": "u-1", "status": "InProgress", "type": "AddonUpdate"}},
        {"clusterName": CLUSTER, "addonName": NAME, "addonVersion": "v1.19.0-eksbuild.1"},
    )
    expect_describe(stub, status="UPDATING", addonVersion="v1.19.0-eksbuild.1")

    result = run_module(eks_addon, dict(BASE_ARGS, addon_version="v1.19.0-eksbuild.1"))

    assert result["changed"] is True


def test_update_pod_identity_associations(run_module, stub):
    association = f"arn:aws:eks:{REGION}:123456789012:podidentityassociation/{CLUSTER}/a-1"
    expect_describe(stub, podIdentityAssociations=[association])
    stub.add_response(
        "describe_pod_identity_association",
        {"association": {"serviceAccount": "aws-node", "roleArn": ROLE}},
        {"clusterName": CLUSTER, "associationId": "a-1"},
    )
    stub.add_response(
        "update_addon",
        {"update": {"id": "u-1", "status": "InProgress", "type": "AddonUpdate"}},
        {
            "clusterName": CLUSTER,
            "addonName": NAME,
            "podIdentityAssociations": [{"serviceAccount": "aws-node", "roleArn": ROLE2}],
        },
    )
    expect_describe(stub, status="UPDATING")

    result = run_module(
        eks_addon,
        dict(
            BASE_ARGS,
            pod_identity_associations=[{"service_account": "aws-node", "role_arn": ROLE2}],
        ),
        diff=True,
    )

    assert result["changed"] is True
    assert result["diff"]["before"]["pod_identity_associations"] == [
        {"service_account": "aws-node", "role_arn": ROLE}
    ]
    assert result["diff"]["after"]["pod_identity_associations"] == [
        {"service_account": "aws-node", "role_arn": ROLE2}
    ]


def test_update_tags_with_purge(run_module, stub):
    expect_describe(stub, tags={"team": "platform", "old": "x", "aws:reserved": "y"})
    stub.add_response("untag_resource", {}, {"resourceArn": ARN, "tagKeys": ["old"]})
    stub.add_response("tag_resource", {}, {"resourceArn": ARN, "tags": {"team": "core"}})
    expect_describe(stub, tags={"team": "core", "aws:reserved": "y"})

    result = run_module(eks_addon, dict(BASE_ARGS, tags={"team": "core"}), diff=True)

    assert result["changed"] is True
    assert result["addon"]["tags"] == {"team": "core", "aws:reserved": "y"}
    assert result["diff"]["after"]["tags"] == {"team": "core", "aws:reserved": "y"}


def test_tags_without_purge_only_add(run_module, stub):
    expect_describe(stub, tags={"team": "platform"})
    stub.add_response("tag_resource", {}, {"resourceArn": ARN, "tags": {"env": "prod"}})
    expect_describe(stub, tags={"team": "platform", "env": "prod"})

    result = run_module(eks_addon, dict(BASE_ARGS, tags={"env": "prod"}, purge_tags=False))

    assert result["changed"] is True


def test_check_mode_update_writes_nothing(run_module, stub):
    expect_describe(stub)

    result = run_module(
        eks_addon,
        dict(BASE_ARGS, addon_version="v1.19.0-eksbuild.1", tags={}),
        check_mode=True,
        diff=True,
    )

    assert result["changed"] is True
    assert result["addon"]["addon_version"] == "v1.18.3-eksbuild.1"
    assert result["diff"]["after"]["addon_version"] == "v1.19.0-eksbuild.1"
    assert result["diff"]["after"]["tags"] == {}


def test_present_while_deleting_waits_then_creates(run_module, stub):
    expect_describe(stub, status="DELETING")
    expect_missing(stub)  # addon_deleted waiter
    expect_missing(stub)  # re-read after the deletion
    stub.add_response(
        "create_addon",
        {"addon": addon(status="CREATING")},
        {"clusterName": CLUSTER, "addonName": NAME, "addonVersion": "v1.18.3-eksbuild.1"},
    )
    expect_describe(stub, status="CREATING")

    result = run_module(eks_addon, dict(BASE_ARGS, addon_version="v1.18.3-eksbuild.1"))

    assert result["changed"] is True


def test_check_mode_present_while_deleting_reports_creation(run_module, stub):
    expect_describe(stub, status="DELETING")

    result = run_module(
        eks_addon, dict(BASE_ARGS, addon_version="v1.18.3-eksbuild.1"), check_mode=True
    )

    assert result["changed"] is True
    assert result["addon"] == {}


def test_unchanged_addon_is_waited_for_when_asked(run_module, stub):
    expect_describe(stub, status="UPDATING")
    expect_describe(stub, status="ACTIVE")  # addon_active waiter
    expect_describe(stub, status="ACTIVE")  # re-read

    result = run_module(eks_addon, dict(BASE_ARGS, wait=True))

    assert result["changed"] is False
    assert result["addon"]["status"] == "ACTIVE"


def test_wait_failure_is_reported(run_module, stub):
    expect_describe(stub, status="UPDATING")
    expect_describe(stub, status="DEGRADED")  # addon_active fails on DEGRADED

    result = run_module(eks_addon, dict(BASE_ARGS, wait=True))

    assert result["failed"] is True
    assert "waiting for add-on vpc-cni (addon_active)" in result["msg"]


# --- absent ------------------------------------------------------------------------------------


def test_absent_deletes_with_preserve_and_waits(run_module, stub):
    expect_describe(stub)
    stub.add_response(
        "delete_addon",
        {"addon": addon(status="DELETING")},
        {"clusterName": CLUSTER, "addonName": NAME, "preserve": True},
    )
    expect_missing(stub)  # addon_deleted waiter succeeds on ResourceNotFoundException

    result = run_module(eks_addon, dict(BASE_ARGS, state="absent", preserve=True, wait=True))

    assert result["changed"] is True
    assert result["addon"] == {}


def test_absent_again_is_not_changed(run_module, stub):
    expect_missing(stub)

    result = run_module(eks_addon, dict(BASE_ARGS, state="absent"))

    assert result == {"changed": False, "addon": {}, "invocation": result["invocation"]}


def test_absent_while_deleting_is_not_changed(run_module, stub):
    expect_describe(stub, status="DELETING")

    result = run_module(eks_addon, dict(BASE_ARGS, state="absent"))

    assert result["changed"] is False


def test_check_mode_absent_writes_nothing(run_module, stub):
    expect_describe(stub)

    result = run_module(eks_addon, dict(BASE_ARGS, state="absent"), check_mode=True)

    assert result["changed"] is True


def test_api_error_fails_with_aws_details(run_module, stub):
    stub.add_client_error(
        "describe_addon",
        service_error_code="AccessDeniedException",
        service_message="nope",
        http_status_code=403,
    )

    result = run_module(eks_addon, BASE_ARGS)

    assert result["failed"] is True
    assert "Failed to manage EKS add-on vpc-cni" in result["msg"]
    assert result["error"]["code"] == "AccessDeniedException"


def test_configuration_values_must_be_dict_or_string(run_module, stub):
    result = run_module(eks_addon, dict(BASE_ARGS, configuration_values=[1, 2]))

    assert result["failed"] is True
    assert "configuration_values" in result["msg"]


# --- eks_addon_info ----------------------------------------------------------------------------


def test_info_lists_and_describes_every_addon(run_module, stub):
    stub.add_response("list_addons", {"addons": [NAME, "coredns"]}, {"clusterName": CLUSTER})
    stub.add_response(
        "describe_addon",
        {"addon": addon(addonName="coredns")},
        {"clusterName": CLUSTER, "addonName": "coredns"},
    )
    expect_describe(stub)

    result = run_module(eks_addon_info, {"cluster_name": CLUSTER, "region": REGION})

    assert result["changed"] is False
    assert [a["addon_name"] for a in result["addons"]] == ["coredns", NAME]
    assert result["addons"][1]["tags"] == {"team": "platform"}


def test_info_describes_one_addon(run_module, stub):
    expect_describe(stub)

    result = run_module(eks_addon_info, BASE_ARGS)

    assert [a["addon_arn"] for a in result["addons"]] == [ARN]


def test_info_missing_addon_or_cluster_is_empty(run_module, stub):
    expect_missing(stub)
    stub.add_client_error(
        "list_addons", service_error_code="ResourceNotFoundException", http_status_code=404
    )

    assert run_module(eks_addon_info, BASE_ARGS)["addons"] == []
    assert run_module(eks_addon_info, {"cluster_name": CLUSTER, "region": REGION})["addons"] == []


# --- live emulator -----------------------------------------------------------------------------


def moto_addon_gap() -> str | None:
    """moto's error for CreateAddon on an existing cluster, or None once moto implements it."""
    with mock_aws():
        # Explicit endpoint and keys: a developer's AWS_ENDPOINT_URL must not divert the probe.
        eks = boto3.client(
            "eks",
            region_name=REGION,
            endpoint_url=f"https://eks.{REGION}.amazonaws.com",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        eks.create_cluster(
            name="probe",
            roleArn="arn:aws:iam::123456789012:role/eks",
            resourcesVpcConfig={"subnetIds": []},
        )
        try:
            eks.create_addon(clusterName="probe", addonName=NAME)
        except ClientError as e:
            if "Not yet implemented" in str(e):
                return str(e)
            raise
        except NotImplementedError as e:
            return str(e)
    return None


MOTO_ADDON_GAP = moto_addon_gap()


def moto_gap(reason: str | None):
    """Skip (and label) a live test while moto lacks the API; run it as soon as moto has it."""

    def mark(test):
        if reason:
            test = pytest.mark.moto_gap(reason=reason)(test)
            test = pytest.mark.skip(reason=f"moto {moto.__version__}: {reason}")(test)
        return test

    return mark


@moto_gap(MOTO_ADDON_GAP)
def test_live_against_moto(run_module, aws_moto):
    boto3.client("eks", region_name=REGION).create_cluster(
        name=CLUSTER,
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": []},
    )
    args = dict(BASE_ARGS, addon_version="v1.18.3-eksbuild.1", tags={"team": "platform"})

    created = run_module(eks_addon, args)
    rerun = run_module(eks_addon, args)
    listed = run_module(eks_addon_info, {"cluster_name": CLUSTER, "region": REGION})
    deleted = run_module(eks_addon, dict(BASE_ARGS, state="absent"))
    deleted_again = run_module(eks_addon, dict(BASE_ARGS, state="absent"))

    assert created["changed"] is True
    assert rerun["changed"] is False
    assert [a["addon_name"] for a in listed["addons"]] == [NAME]
    assert deleted["changed"] is True
    assert deleted_again["changed"] is False
