#!/usr/bin/env bash
# redis-server from Debian's packages, installed if missing (idempotent). Used by .ci/redis.sh and,
# before the broker tests, by .ci/run: the consumer's `--cancel-redis` tests (tests/consumer.rs)
# start their own redis-server on a free port of 127.0.0.1, as cancel-token-redis's tests do.
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
    apt-get update && apt-get install -y redis-server
    # The package may start a system server on 6379: the tests do not use it.
    service redis-server stop >/dev/null 2>&1 || true
fi
redis-server --version
