#!/usr/bin/env bash
# Every static gate: yamllint, ansible-lint (production profile), ruff and black.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
echo "== yamllint" && yamllint -s .
echo "== ansible-lint" && ansible-lint --profile production
echo "== ruff" && ruff check .
echo "== black" && black --check --quiet .
echo "lint: ok"
