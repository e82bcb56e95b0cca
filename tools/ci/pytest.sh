#!/usr/bin/env bash
# Run pytest on the given paths; "no tests collected" (exit 5) is a failure, never a pass.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests in: $*" >&2
  exit 1
fi
exit "$rc"
