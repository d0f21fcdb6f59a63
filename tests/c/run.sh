#!/usr/bin/env bash
# Builds and runs the C API tests (api_c99, api_cpp11), plain and with ASan/UBSan:
# the Rust staticlib, the host lwIP (ports/unix), then tests/c/Makefile. Each program
# ends with "N passed, N failed"; this exits non-zero when any of them failed. First
# two checks that need no build: every C function has a C++ wrapper (hpp_coverage.sh),
# and an ignored WSS_write result is a compile error with -Werror (must_use.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"

"$root/scripts/setup"
failures=0
"$root/tests/c/hpp_coverage.sh" || failures=$((failures + 1))
"$root/tests/c/must_use.sh" || failures=$((failures + 1))
cargo build --release
make -s -j2 -C ports/unix
make -s -j2 -C ports/unix SANITIZE=1
make -s -C tests/c
make -s -C tests/c SANITIZE=1

for prog in build/tests-c/api_c99 build/tests-c/api_cpp11 \
    build/tests-c-sanitize/api_c99 build/tests-c-sanitize/api_cpp11; do
    echo "== $prog"
    log="$(mktemp)"
    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
        timeout 300 "$prog" >"$log" 2>&1; then
        tail -n 1 "$log"
    else
        grep -v '^ok ' "$log" || true
        echo "FAILED: $prog"
        failures=$((failures + 1))
    fi
    rm -f "$log"
done
if [[ $failures -ne 0 ]]; then
    echo "tests/c: $failures program(s) failed"
    exit 1
fi
echo "tests/c: all passed"
