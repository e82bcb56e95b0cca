#!/usr/bin/env bash
# ansible-test sanity on the collection as users get it: build the artifact, install it into a
# temporary ansible_collections tree, run sanity there. Extra args go to ansible-test.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv"
# ansible-test bootstraps pip in its venvs with a script from a host we cannot reach.
pip_version=$(grep -oP "pip='\K[0-9.]+" "$venv"/lib/python3.11/site-packages/ansible_test/_internal/python_requirements.py)
mkdir -p ~/.ansible/test/cache
cp "$root/tools/ci/get_pip_offline.py" ~/.ansible/test/cache/get_pip_${pip_version//./_}.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/ansible-galaxy" collection build "$root" --output-path "$work" --force >/dev/null
"$venv/bin/ansible-galaxy" collection install "$work"/plinth-platform-*.tar.gz \
  -p "$work/tree" --no-deps --force >/dev/null
cd "$work/tree/ansible_collections/plinth/platform"
# Unit tests are not shipped in the artifact but are part of what sanity should see.
mkdir -p tests && cp -r "$root/tests/unit" tests/
# ansible-test finds dependencies only beside the collection: link the bundle's namespaces in.
for ns in amazon community kubernetes ansible; do
  ln -s "$venv/lib/python3.11/site-packages/ansible_collections/$ns" "$work/tree/ansible_collections/$ns"
done
git init -q . && git add -A && git -c user.email=ci@plinth -c user.name=ci commit -qm sanity
"$venv/bin/ansible-test" sanity --python 3.11 --venv --color no "$@"
