#!/usr/bin/env bash
# Runs the seed's own test suite (asyncio-cancel-token 0.2.0, 20 tests) against the installed
# `cancel_token`, adapted only where Python 3.10+ and pytest-asyncio 1.x removed what it used
# (see seed_tests_adapt.py). The seed's tests are not copied into this repository, and its sdist
# on PyPI ships without them, so they are read from a checkout of its repository:
#
#   bash python/seed_tests.sh [SEED_CHECKOUT]   # default: clone github.com/ethereum/asyncio-cancel-token
#
# Uses the current `python3` (a venv with this package, pytest and pytest-asyncio installed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

seed="${1:-}"
if [ -z "$seed" ]; then
    seed="$work/seed"
    git clone --quiet --depth 1 --branch v0.2.0 https://github.com/ethereum/asyncio-cancel-token "$seed"
fi
if [ -d "$seed/.git" ] && git -C "$seed" rev-parse -q --verify v0.2.0 >/dev/null; then
    # A full checkout: take the tests as tagged 0.2.0, whatever is checked out.
    mkdir -p "$work/src"
    for f in test_cancel_token.py test_import.py; do
        git -C "$seed" show "v0.2.0:tests/$f" >"$work/src/$f"
    done
elif [ -d "$seed/tests" ]; then
    mkdir -p "$work/src"
    cp "$seed"/tests/test_*.py "$work/src/"
else
    echo "seed_tests.sh: no tests/ in $seed" >&2
    exit 2
fi
python3 "$here/seed_tests_adapt.py" "$work/src" "$work/tests"
cd "$work/tests"
# Outside the repository, so `cancel_token` is the installed package.
python3 -m pytest -q -p no:cacheprovider -o asyncio_mode=strict -o asyncio_default_fixture_loop_scope=function .
