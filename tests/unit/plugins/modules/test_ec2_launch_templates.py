"""Unit tests for plinth.platform.ec2_launch_templates against moto's in-process EC2."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import ec2_launch_templates

REGION = "us-east-1"
WRITES = {
    "CreateLaunchTemplate",
    "CreateLaunchTemplateVersion",
    "ModifyLaunchTemplate",
    "DeleteLaunchTemplate",
    "CreateTags",
    "DeleteTags",
}


def data(size=50, hop_limit=1):
    return {
        "metadata_options": {
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": hop_limit,
            "http_protocol_ipv6": "disabled",
            "instance_metadata_tags": "disabled",
        },
        "security_group_ids": ["sg-12345678"],
        "block_device_mappings": [
            {
                "device_name": "/dev/xvda",
                "ebs": {
                    "volume_size": size,
                    "volume_type": "gp3",
                    "encrypted": True,
                    "delete_on_termination": True,
                },
            }
        ],
        "tag_specifications": [
            {"resource_type": "volume", "tags": {"b": "2", "a": "1"}},
            {"resource_type": "instance", "tags": {"Name": "x"}},
        ],
    }


def template(name, **overrides):
    return dict(
        {
            "name": name,
            "version_description": "Managed by Plinth",
            "data": data(),
            "tags": {"plinth:stack": "shop-dev"},
        },
        **overrides,
    )


def args(*templates, **overrides):
    base = {"region": REGION, "launch_templates": list(templates) or [template("shop-dev-a")]}
    base.update(overrides)
    return base


def ec2():
    return boto3.client("ec2", region_name=REGION)


def describe(name):
    (found,) = ec2().describe_launch_templates(LaunchTemplateNames=[name])["LaunchTemplates"]
    return found


def test_check_mode_creates_nothing(run_module, aws_moto):
    result = run_module(ec2_launch_templates, args(), check_mode=True, diff=True)
    assert result["changed"]
    assert result["launch_templates"][0]["id"] == ""
    assert result["diff"]["after"]["shop-dev-a"]["data"]["MetadataOptions"]["HttpTokens"] == (
        "required"
    )
    assert ec2().describe_launch_templates()["LaunchTemplates"] == []


def test_create_then_rerun_makes_no_write(run_module, aws_moto, api_calls):
    two = args(template("shop-dev-a"), template("shop-dev-b"), template("shop-dev-c"))
    result = run_module(ec2_launch_templates, two)
    assert result["changed"]
    first = result["launch_templates"][0]
    assert first["id"].startswith("lt-") and first["latest_version"] == 1
    assert first["default_version"] == 1
    found = describe("shop-dev-a")
    assert {t["Key"]: t["Value"] for t in found["Tags"]} == {"plinth:stack": "shop-dev"}
    version = ec2().describe_launch_template_versions(LaunchTemplateName="shop-dev-a")
    template_data = version["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert template_data["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 50
    assert template_data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1

    calls = api_calls("ec2")
    again = run_module(ec2_launch_templates, two, diff=True)
    assert not again["changed"], again["diff"]
    assert [t["changed"] for t in again["launch_templates"]] == [False] * 3
    assert calls == ["DescribeLaunchTemplates", "DescribeLaunchTemplateVersions"]


def test_one_template_reads_its_own_latest_version(run_module, aws_moto, api_calls):
    run_module(ec2_launch_templates, args())
    calls = api_calls("ec2")
    assert not run_module(ec2_launch_templates, args())["changed"]
    assert calls == ["DescribeLaunchTemplates", "DescribeLaunchTemplateVersions"]


def test_strings_are_converted_to_the_api_types(run_module, aws_moto):
    run_module(ec2_launch_templates, args())
    as_strings = template("shop-dev-a", data=data(size="50", hop_limit="1"))
    assert not run_module(ec2_launch_templates, args(as_strings))["changed"]


def test_changed_data_makes_a_new_default_version(run_module, aws_moto):
    run_module(ec2_launch_templates, args())
    bigger = args(template("shop-dev-a", data=data(size=100)))
    preview = run_module(ec2_launch_templates, bigger, check_mode=True)
    assert preview["changed"] and preview["launch_templates"][0]["latest_version"] == 2
    assert describe("shop-dev-a")["LatestVersionNumber"] == 1

    result = run_module(ec2_launch_templates, bigger)
    assert result["changed"]
    assert result["launch_templates"][0]["latest_version"] == 2
    found = describe("shop-dev-a")
    assert found["LatestVersionNumber"] == 2 and found["DefaultVersionNumber"] == 2
    assert not run_module(ec2_launch_templates, bigger)["changed"]


def test_tags_are_updated_and_purged(run_module, aws_moto):
    run_module(ec2_launch_templates, args())
    retagged = args(template("shop-dev-a", tags={"team": "ml"}))
    result = run_module(ec2_launch_templates, retagged)
    assert result["changed"] and result["launch_templates"][0]["latest_version"] == 1
    # moto's DescribeLaunchTemplates keeps answering the tags the template was created with, so
    # the tags are read back with DescribeTags (and a rerun is not tested here).
    tags = ec2().describe_tags(
        Filters=[{"Name": "resource-id", "Values": [result["launch_templates"][0]["id"]]}]
    )["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "ml"}


def test_absent_deletes_and_ignores_missing(run_module, aws_moto):
    run_module(ec2_launch_templates, args())
    absent = {"region": REGION, "absent": ["shop-dev-a", "shop-dev-gone"]}
    preview = run_module(ec2_launch_templates, absent, check_mode=True)
    assert preview["changed"] and preview["deleted"] == ["shop-dev-a"]
    assert describe("shop-dev-a")
    result = run_module(ec2_launch_templates, absent)
    assert result["changed"] and result["deleted"] == ["shop-dev-a"]
    assert ec2().describe_launch_templates()["LaunchTemplates"] == []
    assert not run_module(ec2_launch_templates, absent)["changed"]


@pytest.mark.parametrize(
    "bad, message",
    [
        (args(template("x"), template("x")), "Duplicate launch template names: x"),
        (args(absent=["shop-dev-a"]), "Both wanted and absent: shop-dev-a"),
        (args(template("x", data={"no_such_key": 1})), "x: data has no NoSuchKey"),
        (
            args(template("x", data={"metadata_options": {"http_put_response_hop_limit": "a"}})),
            "HttpPutResponseHopLimit must be a integer",
        ),
    ],
)
def test_bad_input_is_refused_before_any_call(run_module, aws_moto, api_calls, bad, message):
    calls = api_calls("ec2")
    result = run_module(ec2_launch_templates, bad)
    assert result["failed"] and message in result["msg"], result["msg"]
    assert calls == []
