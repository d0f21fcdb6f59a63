#!/usr/bin/env bash
# Negative compile test of the must-use results (run by tests/c/run.sh): tests/c/must_use.c
# must compile with -Werror when it uses WSS_write's result, and fail with an
# unused-result / nodiscard diagnostic when it ignores it, as C (gcc, clang) and as C++11
# and C++17 (g++, clang++; C++ also through lwip_ws.hpp).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="$root/tests/c/must_use.c"
inc=(-I"$root/include" -I"$root/ports/unix/include" -I"$root/.deps/lwip-2.1.3/src/include")
failures=0

# try LABEL EXPECT(pass|fail) COMPILER FLAGS...
try() {
    local label="$1" expect="$2" log
    shift 2
    log="$(mktemp)"
    if "$@" -Wall -Wextra -Werror "${inc[@]}" -c -o /dev/null "$src" >"$log" 2>&1; then
        if [[ $expect == pass ]]; then
            echo "ok   $label compiles"
        else
            echo "FAIL $label compiled, but the ignored result must be an error"
            failures=$((failures + 1))
        fi
    elif [[ $expect == fail ]] && grep -qE 'unused-result|nodiscard|unused result' "$log"; then
        echo "ok   $label: ignoring the result is an error ($(grep -m1 -oE 'ignoring return value[^[]*|unused-result|nodiscard' "$log" | head -c 70))"
    else
        echo "FAIL $label ($expect expected):"
        head -n 5 "$log"
        failures=$((failures + 1))
    fi
    rm -f "$log"
}

compilers=(gcc g++)
command -v clang >/dev/null && compilers+=(clang clang++)
for cc in "${compilers[@]}"; do
    case "$cc" in
    *++)
        for std in c++11 c++17; do
            try "$cc -std=$std" pass "$cc" -x c++ -std="$std"
            try "$cc -std=$std, WSS_write ignored" fail "$cc" -x c++ -std="$std" -DIGNORE_C
            try "$cc -std=$std, lwipws::WSS::write ignored" fail "$cc" -x c++ -std="$std" -DIGNORE_CPP
        done
        ;;
    *)
        try "$cc -std=c99" pass "$cc" -std=c99 -pedantic
        try "$cc -std=c99, WSS_write ignored" fail "$cc" -std=c99 -pedantic -DIGNORE_C
        ;;
    esac
done
if [[ $failures -ne 0 ]]; then
    echo "must_use: $failures check(s) failed"
    exit 1
fi
echo "must_use: all passed"
