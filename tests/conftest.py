"""Shared pytest setup: make ``ansible_collections.plinth.platform`` importable from this checkout
and provide the embedded AWS fixtures (``emulator``, ``aws``, ``emulator_latency``...)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "collections"))

pytest_plugins = ["tests.support.emulator_fixture"]
