# Shared by tests/interop/run.sh and browser_check.sh (source it after setting $root and
# cd-ing there). Builds, picks ports, starts and stops build/examples/chat.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
py="$root/.venv/bin/python"
server_pid=""

# build_chat [SANITIZE]: setup, the staticlib, host lwIP and the example (SANITIZE=1:
# also the ASan/UBSan variants).
build_chat() {
    "$root/scripts/setup"
    cargo build --release
    make -s -j2 -C ports/unix
    make -s -C examples
    if [[ ${1:-} == SANITIZE ]]; then
        make -s -j2 -C ports/unix SANITIZE=1
        make -s -C examples SANITIZE=1
    fi
}

free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_chat LOG BINARY ARGS...: start the server in the background and wait (up to 5 s)
# for its "ready" line; sets $server_pid. Returns 1 when it did not come up.
start_chat() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 50); do
        grep -q '^ready ' "$log" && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$log" >&2
    return 1
}

stop_chat() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
