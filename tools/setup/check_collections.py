"""Check that the collections installed with the pip ``ansible`` bundle satisfy requirements.yml.

Galaxy is not reachable from our machines, so the bundle is the source of collections; this makes
an incompatible bundle fail setup loudly instead of failing a playbook later.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from ansible.utils.version import SemanticVersion


def _satisfies(version: str, spec: str) -> bool:
    have = SemanticVersion(version)
    for clause in spec.split(","):
        clause = clause.strip()
        for op in (">=", "<=", "==", "!=", ">", "<"):
            if clause.startswith(op):
                want = SemanticVersion(clause[len(op) :].strip())
                ok = {
                    ">=": have >= want,
                    "<=": have <= want,
                    "==": have == want,
                    "!=": have != want,
                    ">": have > want,
                    "<": have < want,
                }[op]
                if not ok:
                    return False
                break
        else:
            if have != SemanticVersion(clause):
                return False
    return True


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    wanted = yaml.safe_load((root / "requirements.yml").read_text())["collections"]
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-galaxy"),
            "collection",
            "list",
            "--format",
            "json",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
    ).stdout
    installed: dict[str, str] = {}
    for collections in json.loads(out).values():
        for name, info in collections.items():
            installed.setdefault(name, info["version"])
    failures = []
    for item in wanted:
        have = installed.get(item["name"])
        if have is None:
            failures.append(f"{item['name']}: not installed")
        elif not _satisfies(have, item["version"]):
            failures.append(f"{item['name']}: {have} does not satisfy {item['version']}")
        else:
            print(f"ok  {item['name']} {have} ({item['version']})")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
