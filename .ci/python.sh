#!/usr/bin/env bash
# The Python package (python/, issue 12), as a Python user gets it: a fresh venv, maturin, pytest
# and pytest-asyncio from PyPI, `python3 -m pip install ./python` exactly as the README says, then
# its tests. Also clippy on the extension crate, which the root's clippy does not cover.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import sysconfig, sys; sys.exit(not sysconfig.get_config_var("INCLUDEPY"))'; then
    apt-get update && apt-get install -y python3-venv python3-dev
fi

cargo clippy -p cancel-token-python --all-targets -- -D warnings

venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
# shellcheck disable=SC1091
source "$venv/bin/activate"
python3 -m pip install --quiet maturin pytest pytest-asyncio
python3 -m pip install ./python
python3 -c 'import cancel_token, sys; print("cancel_token from", cancel_token.__file__, "on", sys.version.split()[0])'

status=0
python3 -m pytest python/tests -q || status=$?
if [ "$status" -eq 5 ]; then
    echo "python.sh: pytest collected no tests: python/tests/ must not be empty" >&2
    exit 1
fi
exit "$status"
