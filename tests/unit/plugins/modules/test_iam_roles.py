"""Unit tests for plinth.platform.iam_roles, run against moto's in-process mock_aws."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import iam_roles

# moto does not load the AWS managed policies: the tests make customer managed ones (fixture iam).
POLICY = "arn:aws:iam::123456789012:policy/{}"
EKS, VPC, WORKER = (POLICY.format(name) for name in ("eks-cluster", "eks-vpc", "eks-worker"))
TAGS = {"Environment": "test"}


def trust(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


WRITE_LOGS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
}


def cluster_role(**kwargs: Any) -> dict[str, Any]:
    return dict(
        {
            "name": "plinth-eks-cluster",
            "description": "EKS control plane",
            "assume_role_policy_document": trust("eks.amazonaws.com"),
            "managed_policies": [EKS, VPC],
            "tags": TAGS,
        },
        **kwargs,
    )


def logs_role(**kwargs: Any) -> dict[str, Any]:
    return dict(
        {
            "name": "plinth-flow-logs",
            # a JSON string, as `to_json` gives it
            "assume_role_policy_document": json.dumps(trust("vpc-flow-logs.amazonaws.com")),
            "inline_policies": {"write-flow-logs": WRITE_LOGS},
            "max_session_duration": 7200,
            "tags": TAGS,
        },
        **kwargs,
    )


ARGS = {"roles": [cluster_role(), logs_role()]}
WRITES = {
    "CreateRole",
    "UpdateAssumeRolePolicy",
    "UpdateRole",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "TagRole",
    "UntagRole",
    "DeleteRole",
}


@pytest.fixture
def iam(aws_moto: None) -> Any:
    client = boto3.client("iam", region_name="us-east-1")
    for arn in (EKS, VPC, WORKER):
        name = arn.rsplit("/", 1)[1]
        client.create_policy(PolicyName=name, PolicyDocument=json.dumps(WRITE_LOGS))
    return client


@pytest.fixture
def calls(api_calls: Any) -> list[str]:
    return api_calls("iam")


def attached(iam: Any, name: str) -> set[str]:
    return {
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    }


def tags(iam: Any, name: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}


def test_check_mode_on_empty_account_creates_nothing(run_module, iam, calls):
    result = run_module(iam_roles, ARGS, check_mode=True, diff=True)
    assert result["changed"] and all(r["changed"] for r in result["roles"])
    assert result["arns"] == {"plinth-eks-cluster": "", "plinth-flow-logs": ""}
    assert calls == ["GetRole", "GetRole"]
    assert result["diff"]["before"] == {"plinth-eks-cluster": {}, "plinth-flow-logs": {}}
    assert result["diff"]["after"]["plinth-eks-cluster"]["managed_policies"] == [EKS, VPC]
    assert iam.list_roles()["Roles"] == []


def test_creates_then_a_rerun_only_reads(run_module, iam, calls):
    result = run_module(iam_roles, ARGS)
    assert result["changed"]
    cluster, logs = result["roles"]
    role = iam.get_role(RoleName="plinth-eks-cluster")["Role"]
    assert cluster["arn"] == role["Arn"] == result["arns"]["plinth-eks-cluster"]
    assert cluster["role_id"] == role["RoleId"]
    assert role["Description"] == "EKS control plane"
    assert attached(iam, "plinth-eks-cluster") == {EKS, VPC}
    assert tags(iam, "plinth-eks-cluster") == TAGS
    assert iam.get_role(RoleName="plinth-flow-logs")["Role"]["MaxSessionDuration"] == 7200
    policy = iam.get_role_policy(RoleName="plinth-flow-logs", PolicyName="write-flow-logs")
    assert policy["PolicyDocument"] == WRITE_LOGS
    assert logs["inline_policies"] == ["write-flow-logs"]
    assert "CreateRole" in calls

    calls.clear()
    again = run_module(iam_roles, ARGS)
    assert not again["changed"]
    assert again["arns"] == result["arns"]
    assert not WRITES & set(calls)
    # cluster: GetRole + ListAttachedRolePolicies; flow logs: GetRole + ListRolePolicies +
    # GetRolePolicy (no managed_policies given, so no ListAttachedRolePolicies).
    assert sorted(calls) == sorted(
        ["GetRole", "ListAttachedRolePolicies", "GetRole", "ListRolePolicies", "GetRolePolicy"]
    )


def test_every_attribute_is_updated(run_module, iam, calls):
    run_module(iam_roles, ARGS)
    new_inline = {
        "Version": "2012-10-17",
        "Statement": [dict(WRITE_LOGS["Statement"][0], Action="logs:*")],
    }
    changed = {
        "roles": [
            cluster_role(
                description="changed",
                assume_role_policy_document=trust("ec2.amazonaws.com"),
                managed_policies=[EKS, WORKER],
                tags={"Environment": "prod", "Owner": "platform"},
                max_session_duration=3600 * 4,
            ),
            logs_role(inline_policies={"write-flow-logs": new_inline}),
        ]
    }
    check = run_module(iam_roles, changed, check_mode=True, diff=True)
    assert check["changed"]
    before = check["diff"]["before"]["plinth-eks-cluster"]
    after = check["diff"]["after"]["plinth-eks-cluster"]
    assert before["description"] == "EKS control plane" and after["description"] == "changed"
    assert set(before["managed_policies"]) == {EKS, VPC}
    assert set(after["managed_policies"]) == {EKS, WORKER}
    assert iam.get_role(RoleName="plinth-eks-cluster")["Role"]["Description"] == "EKS control plane"

    calls.clear()
    result = run_module(iam_roles, changed)
    assert [r["changed"] for r in result["roles"]] == [True, True]
    assert {"UpdateAssumeRolePolicy", "UpdateRole", "AttachRolePolicy", "DetachRolePolicy"} <= set(
        calls
    )
    role = iam.get_role(RoleName="plinth-eks-cluster")["Role"]
    assert role["Description"] == "changed"
    assert role["MaxSessionDuration"] == 14400
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    assert attached(iam, "plinth-eks-cluster") == {EKS, WORKER}
    assert tags(iam, "plinth-eks-cluster") == {"Environment": "prod", "Owner": "platform"}
    policy = iam.get_role_policy(RoleName="plinth-flow-logs", PolicyName="write-flow-logs")
    assert policy["PolicyDocument"]["Statement"][0]["Action"] == "logs:*"
    assert not run_module(iam_roles, changed)["changed"]


def test_purge_removes_what_was_added_by_hand(run_module, iam):
    run_module(iam_roles, ARGS)
    iam.attach_role_policy(RoleName="plinth-eks-cluster", PolicyArn=WORKER)
    iam.tag_role(RoleName="plinth-eks-cluster", Tags=[{"Key": "Extra", "Value": "1"}])
    iam.put_role_policy(
        RoleName="plinth-flow-logs", PolicyName="by-hand", PolicyDocument=json.dumps(WRITE_LOGS)
    )
    keep = {
        "roles": [
            cluster_role(purge_policies=False, purge_tags=False),
            logs_role(purge_inline_policies=False),
        ]
    }
    assert not run_module(iam_roles, keep)["changed"]

    result = run_module(iam_roles, ARGS)
    assert [r["changed"] for r in result["roles"]] == [True, True]
    assert attached(iam, "plinth-eks-cluster") == {EKS, VPC}
    assert tags(iam, "plinth-eks-cluster") == TAGS
    assert iam.list_role_policies(RoleName="plinth-flow-logs")["PolicyNames"] == ["write-flow-logs"]
    assert not run_module(iam_roles, ARGS)["changed"]


def test_null_options_leave_things_alone(run_module, iam, calls):
    run_module(iam_roles, ARGS)
    bare = {
        "roles": [
            {
                "name": "plinth-eks-cluster",
                "assume_role_policy_document": trust("eks.amazonaws.com"),
            }
        ]
    }
    calls.clear()
    assert not run_module(iam_roles, bare)["changed"]
    assert calls == ["GetRole"]
    assert attached(iam, "plinth-eks-cluster") == {EKS, VPC}
    assert tags(iam, "plinth-eks-cluster") == TAGS


def test_absent_deletes_with_policies_once(run_module, iam):
    run_module(iam_roles, ARGS)
    args = {
        "roles": [
            {"name": "plinth-eks-cluster", "state": "absent"},
            {"name": "plinth-flow-logs", "state": "absent"},
            {"name": "plinth-gone", "state": "absent"},
        ]
    }
    assert run_module(iam_roles, args, check_mode=True)["changed"]
    assert len(iam.list_roles()["Roles"]) == 2
    result = run_module(iam_roles, args)
    assert [r["changed"] for r in result["roles"]] == [True, True, False]
    assert iam.list_roles()["Roles"] == []
    assert not run_module(iam_roles, args)["changed"]


def test_a_different_path_fails(run_module, iam):
    run_module(iam_roles, ARGS)
    result = run_module(iam_roles, {"roles": [cluster_role(path="/eks/")]})
    assert result["failed"] and "path cannot be changed" in result["msg"]


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ([cluster_role(), cluster_role()], "Duplicate role names: plinth-eks-cluster"),
        ([logs_role(assume_role_policy_document="{not json")], "is not valid JSON"),
        ([logs_role(inline_policies={"p": "[1, 2]"})], "is not a JSON object"),
        (
            [cluster_role(assume_role_policy_document=None)],
            "assume_role_policy_document is required",
        ),
        ([cluster_role(max_session_duration=60)], "max_session_duration must be"),
    ],
)
def test_bad_input_fails_before_any_call(run_module, iam, calls, roles, message):
    result = run_module(iam_roles, {"roles": roles})
    assert result["failed"] and message in result["msg"]
    assert calls == []
