#!/usr/bin/env bash
# Every molecule scenario, each on its own emulator port so they never share state.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
port=5556
for scenario in molecule/*/; do
  name=$(basename "$scenario")
  echo "== molecule test -s $name (emulator port $port)"
  PLINTH_MOLECULE_PORT=$port molecule test -s "$name"
  port=$((port + 1))
done
