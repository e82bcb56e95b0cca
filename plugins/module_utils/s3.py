# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bucket access shared by the modules that manage one configuration of an S3 bucket
(``s3_bucket_lifecycle``, ``s3_bucket_replication``): read it (a missing bucket is no
configuration in check mode, where an earlier task may only be about to create it), write or
delete it under check mode, and report the result with its diff.
"""

from __future__ import annotations

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def s3_client(module: Any, region: str | None = None) -> Any:
    """An S3 client with retries, of ``region`` (default: the module's)."""
    extra = {"region": region} if region else {}
    return module.client("s3", retry_decorator=AWSRetry.jittered_backoff(), **extra)


def by_id(rule: dict[str, Any]) -> str:
    return rule["id"]


class BucketConfigurationManager:
    """A subclass names the configuration (``what``, ``result_key``, ``missing_code``: the error
    code of a bucket without one) and implements ``get`` (the raw response), ``parse`` (the
    normalised value, falsy when empty), ``put``, ``delete``, ``empty`` and ``ensure_present``
    (the value after the module ran, written with ``write``).
    """

    what = ""
    result_key = ""
    missing_code = ""

    def __init__(self, module: Any, name: str | None = None, client: Any = None) -> None:
        """``name`` and ``client`` default to the module's ``name`` and a client of the module's
        region; a module that handles several buckets passes each bucket's (one client per
        region)."""
        self.module = module
        self.params = module.params
        self.name: str = module.params["name"] if name is None else name
        self.client = client or s3_client(module)
        self.changed = False

    def get(self) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, response: dict[str, Any]) -> Any:
        raise NotImplementedError

    def put(self, desired: Any) -> None:
        raise NotImplementedError

    def delete(self) -> None:
        raise NotImplementedError

    def empty(self) -> Any:
        raise NotImplementedError

    def ensure_present(self, current: Any) -> Any:
        raise NotImplementedError

    def diff_view(self, value: Any) -> Any:
        return value

    def read(self) -> Any:
        try:
            response = self.get()
        except is_boto3_error_code(self.missing_code):
            return self.empty()
        except is_boto3_error_code("NoSuchBucket") as e:
            # In check mode the bucket may only be about to be created by an earlier task.
            if self.module.check_mode:
                return self.empty()
            self.module.fail_json_aws(e, msg=f"Bucket {self.name} does not exist")
        except (
            BotoCoreError,
            ClientError,
        ) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to get the {self.what} of bucket {self.name}")
        return self.parse(response)

    def write(self, desired: Any) -> Any:
        self.changed = True
        if not self.module.check_mode:
            try:
                self.put(desired)
            except (BotoCoreError, ClientError) as e:
                self.module.fail_json_aws(
                    e, msg=f"Failed to set the {self.what} of bucket {self.name}"
                )
        return desired

    def remove(self, current: Any) -> Any:
        if not current:
            return self.empty()
        self.changed = True
        if not self.module.check_mode:
            try:
                self.delete()
            except (BotoCoreError, ClientError) as e:
                self.module.fail_json_aws(
                    e, msg=f"Failed to delete the {self.what} of bucket {self.name}"
                )
        return self.empty()

    def exit(self, current: Any, after: Any) -> None:
        result: dict[str, Any] = {"changed": self.changed, self.result_key: after}
        if self.module._diff:
            result["diff"] = {"before": self.diff_view(current), "after": self.diff_view(after)}
        self.module.exit_json(**result)

    def apply(self) -> None:
        """Read, converge to ``state``, exit with the result."""
        current = self.read()
        if self.params["state"] == "present":
            after = self.ensure_present(current)
        else:
            after = self.remove(current)
        self.exit(current, after)
