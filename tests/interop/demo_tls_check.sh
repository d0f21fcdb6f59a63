#!/usr/bin/env bash
# The demo's TLS port: runs scripts/demo with DEMO_PORT and DEMO_TLS_PORT on free ports
# and checks it from outside (tests/interop/demo_tls_peer.py): the printed certificate
# fingerprint is the generated certificate's; Python's ssl, verifying against that
# certificate, gets the https page (localhost and 127.0.0.1) and echoes text and binary
# over wss://; the plain port still serves http:// and ws://; headless Chromium, trusting
# the certificate by its SPKI hash only, loads the https page, whose WebSocket goes out
# as wss:// (skipped without chromium). Then scripts/demo with invalid DEMO_TLS_PORT
# values, and with a busy one, must fail with one error line and a non-zero status.
#
#   tests/interop/demo_tls_check.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
. "$root/tests/interop/lib.sh"
"$root/scripts/setup"

work="$(mktemp -d)"
demo_pid=""
cleanup() {
    if [[ -n $demo_pid ]]; then
        kill "$demo_pid" 2>/dev/null || true
        wait "$demo_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
result() { # result OK WHAT
    if [[ $1 == 0 ]]; then
        echo "PASS $2"
    else
        echo "FAIL $2"
        failures=$((failures + 1))
    fi
}

plain=$(free_port)
tls=$(free_port)
while [[ $tls == "$plain" ]]; do tls=$(free_port); done

# scripts/demo builds first (a few minutes on a cold tree), then execs the server: the PID
# stays the server's.
DEMO_PORT=$plain DEMO_TLS_PORT=$tls scripts/demo --seconds 900 >"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!
for _ in $(seq 9000); do
    grep -q '^ready https://' "$work/demo.out" && break
    kill -0 "$demo_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^ready https://' "$work/demo.out"; then
    cat "$work/demo.out" "$work/demo.err" >&2
    echo "FAIL scripts/demo did not come up"
    exit 1
fi
cat "$work/demo.out"

grep -q "https://127.0.0.1:$tls/" "$work/demo.out"
result $? "the https URL is printed"
grep -q "http://127.0.0.1:$plain/" "$work/demo.out"
result $? "the http URL is printed"
grep -qi "certificate" "$work/demo.out"
result $? "the demo says it made a certificate"
printed="$(sed -n 's/.*SHA-256 fingerprint \([0-9A-F:]*\).*/\1/p' "$work/demo.out")"
[[ -n $printed ]]
result $? "a SHA-256 fingerprint is printed"
openssl x509 -in build/demo-tls/cert.pem -noout -text >"$work/cert.txt"
grep -q "ASN1 OID: prime256v1" "$work/cert.txt" && grep -q "DNS:localhost, IP Address:127.0.0.1" "$work/cert.txt"
result $? "the certificate is EC P-256 for localhost and 127.0.0.1"

browser="$(command -v chromium || command -v chromium-browser || true)"
set +e
timeout 300 "$py" tests/interop/demo_tls_peer.py "$plain" "$tls" build/demo-tls/cert.pem \
    "${printed:-none}" ${browser:+--chromium "$browser"}
result $? "the peers' checks (above)"

# A busy DEMO_TLS_PORT (the running demo's) is refused, not moved; the demo still runs.
other=$(free_port)
DEMO_PORT=$other DEMO_TLS_PORT=$tls timeout 600 scripts/demo --seconds 1 >"$work/busy.out" 2>"$work/busy.err"
rc=$?
[[ $rc -ne 0 && ! -s $work/busy.out ]] &&
    [[ $(grep -c '^demo:' "$work/busy.err") -eq 1 ]] &&
    tail -n1 "$work/busy.err" | grep -q "^demo: DEMO_TLS_PORT $tls is in use"
result $? "busy DEMO_TLS_PORT: one error line, exit status $rc"
set -e

kill "$demo_pid"
wait "$demo_pid"
rc=$?
demo_pid=""
result "$rc" "the demo stopped cleanly on SIGTERM"
grep -q "^chat: .* accepted" "$work/demo.out"
result $? "the demo printed its summary"

# Invalid values: one line on stderr, nothing else, a non-zero status, before any build.
for value in abc 0 65536 -1 "8443 1" "" 99999999; do
    set +e
    DEMO_TLS_PORT=$value timeout 60 scripts/demo --seconds 1 >"$work/bad.out" 2>"$work/bad.err"
    rc=$?
    set -e
    [[ $rc -ne 0 && ! -s $work/bad.out && $(wc -l <"$work/bad.err") -eq 1 ]] &&
        grep -q "^demo: DEMO_TLS_PORT must be a TCP port number" "$work/bad.err"
    result $? "DEMO_TLS_PORT='$value': one error line, exit status $rc"
done

if [[ $failures -ne 0 ]]; then
    cat "$work/demo.err" >&2
    echo "demo TLS check: $failures failed"
    exit 1
fi
echo "demo TLS check: all passed"
