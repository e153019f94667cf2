#!/usr/bin/env bash
# Peak memory of netpeel against hostile servers and flags, on loopback only.
#
#   bench/memory.sh            # writes bench/memory-results.md
#
# Each case runs the release binary under /usr/bin/time (peak RSS) with a deadline (--max-time
# and `timeout`), against a server this script starts on 127.0.0.1 (Python's standard library):
#   endless-body   a 200 whose body never ends, with the largest --max-body (16 MiB)
#   redirects      a redirect to a new, unique URL on every request, with --max-redirects 100
#   addresses      --all-addresses with 6,000 pinned loopback addresses (nothing listens)
#   ca-dev-zero    --cacert /dev/zero (refused at once)
# Everything is bounded: the servers exit after SERVER_SECONDS, every run has a timeout.
set -euo pipefail

SERVER_SECONDS=${SERVER_SECONDS:-120}
RUN_SECONDS=${RUN_SECONDS:-10}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT="$ROOT/bench/memory-results.md"
NETPEEL=${NETPEEL:-"$ROOT/target/release/netpeel"}

log() { printf 'memory: %s\n' "$*" >&2; }

[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time; }
[[ -x $NETPEEL ]] || cargo build --release --bin netpeel

TMP=$(mktemp -d "${TMPDIR:-/tmp}/netpeel-memory.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A loopback server: endless body or endless redirects. Prints its port on stdout.
cat >"$TMP/server.py" <<'PY'
import socket, sys, threading, time
kind, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
deadline = time.monotonic() + seconds
counter = [0]

def serve(c):
    try:
        c.recv(65536)
        if kind == "endless-body":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
            chunk = b"x" * 65536
            while time.monotonic() < deadline:
                c.sendall(chunk)
        else:
            counter[0] += 1
            c.sendall(b"HTTP/1.1 302 Found\r\nLocation: /hop/%d/%s\r\nContent-Length: 0\r\n\r\n"
                      % (counter[0], b"p" * 2000))
    except OSError:
        pass
    finally:
        c.close()

s.settimeout(1)
while time.monotonic() < deadline:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

start_server() {
    python3 "$TMP/server.py" "$1" "$SERVER_SECONDS" >"$TMP/$1.port" &
    PIDS+=($!)
    for _ in $(seq 50); do [[ -s $TMP/$1.port ]] && break; sleep 0.1; done
    cat "$TMP/$1.port"
}

# Peak RSS in MiB of one netpeel run.
peak() {
    /usr/bin/time -f %M -o "$TMP/rss" timeout $((RUN_SECONDS + 20)) \
        env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE -u SSL_CERT_FILE -u http_proxy -u HTTP_PROXY \
        "$NETPEEL" --format json "$@" >/dev/null 2>&1 || true
    # The last line is the number (a line before it may say how the command exited).
    tail -n1 "$TMP/rss" | awk '{ printf "%.1f", $1 / 1024 }'
}

body_port=$(start_server endless-body)
redirect_port=$(start_server redirects)
addrs=$(python3 -c 'print(",".join(f"127.{i // 250}.{i % 250 + 1}.{i % 7 + 1}" for i in range(6000)))')

log "endless body"
r_body=$(peak --max-time "$RUN_SECONDS" --max-body 16777216 "http://127.0.0.1:$body_port/")
log "endless redirects"
r_redirects=$(peak --max-time "$RUN_SECONDS" --max-redirects 100 "http://127.0.0.1:$redirect_port/")
log "6,000 addresses"
r_addresses=$(peak --max-time "$RUN_SECONDS" --connect-timeout 1 --all-addresses \
    --resolve "many.test:9:$addrs" "http://many.test:9/")
log "--cacert /dev/zero"
r_ca=$(peak --cacert /dev/zero "https://127.0.0.1:9/")

cat >"$OUT" <<EOF
| case | peak RSS |
|---|---|
| endless body, \`--max-body 16777216\`, ${RUN_SECONDS} s | ${r_body} MiB |
| a new redirect on every request, \`--max-redirects 100\` | ${r_redirects} MiB |
| \`--all-addresses\` with 6,000 addresses | ${r_addresses} MiB |
| \`--cacert /dev/zero\` | ${r_ca} MiB |
EOF
cat "$OUT"
