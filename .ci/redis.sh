#!/usr/bin/env bash
# cancel-token-redis (issue 11) against a real redis-server: Debian's package, installed if
# missing. Each test starts its own server on a free port of 127.0.0.1 (no persistence) and
# kills it at the end; none is left running by this script.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
    apt-get update && apt-get install -y redis-server
    # The package may start a system server on 6379: the tests do not use it.
    service redis-server stop >/dev/null 2>&1 || true
fi
redis-server --version

# The root's clippy and doc steps cover the root package only.
cargo clippy -p cancel-token-redis --all-targets --all-features -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p cancel-token-redis --all-features
cargo test -p cancel-token-redis --features redis-tests
# tests/leak.rs: a million ids watched and dropped (bounded memory, R5); release mode, where it
# takes about 15 s (over a minute in a debug build).
cargo test --release -p cancel-token-redis --features redis-leak-test --test leak
