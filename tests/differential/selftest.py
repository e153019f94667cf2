#!/usr/bin/env python3
"""Quick self-test for requests_probe.py:  python3 tests/differential/selftest.py

Starts tiny stdlib servers on 127.0.0.1 only (HTTP and a UDP/TCP DNS server),
runs requests_probe.py as a subprocess against each and checks the JSON.
Never resolves a real name, never talks to the system DNS server.  Every socket
has a timeout; the whole run takes well under 30 s (about 6 s, most of it the
"silent DNS server" case: 2 tries x 2 s).
"""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, "requests_probe.py")
LOOP = "127.0.0.1"
# A bound on the whole self-test, with room for a loaded CI machine (it takes ~10 s idle).
DEADLINE = time.monotonic() + 120


# --------------------------------------------------------------------------
# servers


def tcp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((LOOP, 0))
    s.listen(16)
    s.settimeout(0.5)
    return s


def read_request(c):
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < 65536:
        d = c.recv(4096)
        if not d:
            break
        buf += d
    return buf


def serve_forever(listener, handler, stop):
    def loop():
        while not stop.is_set():
            try:
                c, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(5)
            threading.Thread(target=one, args=(c,), daemon=True).start()

    def one(c):
        try:
            handler(c)
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return listener.getsockname()[1]


