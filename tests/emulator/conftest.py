"""Make the emulator fixtures available to these tests even before tests/conftest.py lists the
plugin in ``pytest_plugins`` (registering it twice would start two session servers)."""

import pytest

PLUGIN = "tests.support.emulator_fixture"


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)
