#!/usr/bin/env bash
# Fuzzes the token op language for a fixed time, then runs reduced test binaries under valgrind.
#
# 1. Fuzz: fuzz/fuzz_targets/ops.rs (cargo-fuzz, libFuzzer) drives the property tests' op language
#    (tests/model/) from bytes, against the crate and the reference model, with AddressSanitizer.
#    There is no nightly toolchain: RUSTC_BOOTSTRAP=1 lets the stable compiler accept the
#    unstable flags cargo-fuzz passes (-Zsanitizer=address and friends).
# 2. Valgrind: the depth test (at a reduced depth) and the model property test (fewer cases) run
#    under memcheck, failing on any memory error or leak.
#
# Installs cargo-fuzz and valgrind when missing, so it works on a fresh machine.
# Environment: FUZZ_SECONDS (default 30), VALGRIND_DEPTH (default 10000),
# VALGRIND_PROPTEST_CASES (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
VALGRIND_DEPTH=${VALGRIND_DEPTH:-10000}
VALGRIND_PROPTEST_CASES=${VALGRIND_PROPTEST_CASES:-16}
started=$SECONDS

step() { echo "== fuzz-and-valgrind: $* ($((SECONDS - started)) s)"; }

# --- 1. fuzz ---------------------------------------------------------------------------------
if ! cargo fuzz --version >/dev/null 2>&1; then
    step "installing cargo-fuzz"
    cargo install cargo-fuzz --locked --version 0.13.2
fi

step "fuzzing target ops for ${FUZZ_SECONDS} s"
fuzz_log=$(mktemp)
if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run ops -- \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -print_final_stats=1) >"$fuzz_log" 2>&1; then
    # libFuzzer prints the failing input's path (fuzz/artifacts/ops/...) and how to reproduce it.
    tail -n 80 "$fuzz_log"
    echo "fuzz-and-valgrind: the fuzzer found a failure (input kept in fuzz/artifacts/ops/)" >&2
    exit 1
fi
grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))' "$fuzz_log"
rm -f "$fuzz_log"

# --- 2. valgrind -----------------------------------------------------------------------------
if ! command -v valgrind >/dev/null 2>&1; then
    step "installing valgrind"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind
fi

# The path of the test binary `cargo test --test NAME` builds.
test_binary() {
    cargo test --test "$1" --no-run --message-format=json \
        | grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d '"' -f 4
}

# libtest's main thread keeps its `Thread` handle in a thread-local until exit, behind a pointer
# valgrind cannot see the start of: a "possibly lost" block that is the harness's, not ours.
suppressions=$(mktemp)
trap 'rm -f "$suppressions"' EXIT
cat >"$suppressions" <<'EOF'
{
   libtest-main-thread-handle
   Memcheck:Leak
   match-leak-kinds: possible
   fun:malloc
   ...
   fun:*init_current*
}
EOF

under_valgrind() {
    valgrind -q --error-exitcode=1 --leak-check=full --suppressions="$suppressions" "$@"
}

step "building the test binaries for valgrind"
depth_bin=$(test_binary depth)
model_bin=$(test_binary model)

step "valgrind: tests/depth.rs at depth ${VALGRIND_DEPTH}"
CANCEL_TOKEN_TEST_DEPTH=$VALGRIND_DEPTH under_valgrind "$depth_bin"

step "valgrind: tests/model.rs with ${VALGRIND_PROPTEST_CASES} cases"
PROPTEST_CASES=$VALGRIND_PROPTEST_CASES under_valgrind "$model_bin"

step "done"