def h_ok(c):
    read_request(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")


def h_close_silently(c):
    read_request(c)  # then close without a byte


def h_short_body(c):
    read_request(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n0123456789")


def h_chunk_no_last(c):
    read_request(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n")


def h_404(c):
    read_request(c)
    c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\nnop")


def h_stall(c):
    read_request(c)
    time.sleep(2)


# ---- DNS ------------------------------------------------------------------


def qname_of(msg):
    off, labels = 12, []
    while msg[off]:
        ln = msg[off]
        labels.append(msg[off + 1:off + 1 + ln].decode().lower())
        off += 1 + ln
    qtype, _ = struct.unpack("!HH", msg[off + 1:off + 5])
    return ".".join(labels), qtype, msg[12:off + 5]


def rr_ptr(rtype, rdata, ptr=12):
    # owner is a compression pointer (to the question name by default)
    return struct.pack("!HHHIH", 0xC000 | ptr, rtype, 1, 60, len(rdata)) + rdata


def encode_name(name):
    return b"".join(struct.pack("!B", len(l)) + l.encode() for l in name.split(".")) + b"\x00"


def dns_answer(msg, tcp=False):
    """Returns reply bytes or None (stay silent)."""
    qid = struct.unpack("!H", msg[:2])[0]
    name, qtype, question = qname_of(msg)
    rcode, answers, tc = 0, [], False
    if name == "nx.test":
        rcode = 3
    elif name == "fail.test":
        rcode = 2
    elif name == "refused.test":
        rcode = 5
    elif name == "silent.test":
        return None
    elif name == "nodata.test":
        pass
    elif name == "a.test":
        if qtype == 1:
            answers.append(rr_ptr(1, socket.inet_aton(LOOP)))
    elif name == "v6.test":
        if qtype == 28:
            answers.append(rr_ptr(28, socket.inet_pton(socket.AF_INET6, "::1")))
    elif name == "cname.test":
        # cname.test CNAME a.test. ; a.test A 127.0.0.1  (second owner uncompressed target)
        target = encode_name("a.test")
        answers.append(rr_ptr(5, target))
        if qtype == 1:
            # the CNAME target's name starts at: 12 + len(question) + 12 (RR header) ; point there
            tgt_off = 12 + len(question) + 12
            answers.append(rr_ptr(1, socket.inet_aton(LOOP), ptr=tgt_off))
    elif name == "tc.test":
        if not tcp:
            tc = True
        elif qtype == 1:
            answers.append(rr_ptr(1, socket.inet_aton(LOOP)))
    else:
        rcode = 3
    flags = 0x8000 | 0x0100 | 0x0080 | (0x0200 if tc else 0) | rcode
    return struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0) + question + b"".join(answers)


def start_dns(stop):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((LOOP, 0))
    u.settimeout(0.5)
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((LOOP, port))  # same port over TCP for the TC=1 fallback
    t.listen(8)
    t.settimeout(0.5)

    def udp_loop():
        while not stop.is_set():
            try:
                msg, src = u.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                rep = dns_answer(msg)
            except Exception:  # malformed query: ignore
                continue
            if rep is not None:
                u.sendto(rep, src)

    def tcp_one(c):
        hdr = c.recv(2)
        (ln,) = struct.unpack("!H", hdr)
        msg = b""
        while len(msg) < ln:
            d = c.recv(ln - len(msg))
            if not d:
                return
            msg += d
        rep = dns_answer(msg, tcp=True)
        if rep is not None:
            c.sendall(struct.pack("!H", len(rep)) + rep)

    serve_forever(t, tcp_one, stop)
    threading.Thread(target=udp_loop, daemon=True).start()
    return port


# --------------------------------------------------------------------------
# running the probe


def probe(*args, timeout=15):
    left = DEADLINE - time.monotonic()
    p = subprocess.run([sys.executable, PROBE] + list(args), capture_output=True, text=True,
                       timeout=max(1, min(timeout, left)))
    assert p.returncode == 0, (args, p.returncode, p.stderr)
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    assert len(lines) == 1, p.stdout
    return json.loads(lines[0])


FAILS = []
OBSERVED = []


def check(label, res, exception=None, chain_has=(), status="any", outcome=None, chain_prefix=None):
    problems = []
    want_outcome = outcome or ("ok" if exception is None else "exception")
    if res["outcome"] != want_outcome:
        problems.append("outcome %r != %r" % (res["outcome"], want_outcome))
    if res["exception"] != exception:
        problems.append("exception %r != %r" % (res["exception"], exception))
    for c in chain_has:
        if c not in res["chain"]:
            problems.append("chain lacks %s" % c)
    if chain_prefix is not None and res["chain"][:len(chain_prefix)] != list(chain_prefix):
        problems.append("chain prefix %r != %r" % (res["chain"][:len(chain_prefix)], chain_prefix))
    if status != "any" and res["status"] != status:
        problems.append("status %r != %r" % (res["status"], status))
    line = "%-22s %s" % (label, " > ".join(res["chain"]) if res["chain"] else "ok status=%s" % res["status"])
    OBSERVED.append(line)
    if problems:
        FAILS.append((label, problems, res))
        print("FAIL", line, problems)
    else:
        print("ok  ", line, "(%.2fs)" % res["elapsed_s"])


def main():
    stop = threading.Event()
    p_ok = serve_forever(tcp_listener(), h_ok, stop)
    p_close = serve_forever(tcp_listener(), h_close_silently, stop)
    p_short = serve_forever(tcp_listener(), h_short_body, stop)
    p_404 = serve_forever(tcp_listener(), h_404, stop)
    p_stall = serve_forever(tcp_listener(), h_stall, stop)
    # refused: bound but never listening -> the kernel answers SYN with RST
    refused = socket.socket()
    refused.bind((LOOP, 0))
    p_refused = refused.getsockname()[1]
    dns = start_dns(stop)
    D = ["--dns", "%s:%d" % (LOOP, dns), "--connect-timeout", "2", "--read-timeout", "3"]

    CE = "requests.exceptions.ConnectionError"
    MRE = "urllib3.exceptions.MaxRetryError"
    NRE = "urllib3.exceptions.NameResolutionError"
    GAI = "socket.gaierror"

    check("200", probe("http://%s:%d/" % (LOOP, p_ok)), status=200)
    check("refused", probe("http://%s:%d/" % (LOOP, p_refused)), CE,
          chain_prefix=[CE, MRE, "urllib3.exceptions.NewConnectionError", "ConnectionRefusedError"])
    check("closed-before-reply", probe("http://%s:%d/" % (LOOP, p_close)), CE,
          chain_prefix=[CE, "urllib3.exceptions.ProtocolError", "http.client.RemoteDisconnected"])
    check("short-body", probe("http://%s:%d/" % (LOOP, p_short)), "requests.exceptions.ChunkedEncodingError",
          chain_has=["urllib3.exceptions.ProtocolError", "urllib3.exceptions.IncompleteRead"])
    # urllib3 raises ProtocolError("Response ended prematurely") from None: the
    # suppressed ValueError context must not show up in the chain
    check("chunked-no-0-chunk", probe("http://%s:%d/" % (LOOP, serve_forever(tcp_listener(), h_chunk_no_last, stop))),
          "requests.exceptions.ChunkedEncodingError",
          chain_prefix=["requests.exceptions.ChunkedEncodingError", "urllib3.exceptions.ProtocolError"])
    if "ValueError" in OBSERVED[-1]:
        FAILS.append(("chunked-no-0-chunk", ["suppressed context reported"], OBSERVED[-1]))
    check("404", probe("http://%s:%d/" % (LOOP, p_404)), "requests.exceptions.HTTPError", status=404)
    check("404-no-raise", probe("--no-raise-for-status", "http://%s:%d/" % (LOOP, p_404)), status=404)
    check("read-timeout", probe("--read-timeout", "0.5", "http://%s:%d/" % (LOOP, p_stall)),
          "requests.exceptions.ReadTimeout", chain_has=["urllib3.exceptions.ReadTimeoutError"])
    check("resolve", probe("--resolve", "pinned.test:%d:%s" % (p_ok, LOOP), "--dns", "%s:%d" % (LOOP, dns),
                           "http://pinned.test:%d/" % p_ok), status=200)
    check("dns-A", probe(*D, "http://a.test:%d/" % p_ok), status=200)
    check("dns-CNAME", probe(*D, "http://cname.test:%d/" % p_ok), status=200)
    check("dns-TC->TCP", probe(*D, "http://tc.test:%d/" % p_ok), status=200)

    def gai(label, host, msg):
        r = probe(*D, "http://%s:%d/" % (host, p_ok))
        check(label, r, CE, chain_prefix=[CE, MRE, NRE, GAI])
        if msg not in r.get("message", ""):
            FAILS.append((label, ["message lacks %r" % msg], r))
            print("FAIL", label, "message", r.get("message"))

    gai("dns-NXDOMAIN", "nx.test", "[Errno -2] Name or service not known")
    gai("dns-SERVFAIL", "fail.test", "[Errno -3] Temporary failure in name resolution")
    gai("dns-REFUSED", "refused.test", "[Errno -3] Temporary failure in name resolution")
    gai("dns-NODATA", "nodata.test", "No address associated with hostname")
    t0 = time.monotonic()
    gai("dns-silence", "silent.test", "[Errno -3] Temporary failure in name resolution")
    took = time.monotonic() - t0
    if not 3.5 <= took <= 7:
        FAILS.append(("dns-silence", ["took %.1fs, expected ~4s (2 tries x 2s)" % took], None))

    # IPv6 (::1 only): AAAA answer and --resolve to [::1] (skipped if ::1 is unusable)
    try:
        l6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        l6.bind(("::1", 0))
        l6.listen(8)
        l6.settimeout(0.5)
    except OSError:
        print("skip IPv6 cases: ::1 unavailable")
    else:
        p6 = serve_forever(l6, h_ok, stop)
        check("dns-AAAA", probe(*D, "http://v6.test:%d/" % p6), status=200)
        check("resolve-v6", probe("--resolve", "pin6.test:%d:[::1]" % p6, "http://pin6.test:%d/" % p6),
              status=200)

    # usage error -> non-zero exit
    p = subprocess.run([sys.executable, PROBE, "--resolve", "bad", "http://127.0.0.1/"],
                       capture_output=True, text=True, timeout=10)
    if p.returncode == 0:
        FAILS.append(("usage", ["bad --resolve accepted"], p.stdout))

    stop.set()
    refused.close()
    print()
    if FAILS:
        print("%d FAILED" % len(FAILS))
        for f in FAILS:
            print(" ", f)
        return 1
    print("all %d checks passed" % len(OBSERVED))
    return 0


if __name__ == "__main__":
    sys.exit(main())

# Observed with requests 2.34.2 / urllib3 2.7.0 / Python 3.11.7 (chain as printed by requests_probe.py):
#   refused             -> requests.exceptions.ConnectionError > urllib3.exceptions.MaxRetryError
#                          > urllib3.exceptions.NewConnectionError > ConnectionRefusedError
#   closed-before-reply -> requests.exceptions.ConnectionError > urllib3.exceptions.ProtocolError
#                          > http.client.RemoteDisconnected            (no MaxRetryError: read retries are off)
#   short-body (CL 100, 10 bytes, close)
#                       -> requests.exceptions.ChunkedEncodingError > urllib3.exceptions.ProtocolError
#                          > urllib3.exceptions.IncompleteRead
#   chunked, no 0-chunk -> requests.exceptions.ChunkedEncodingError > urllib3.exceptions.ProtocolError
#                          ("Response ended prematurely"; its ValueError context is "from None")
#   404                 -> requests.exceptions.HTTPError, status 404 ("404 Client Error: Not Found for url: ...")
#   read-timeout        -> requests.exceptions.ReadTimeout > urllib3.exceptions.ReadTimeoutError > TimeoutError
#   DNS NXDOMAIN / SERVFAIL / REFUSED / NOERROR-no-address / silence (4.0 s)
#                       -> requests.exceptions.ConnectionError > urllib3.exceptions.MaxRetryError
#                          > urllib3.exceptions.NameResolutionError > socket.gaierror
#                          message "... Failed to resolve 'nx.test' ([Errno -2] Name or service not known)",
#                          [Errno -3] Temporary failure in name resolution (SERVFAIL, REFUSED, silence),
#                          [Errno -5] No address associated with hostname (NODATA)
#   dns A / CNAME->A / TC=1->TCP / AAAA-only (::1) / --resolve (v4 and [::1]) -> ok, status 200
