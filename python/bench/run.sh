#!/usr/bin/env bash
# The benchmark, side by side with the seed: `bash python/bench/run.sh` from the repo root.
# Two fresh venvs under target/python-bench/: this package (pip install ./python) and the seed
# (asyncio-cancel-token==0.2.0 from PyPI, run on this Python through bench/seed_shim.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
venvs=target/python-bench
python3 -m venv --clear "$venvs/ours"
python3 -m venv --clear "$venvs/seed"
"$venvs/ours/bin/python" -m pip install -q ./python
"$venvs/seed/bin/python" -m pip install -q asyncio-cancel-token==0.2.0
"$venvs/ours/bin/python" python/bench/bench.py --against "$venvs/seed/bin/python"
