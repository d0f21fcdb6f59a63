#!/usr/bin/env bash
# Every function declared in include/lwip_ws.h must be called by a wrapper in
# include/lwip_ws.hpp (as ::NAME( ): a function added to the C API later fails this
# until the C++ API covers it. Run by tests/c/run.sh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The declarations sit between `extern "C" {` and its closing line; each starts at the
# beginning of a line (optionally after LWIP_WS_MUST_USE) with its return type.
mapfile -t names < <(sed -n '/^extern "C" {/,/^}  \/\/ extern "C"/p' "$root/include/lwip_ws.h" |
    grep -E '^(LWIP_WS_MUST_USE ?)?[A-Za-z]' | grep -v '^LWIP_WS_MUST_USE$' |
    grep -oE '[A-Za-z_][A-Za-z0-9_]*\(' | head -n 1000 | tr -d '(' | sort -u)
if [[ ${#names[@]} -lt 40 ]]; then
    echo "hpp_coverage: found only ${#names[@]} functions in lwip_ws.h: extraction broken"
    exit 1
fi
missing=()
for name in "${names[@]}"; do
    if ! grep -qF "::$name(" "$root/include/lwip_ws.hpp"; then
        missing+=("$name")
    fi
done
if [[ ${#missing[@]} -ne 0 ]]; then
    echo "hpp_coverage: not wrapped in include/lwip_ws.hpp: ${missing[*]}"
    exit 1
fi
echo "hpp_coverage: all ${#names[@]} functions of lwip_ws.h are wrapped in lwip_ws.hpp"
