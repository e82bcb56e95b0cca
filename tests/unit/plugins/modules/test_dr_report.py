"""dr_report writes the JSON report and the summary in one run, and nothing in check mode."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from ansible_collections.plinth.platform.plugins.modules import dr_report

REPORT = {"action": "failover", "steps": [{"step": "prechecks", "seconds": 1.5}]}


def test_writes_both_files_in_a_new_directory(tmp_path: Path, run_module: Any) -> None:
    base = tmp_path / "reports" / "dr-failover-x"
    args = {"path": str(base), "report": REPORT, "summary": "# DR failover\n"}
    result = run_module(dr_report, args)
    assert not result["changed"] and result["written"]
    assert result["files"] == [f"{base}.json", f"{base}.md"]
    assert json.loads(Path(f"{base}.json").read_text()) == REPORT
    assert Path(f"{base}.md").read_text() == "# DR failover\n"
    assert stat.S_IMODE(Path(f"{base}.json").stat().st_mode) == 0o640
    assert stat.S_IMODE(base.parent.stat().st_mode) & 0o027 == 0
    assert [p.name for p in base.parent.iterdir() if p.name.startswith(".")] == []


def test_check_mode_writes_nothing(tmp_path: Path, run_module: Any) -> None:
    base = tmp_path / "reports" / "dr-drill-x"
    args = {"path": str(base), "report": REPORT, "summary": "s"}
    result = run_module(dr_report, args, check_mode=True)
    assert not result["changed"] and not result["written"]
    assert not base.parent.exists()


def test_unwritable_directory_fails(tmp_path: Path, run_module: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_module(dr_report, {"path": str(blocker / "r"), "report": {}, "summary": ""})
    assert result["failed"] and "Failed to write the report" in result["msg"]
