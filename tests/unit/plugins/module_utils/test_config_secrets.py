"""Keys that may hold a secret (Spec.sensitive): messages name their key path, never their value,
and ``secret_values`` finds every string a module must mask."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.plinth.platform.plugins.module_utils.config import (
    HIDDEN,
    secret_values,
    validate_platform,
)
from test_config import valid
from test_config_apps import app, config_with

TOKEN = "S3CR3T-INTEGRATION-KEY"
HOOK = f"https://events.example.com/v2/integration/{TOKEN}/enqueue"
# Longer than the 80 characters after which a message shortens a value: nothing of it may show.
LONG = f"http://events.example.com/v2/integration/{TOKEN}/{'x' * 80}"
PROMETHEUS = f"https://grafana:{TOKEN}@prometheus.example.com"


def topics(https: Any) -> dict[str, Any]:
    return valid(monitoring={"topics": {"critical": {"https": https}}})


def analysis(value: Any) -> dict[str, Any]:
    return config_with(app(blue_green={"enabled": True, "pre_analysis": value}))


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        (topics([LONG]), "platform.monitoring.topics.critical.https[0]", "is not an https:// URL"),
        (
            topics([HOOK, HOOK]),
            "platform.monitoring.topics.critical.https[1]",
            "is a duplicate of platform.monitoring.topics.critical.https[0]",
        ),
        (topics(HOOK), "platform.monitoring.topics.critical.https", "is a string, expected a list"),
        (
            analysis(PROMETHEUS),
            "platform.apps[0].blue_green.pre_analysis",
            "is a string, expected a mapping",
        ),
    ],
)
def test_a_secret_is_never_quoted_but_its_key_path_is(raw, path, fragment):
    _config, errors = validate_platform(raw)
    assert errors == [f"{path}: {HIDDEN} {fragment}"]
    assert TOKEN not in "\n".join(errors)


def test_a_number_given_for_a_secret_gets_no_quoting_hint():
    _config, errors = validate_platform(topics([12345]))
    assert errors == [
        f"platform.monitoring.topics.critical.https[0]: {HIDDEN} is an integer, expected a string"
    ]


def test_values_beside_a_secret_are_still_quoted():
    _config, errors = validate_platform(
        valid(monitoring={"topics": {"critical": {"email": ["oncall"], "https": [HOOK]}}})
    )
    assert errors == [
        "platform.monitoring.topics.critical.email[0]: 'oncall' is not an email address"
    ]


def test_secret_values_lists_every_string_below_a_sensitive_key():
    prometheus = {"url": PROMETHEUS, "query": "up", "min_value": 1}
    raw = analysis({"prometheus": prometheus, "http_checks": []})
    raw["monitoring"] = {"topics": {"critical": {"https": [HOOK, LONG]}, "info": {"https": []}}}
    assert secret_values(raw) == {PROMETHEUS, "up", HOOK, LONG}
    # Invalid configs too: a module masks them in its failure output.
    assert secret_values(topics(HOOK)) == {HOOK}
    assert secret_values(valid()) == set()
    assert secret_values(None) == set()
