#!/usr/bin/env bash
# cancel-token-redis (issue 11) against a real redis-server: Debian's package, installed if
# missing. Each test starts its own server on a free port of 127.0.0.1 (no persistence) and
# kills it at the end; none is left running by this script.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/install-redis.sh

# The root's clippy and doc steps cover the root package only.
cargo clippy -p cancel-token-redis --all-targets --all-features -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p cancel-token-redis --all-features
cargo test -p cancel-token-redis --features redis-tests
# The root's `cargo bench --no-run` builds the root package's benches only.
cargo bench -p cancel-token-redis --no-run
# tests/leak.rs: a million ids watched and dropped (bounded memory, R5); release mode, where it
# takes about 15 s (over a minute in a debug build).
cargo test --release -p cancel-token-redis --features redis-leak-test --test leak
