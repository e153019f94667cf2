#!/usr/bin/env bash
# Watch mode: memory stays flat, probes per second, and netpeel's CPU per probe next to curl's.
#
#   bench/watch.sh             # writes bench/watch-results.md
#
# Against the test kit's `testserver` on 127.0.0.1 only (http-ok and https-ok), release builds:
#   - peak RSS (/usr/bin/time) of `--watch -i 0` after 1,000 and after 10,000 probes over http,
#     and the probes per second of those runs (back to back);
#   - CPU (user + system) per probe of `--watch -c N -i 0` over https, and of curl run N times
#     in a shell loop against the same server (each curl a new process, as each probe is a new
#     connection and handshake).
# Every run has a deadline (`timeout`); the servers exit after SERVER_SECONDS.
set -euo pipefail

SERVER_SECONDS=${SERVER_SECONDS:-900}
SMALL=${SMALL:-1000}
LARGE=${LARGE:-10000}
HTTPS_PROBES=${HTTPS_PROBES:-500}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT="$ROOT/bench/watch-results.md"
NETPEEL=${NETPEEL:-"$ROOT/target/release/netpeel"}
TESTSERVER=${TESTSERVER:-"$ROOT/target/release/testserver"}

log() { printf 'watch bench: %s\n' "$*" >&2; }

[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time; }
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
[[ -x $NETPEEL ]] || cargo build --release --bin netpeel
[[ -x $TESTSERVER ]] || cargo build --release -p netpeel-testkit --bin testserver

TMP=$(mktemp -d "${TMPDIR:-/tmp}/netpeel-watch.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start a testserver scenario in the background (its pid kept for the cleanup: not in a
# subshell) and wait for its `READY <addr>` line; `server_addr NAME` prints the address.
start_server() {
    local name=$1
    shift
    "$TESTSERVER" "$name" --seconds "$SERVER_SECONDS" "$@" >"$TMP/$name.ready" 2>/dev/null &
    PIDS+=($!)
    for _ in $(seq 100); do [[ -s $TMP/$name.ready ]] && break; sleep 0.1; done
}
server_addr() { awk '/^READY/ { print $2 }' "$TMP/$1.ready"; }

# Run a command under /usr/bin/time; prints "peak_kib elapsed_s user_s sys_s".
measure() {
    /usr/bin/time -f '%M %e %U %S' -o "$TMP/time" timeout 600 \
        env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE -u SSL_CERT_FILE -u http_proxy \
        -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY "$@" >/dev/null 2>&1 || true
    tail -n1 "$TMP/time"
}

start_server http-ok
start_server https-ok --ca-out "$TMP/ca.pem"
http_addr=$(server_addr http-ok)
https_addr=$(server_addr https-ok)
[[ -n $http_addr && -n $https_addr ]] || { log "testserver did not start"; exit 1; }
https_port=${https_addr##*:}

log "$SMALL probes over http"
read -r small_kib small_s _ _ < <(measure "$NETPEEL" --watch -c "$SMALL" -i 0 --json "http://$http_addr/")
log "$LARGE probes over http"
read -r large_kib large_s _ _ < <(measure "$NETPEEL" --watch -c "$LARGE" -i 0 --json "http://$http_addr/")

https_url="https://127.0.0.1:$https_port/"
log "$HTTPS_PROBES probes over https"
read -r _ np_s np_user np_sys < <(measure "$NETPEEL" --watch -c "$HTTPS_PROBES" -i 0 --json \
    --cacert "$TMP/ca.pem" "$https_url")
log "curl $HTTPS_PROBES times over https"
read -r _ curl_s curl_user curl_sys < <(measure bash -c \
    'for _ in $(seq "$1"); do curl -s -o /dev/null --max-time 10 --cacert "$2" "$3"; done' \
    _ "$HTTPS_PROBES" "$TMP/ca.pem" "$https_url")

awk -v s="$small_kib" -v l="$large_kib" -v ss="$small_s" -v ls="$large_s" \
    -v n1="$SMALL" -v n2="$LARGE" -v h="$HTTPS_PROBES" \
    -v nu="$np_user" -v ns="$np_sys" -v nt="$np_s" -v cu="$curl_user" -v cs="$curl_sys" -v ct="$curl_s" '
function mib(k) { return sprintf("%.1f MiB", k / 1024) }
function rate(n, t) { return t > 0 ? sprintf("%.0f", n / t) : "-" }
BEGIN {
    growth = s > 0 ? (l - s) * 100 / s : 0
    np_ms = (nu + ns) * 1000 / h
    curl_ms = (cu + cs) * 1000 / h
    printf "| measure | value |\n|---|---|\n"
    printf "| peak RSS after %d probes (http, `-i 0`) | %s |\n", n1, mib(s)
    printf "| peak RSS after %d probes (http, `-i 0`) | %s (%+.1f %%) |\n", n2, mib(l), growth
    printf "| probes per second, http, back to back | %s (%d in %.1f s) |\n", rate(n2, ls), n2, ls
    printf "| probes per second, https, back to back | %s (%d in %.1f s) |\n", rate(h, nt), h, nt
    printf "| netpeel CPU per https probe (user + sys) | %.2f ms |\n", np_ms
    printf "| curl CPU per https request, in a loop (user + sys) | %.2f ms |\n", curl_ms
    printf "| netpeel / curl CPU | %s |\n", (curl_ms > 0 ? sprintf("%.2f", np_ms / curl_ms) : "-")
}' >"$OUT"
printf '\nMachine: %s cores, %s; release builds; server: testserver (tests/testkit) on 127.0.0.1.\n' \
    "$(nproc)" "$(uname -sr)" >>"$OUT"
cat "$OUT"
