#!/usr/bin/env python3
"""Generate the corpus that `netpeel explain` is tested against: REAL error texts.

Every case runs the real client (Python requests/urllib3, and the curl binary) against a
misbehaving server this script starts on 127.0.0.1, and writes what the user would paste:

  corpus/NAME.txt            the text (a traceback, a one-line log message, or curl's output
                             with the command line above it)
  corpus/NAME.expected.json  what the scenario is, known from how it was set up (not from
                             netpeel): library, layer, kind, scheme, host, port, path, proxy

Log-format variants (JSON-escaped, timestamp-prefixed, hard-wrapped and word-wrapped at 80
columns) are derived here from the real texts, never typed by hand.

Network rule: every connection goes to 127.0.0.1 (or `localhost` from /etc/hosts), but one
TCP connect to 255.255.255.255 that the kernel refuses before sending anything (see BROADCAST),
and connects to TEST-NET-1 made inside a private network namespace that has no way out (see
run_in_private_netns). Name
resolution failures are NOT produced by asking a DNS server: glibc's getaddrinfo would send a
query for even a `.invalid` name to the machine's resolver. Instead socket.getaddrinfo is
replaced, for the names under `.invalid` only, by a function raising the socket.gaierror glibc
raises (-2 "Name or service not known", -3 "Temporary failure in name resolution", -5 "No address
associated with hostname"); requests/urllib3 above it run unchanged. curl has no such hook, so
curl's exit 6 is not in the corpus.

Run: python3 tests/explain/generate_corpus.py  (about 20 s; needs requests, PySocks and curl;
the `cryptography` package makes the certificates; httpx and aiohttp cases when they are
installed). The
tests read the committed corpus only: CI needs none of these to run them. The ports in the texts differ on each run.
"""

import datetime
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
import warnings

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
LOOP = "127.0.0.1"
SHORT = 0.5  # every timeout in the cases, seconds
STOP = threading.Event()

# ---------------------------------------------------------------------------
# name resolution stand-in (see the module docstring)

_real_getaddrinfo = socket.getaddrinfo
# The one address not on loopback: Linux refuses a TCP connect to the broadcast address with
# ENETUNREACH before a packet is made (tcp_v4_connect rejects broadcast and multicast routes),
# so "Network is unreachable" is real and nothing leaves the machine.
BROADCAST = "255.255.255.255"
GAI_FAILURES = {
    "missing.invalid": (socket.EAI_NONAME, "Name or service not known"),
    "flaky-dns.invalid": (socket.EAI_AGAIN, "Temporary failure in name resolution"),
    "v6only.invalid": (socket.EAI_NODATA, "No address associated with hostname"),
}


def fake_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else (host or "")
    if name.endswith(".invalid"):
        errno_, msg = GAI_FAILURES.get(name, GAI_FAILURES["missing.invalid"])
        raise socket.gaierror(errno_, msg)
    if name not in ("127.0.0.1", "localhost", "::1", "", BROADCAST):
        raise RuntimeError("generator refuses to resolve %r" % name)
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = fake_getaddrinfo

# ---------------------------------------------------------------------------
# servers


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((LOOP, 0))
    s.listen(16)
    return s


def refused_port():
    s = socket.socket()
    s.bind((LOOP, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def blackhole():
    """A listener whose accept queue is full: further SYNs are dropped (a real connect timeout)."""
    s = socket.socket()
    s.bind((LOOP, 0))
    s.listen(0)
    filler = socket.create_connection(s.getsockname(), timeout=2)
    return s, filler


def read_head(c):
    c.settimeout(3)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def serve(handler, wrap=None):
    """Start a thread serving `handler(conn)` per connection; returns the port."""
    s = listener()

    def one(c):
        try:
            if wrap is not None:
                wrapped = wrap(c)
                if wrapped is None:
                    return
                c = wrapped
            handler(c)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def loop():
        s.settimeout(0.2)
        while not STOP.is_set():
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=one, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]


def reply(status, reason, body=b"", extra=b""):
    def h(c):
        read_head(c)
        c.sendall(
            b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n"
            % (status, reason, len(body), extra)
            + body
        )

    return h


def h_close(c):
    read_head(c)


def h_reset(c):
    read_head(c)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def h_stall(c):
    read_head(c)
    STOP.wait(5)


def h_garbage(c):
    read_head(c)
    c.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n")


def h_short_body(c):
    read_head(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")


def h_bad_chunk(c):
    read_head(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")


def h_bad_gzip(c):
    read_head(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\nnot gzip!!")


def h_redirect_loop(c):
    read_head(c)
    c.sendall(b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n"
              b"Connection: close\r\n\r\n")


def h_reset_mid_body(c):
    read_head(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    time.sleep(0.05)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def h_stall_mid_body(c):
    read_head(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    STOP.wait(5)


def h_many_headers(c):
    read_head(c)
    c.sendall(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(120))
              + b"Content-Length: 0\r\n\r\n")


def h_two_lengths(c):
    read_head(c)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello")


def proxy_connect_reply(status_line):
    def h(c):
        read_head(c)
        c.sendall(status_line + b"\r\nContent-Length: 0\r\n\r\n")

    return h


def h_plain_at_once(c):
    """A plain-HTTP server that answers before reading (as many do to a TLS ClientHello)."""
    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def h_tls_stall(c):
    STOP.wait(5)


def h_tls_fin(c):
    c.settimeout(3)
    c.recv(4096)


def h_tls_rst(c):
    c.settimeout(3)
    c.recv(4096)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def h_tunnel_then_close(c):
    """A proxy that opens the CONNECT tunnel, then closes it at the client's ClientHello."""
    read_head(c)
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    c.settimeout(3)
    c.recv(4096)


def recv_exact(c, n):
    data = b""
    while len(data) < n:
        chunk = c.recv(n - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def socks5(credentials=None, reply_code=0):
    """A SOCKS5 proxy (RFC 1928) that wants `credentials` (user, password) if given, and
    answers every CONNECT with `reply_code` (0 succeeded, 2 not allowed by ruleset, ...). It
    never connects anywhere: the cases are its refusals."""

    def h(c):
        c.settimeout(3)
        _, count = recv_exact(c, 2)
        methods = recv_exact(c, count)
        if credentials is None:
            c.sendall(b"\x05\x00")
        elif 2 not in methods:
            c.sendall(b"\x05\xff")
            return
        else:
            c.sendall(b"\x05\x02")
            _, user_len = recv_exact(c, 2)
            user = recv_exact(c, user_len)
            password = recv_exact(c, recv_exact(c, 1)[0])
            good = (user.decode(), password.decode()) == credentials
            c.sendall(b"\x01" + (b"\x00" if good else b"\x01"))
            if not good:
                return
        atyp = recv_exact(c, 4)[3]
        recv_exact(c, {1: 4, 4: 16}.get(atyp) or recv_exact(c, 1)[0])
        recv_exact(c, 2)
        c.sendall(b"\x05" + bytes([reply_code]) + b"\x00\x01" + b"\x00" * 6)

    return h


def tls_server_ctx(pem, versions=None, client_ca=None):
    """A TLS server context with its certificate, and optionally only the legacy `versions`
    (min, max), or a client certificate required from `client_ca`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if versions:
        ctx.set_ciphers("ALL:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.0/1.1 at level 1+
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1: on purpose
            ctx.minimum_version, ctx.maximum_version = versions
    ctx.load_cert_chain(pem)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    return ctx


# ---------------------------------------------------------------------------
# certificates


def key():
    return ec.generate_private_key(ec.SECP256R1())


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject_key, subject, issuer_key, issuer, sans, ca=False, days=(-1, 30), eku=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(name(issuer))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=days[0]))
        .not_valid_after(now + datetime.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), False)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), False)
    return b.sign(issuer_key, hashes.SHA256())


class Pki:
    def __init__(self, tmp):
        self.tmp = tmp
        self.ca_key = key()
        self.ca = cert(self.ca_key, "explain test CA", self.ca_key, "explain test CA", [], ca=True)
        self.other_key = key()
        self.other_ca = cert(self.other_key, "other CA", self.other_key, "other CA", [], ca=True)
        self.trust = self.write("trust.pem", [self.ca])

    def write(self, fname, certs, private=None):
        path = os.path.join(self.tmp, fname)
        with open(path, "wb") as f:
            if private is not None:
                f.write(
                    private.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    )
                )
            for c in certs:
                f.write(c.public_bytes(serialization.Encoding.PEM))
        return path

    def server(self, label, issuer="ca", sans=("localhost",), days=(-1, 30), self_signed=False,
               ca=False, eku=None):
        k = key()
        if self_signed:
            c = cert(k, "localhost", k, "localhost", list(sans), days=days, ca=ca)
        elif issuer == "forged":
            # Names the trusted CA as its issuer, signed by another key: a bad signature.
            c = cert(k, "localhost", self.other_key, "explain test CA", list(sans), days=days)
        elif issuer == "ca":
            c = cert(k, "localhost", self.ca_key, "explain test CA", list(sans), days=days,
                     eku=eku)
        else:
            c = cert(k, "localhost", self.other_key, "other CA", list(sans), days=days)
        return self.write(label + ".pem", [c], private=k)


    def client(self, label):
        """A client certificate and key (one PEM) signed by the other CA, which no server here
        trusts for clients."""
        k = key()
        c = cert(k, "explain test client", self.other_key, "other CA", [],
                 eku=[x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH])
        return self.write(label + ".pem", [c], private=k)


def tls_wrap(pem, require_client_cert=False, trust=None, ctx=None):
    if ctx is None:
        ctx = tls_server_ctx(pem, client_ca=trust if require_client_cert else None)

    def wrap(c):
        c.settimeout(3)
        try:
            return ctx.wrap_socket(c, server_side=True)
        except (OSError, ssl.SSLError):
            c.close()
            return None

    return wrap


# ---------------------------------------------------------------------------
# running the clients


def session(retries=None):
    s = requests.Session()
    s.trust_env = False  # no proxy or CA variables from this machine
    if retries is not None:
        s.mount("http://", HTTPAdapter(max_retries=retries))
        s.mount("https://", HTTPAdapter(max_retries=retries))
    return s


class SourceAddressAdapter(HTTPAdapter):
    """requests' adapter with urllib3's source_address: connections bind to it first."""

    def __init__(self, source):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = self.source
        super().init_poolmanager(*args, **kwargs)


def run_requests(call):
    """The traceback and str(exception) of what `call` raises (it must raise)."""
    try:
        call()
    except Exception as e:  # noqa: BLE001 - any exception is the case's text
        return traceback.format_exc(), "%s.%s: %s" % (type(e).__module__, type(e).__name__, e)
    raise SystemExit("a case did not fail")


def run_curl(args):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    for var in ("CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        env.pop(var, None)
    cmd = ["curl", "-sS", "-o", "/dev/null"] + args
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, env=env)
    shown = " ".join(a if " " not in a else "'%s'" % a for a in cmd[:1] + cmd[4:])
    if done.returncode == 0:
        raise SystemExit("curl case did not fail: " + shown)
    return "$ %s\n%s" % (shown, done.stderr)


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES = []
HOLE = []  # the blackhole listener's port, for the proxy cases
AIOHTTP_VERSION = []  # when aiohttp ran


def case(name, text, library, layer, kind, scheme, host, port, path, proxy=None):
    CASES.append(
        {
            "name": name,
            "text": text,
            "expected": {
                "library": library,
                "layer": layer,
                "kind": kind,
                "scheme": scheme,
                "host": host,
                "port": port,
                "path": path,
                "proxy": proxy,
            },
        }
    )


def both(name, call, *expected, line=None, **kw):
    """A requests case as a full traceback and as the one line a log handler writes.

    `line` overrides what is expected of the one-line form, where the traceback's frames are
    gone: e.g. a stalled TLS handshake and a stalled response both read "Read timed out.", and
    only the traceback shows `do_handshake`."""
    tb, one = run_requests(call)
    case(name, tb, "requests", *expected, **kw)
    case(name + "_line", "ERROR worker: fetch failed: " + one + "\n", "requests", *expected, **kw)
    if line:
        CASES[-1]["expected"].update(line)
    return tb


# ---------------------------------------------------------------------------
# the cases


# A private network namespace (`unshare -n`: its own loopback and nothing else, so no packet
# can leave it) with an "unreachable" route for TEST-NET-1: connect() fails at once with
# EHOSTUNREACH, the error a router's ICMP host-unreachable gives. Needs root (or user
# namespaces) and iproute2; skipped otherwise.
UNREACHABLE_NET = "192.0.2.0/24"
UNREACHABLE = "192.0.2.10"
NETNS_SCRIPT = r"""
import json, sys, traceback, requests
url, proxy = sys.argv[1], sys.argv[2]
s = requests.Session()
s.trust_env = False
try:
    s.get(url, timeout=0.5, proxies={"http": proxy, "https": proxy} if proxy else None)
except Exception as e:
    one = "%s.%s: %s" % (type(e).__module__, type(e).__name__, e)
    print(json.dumps([traceback.format_exc(), one]))
"""


def run_in_private_netns(url, proxy=""):
    """The traceback and one line of requests' failure inside the private namespace, or None."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return None
    setup = ("ip link set lo up && ip route add unreachable %s && exec %s -c \"$0\" \"$1\" \"$2\""
             % (UNREACHABLE_NET, sys.executable))
    cmd = ["unshare", "-n", "sh", "-c", setup, NETNS_SCRIPT, url, proxy]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    if done.returncode != 0 or not done.stdout.strip():
        print("no private network namespace (%s): unreachable cases skipped" % done.stderr.strip())
        return None
    return json.loads(done.stdout)


def unreachable_cases():
    url = "http://%s:8080/v1/health" % UNREACHABLE
    got = run_in_private_netns(url)
    if got:
        for name, text in (("requests_host_unreachable", got[0]),
                           ("requests_host_unreachable_line", "ERROR worker: fetch failed: " + got[1] + "\n")):
            case(name, text, "requests", "tcp", "host_unreachable", "http", UNREACHABLE, 8080,
                 "/v1/health")
    proxy = "http://%s:3128" % UNREACHABLE
    got = run_in_private_netns("http://%s:9/v2/orders" % LOOP, proxy)
    if got:
        for name, text in (("requests_proxy_unreachable", got[0]),
                           ("requests_proxy_unreachable_line", "ERROR worker: fetch failed: " + got[1] + "\n")):
            case(name, text, "requests", "proxy", "proxy_unreachable", "http", LOOP, 9, "/v2/orders",
                 proxy={"name": UNREACHABLE, "port": 3128})


def requests_cases(pki):
    t = SHORT
    s = session()
    port = refused_port()
    url = "http://%s:%d/v1/items?page=2&token=s3cr3t" % (LOOP, port)
    both("requests_refused", lambda: s.get(url, timeout=t), "tcp", "connection_refused",
         "http", LOOP, port, "/v1/items?page=2&token=***")
    s3 = session(Retry(total=3, backoff_factor=0))
    both("requests_refused_retries", lambda: s3.get("https://%s:%d/api" % (LOOP, port), timeout=t),
         "tcp", "connection_refused", "https", LOOP, port, "/api")

    both("requests_network_unreachable",
         lambda: s.get("http://%s:9/b" % BROADCAST, timeout=t), "tcp", "network_unreachable",
         "http", BROADCAST, 9, "/b")
    # A source address this machine does not have: bind() fails, nothing is sent.
    unbound = session()
    unbound.mount("http://", SourceAddressAdapter(("192.0.2.1", 0)))
    both("requests_address_not_available",
         lambda: unbound.get("http://%s:9/x" % LOOP, timeout=t), "tcp", "address_not_available",
         "http", LOOP, 9, "/x")

    hole, filler = blackhole()
    hport = hole.getsockname()[1]
    HOLE.append(hport)
    both("requests_connect_timeout",
         lambda: s.get("http://%s:%d/slow" % (LOOP, hport), timeout=(t, 5)),
         "tcp", "connect_timeout", "http", LOOP, hport, "/slow")

    both("requests_dns_nxdomain", lambda: s.get("https://missing.invalid/health", timeout=t),
         "dns", "nxdomain", "https", "missing.invalid", 443, "/health")
    both("requests_dns_temporary", lambda: s.get("http://flaky-dns.invalid:8080/", timeout=t),
         "dns", "dns_other", "http", "flaky-dns.invalid", 8080, "/")
    both("requests_dns_nodata", lambda: s.get("http://v6only.invalid/x", timeout=t),
         "dns", "nodata", "http", "v6only.invalid", 80, "/x")

    p = serve(h_close)
    both("requests_remote_disconnected", lambda: s.get("http://%s:%d/a" % (LOOP, p), timeout=t),
         "http", "remote_disconnected", None, None, None, None)
    p = serve(h_reset)
    both("requests_reset", lambda: s.get("http://%s:%d/b" % (LOOP, p), timeout=t),
         "http", "connection_reset", None, None, None, None)
    p = serve(h_stall)
    both("requests_read_timeout", lambda: s.get("http://%s:%d/report" % (LOOP, p), timeout=(1, t)),
         "http", "read_timeout", "http", LOOP, p, None)
    p = serve(h_garbage)
    both("requests_not_http", lambda: s.get("http://%s:%d/" % (LOOP, p), timeout=t),
         "http", "not_http", None, None, None, None)
    p = serve(h_short_body)
    both("requests_incomplete_body", lambda: s.get("http://%s:%d/file" % (LOOP, p), timeout=t),
         "http", "incomplete_body", None, None, None, None)
    p = serve(h_bad_chunk)
    both("requests_invalid_chunk", lambda: s.get("http://%s:%d/stream" % (LOOP, p), timeout=t),
         "http", "invalid_chunk", None, None, None, None)
    p = serve(h_bad_gzip)
    both("requests_decoding", lambda: s.get("http://%s:%d/z" % (LOOP, p), timeout=t),
         "http", "content_decoding_error", None, None, None, None)
    p = serve(h_reset_mid_body)
    both("requests_body_reset", lambda: s.get("http://%s:%d/big" % (LOOP, p), timeout=t),
         "http", "body_reset", None, None, None, None)
    p = serve(h_stall_mid_body)
    both("requests_body_read_timeout", lambda: s.get("http://%s:%d/big" % (LOOP, p), timeout=t),
         "http", "body_read_timeout", "http", LOOP, p, None)
    p = serve(h_many_headers)
    both("requests_bad_head", lambda: s.get("http://%s:%d/h" % (LOOP, p), timeout=t),
         "http", "bad_response_head", None, None, None, None)
    p = serve(h_two_lengths)
    both("requests_two_lengths", lambda: s.get("http://%s:%d/l" % (LOOP, p), timeout=t),
         "http", "conflicting_content_length", None, None, None, None)
    p = serve(h_redirect_loop)
    both("requests_redirects", lambda: s.get("http://%s:%d/loop" % (LOOP, p), timeout=t),
         "http", "too_many_redirects", None, None, None, None)

    p503 = serve(reply(503, b"Service Unavailable"))
    both("requests_http_503",
         lambda: s.get("http://%s:%d/v1/items" % (LOOP, p503), timeout=t).raise_for_status(),
         "http", "http_server_error", "http", LOOP, p503, "/v1/items")
    p404 = serve(reply(404, b"Not Found"))
    both("requests_http_404",
         lambda: s.get("http://%s:%d/missing?q=1" % (LOOP, p404), timeout=t).raise_for_status(),
         "http", "http_client_error", "http", LOOP, p404, "/missing?q=1")
    s503 = session(Retry(total=2, status_forcelist=[503], backoff_factor=0))
    both("requests_503_retries", lambda: s503.get("http://%s:%d/jobs" % (LOOP, p503), timeout=t),
         "http", "http_server_error", "http", LOOP, p503, "/jobs")

    tls_cases(pki, s)
    proxy_cases(s, pki)
    socks_refusal_cases(s)
    url_cases(s)
    return hole, filler


def tls_cases(pki, s):
    t = SHORT
    v = pki.trust

    def get(port, path, host="localhost"):
        return lambda: s.get("https://%s:%d%s" % (host, port, path), timeout=t, verify=v)

    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("unknown", issuer="other")))
    both("requests_tls_unknown_issuer", get(p, "/u"), "tls", "cert_unknown_issuer",
         "https", "localhost", p, "/u")
    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("selfsigned", self_signed=True)))
    both("requests_tls_self_signed", get(p, "/s"), "tls", "cert_self_signed",
         "https", "localhost", p, "/s")
    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("expired", days=(-30, -1))))
    both("requests_tls_expired", get(p, "/e"), "tls", "cert_expired",
         "https", "localhost", p, "/e")
    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("future", days=(10, 30))))
    both("requests_tls_not_yet_valid", get(p, "/f"), "tls", "cert_not_yet_valid",
         "https", "localhost", p, "/f")
    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("wrongname", sans=("api.test",))))
    both("requests_tls_name_mismatch", get(p, "/n"), "tls", "cert_name_mismatch",
         "https", "localhost", p, "/n")
    p = serve(h_plain_at_once)
    both("requests_tls_wrong_version", get(p, "/w", LOOP), "tls", "not_tls",
         "https", LOOP, p, "/w")
    p = serve(h_tls_fin)
    both("requests_tls_closed", get(p, "/c", LOOP), "tls", "tls_closed", "https", LOOP, p, "/c")
    p = serve(h_tls_rst)
    # Only the traceback's frames (do_handshake) tell a reset handshake from a reset exchange.
    both("requests_tls_reset", get(p, "/r", LOOP), "tls", "tls_reset", None, None, None, None,
         line={"layer": "http", "kind": "connection_reset"})
    p = serve(h_tls_stall)
    both("requests_tls_handshake_timeout", get(p, "/h", LOOP), "tls", "tls_handshake_timeout",
         "https", LOOP, p, None, line={"layer": "http", "kind": "read_timeout"})
    # requests' CA bundle names a missing file (its own OSError, before connecting; no host in
    # the text) or an empty one (OpenSSL's X509 error when the context loads it).
    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("bundle")))
    missing = os.path.join(pki.tmp, "missing", "ca.pem")
    both("requests_ca_bundle_missing",
         lambda: s.get("https://localhost:%d/b" % p, timeout=t, verify=missing),
         "tls", "ca_bundle_missing", None, None, None, None)
    empty = pki.write("empty.pem", [])
    both("requests_ca_bundle_empty",
         lambda: s.get("https://localhost:%d/b" % p, timeout=t, verify=empty),
         "tls", "ca_bundle_empty", "https", "localhost", p, "/b")
    mtls = tls_wrap(pki.server("mtls"), require_client_cert=True, trust=pki.trust)
    p = serve(lambda c: reply(200, b"OK")(c), mtls)
    # TLS 1.3: the server's certificate_required alert comes after the client's handshake ended,
    # and Python reports only an EOF: the text cannot tell it from a server that closed.
    # Sometimes the alert does arrive first (a race on loopback): then the text names it, and the
    # case expects what the text says.
    both("requests_tls_mtls_eof", get(p, "/m"), "tls", "tls_closed", "https", "localhost", p, "/m")
    for c in CASES[-2:]:
        if "CERTIFICATE_REQUIRED" in c["text"]:
            c["expected"]["kind"] = "client_cert_required"
    tls_refusal_cases(pki, s, get)


def tls_refusal_cases(pki, s, get):
    """Certificates OpenSSL rejects for other reasons, and handshakes the server refuses."""
    t = SHORT
    ok = lambda c: reply(200, b"OK")(c)  # noqa: E731
    # A CA certificate (CA:TRUE) as the server's own: OpenSSL accepts one a trusted CA issued,
    # and a self-signed one reads like any self-signed certificate (cert_ca_as_end_entity is
    # not in the corpus: requests' text cannot say it).
    p = serve(ok, tls_wrap(pki.server("ca_leaf", self_signed=True, ca=True)))
    both("requests_tls_ca_as_leaf", get(p, "/ca"), "tls", "cert_self_signed",
         "https", "localhost", p, "/ca")
    client_only = [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
    p = serve(ok, tls_wrap(pki.server("purpose", eku=client_only)))
    both("requests_tls_bad_purpose", get(p, "/p"), "tls", "cert_invalid",
         "https", "localhost", p, "/p")
    p = serve(ok, tls_wrap(pki.server("forged", issuer="forged")))
    both("requests_tls_bad_signature", get(p, "/g"), "tls", "cert_invalid",
         "https", "localhost", p, "/g")
    # A server that speaks only TLS 1.0/1.1 (urllib3 2 offers 1.2 and up): a protocol_version
    # alert.
    old = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    p = serve(ok, tls_wrap(None, ctx=tls_server_ctx(pki.server("old"), versions=old)))
    both("requests_tls_alert_version", get(p, "/v"), "tls", "tls_alert",
         "https", "localhost", p, "/v")
    # Mutual TLS 1.2: the server refuses inside the handshake. A client certificate from a CA
    # it does not trust gets unknown_ca; none at all gets handshake_failure, which names no
    # certificate (client_cert_required reads as tls_alert there).
    tls12 = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    ctx = tls_server_ctx(pki.server("mtls12"), client_ca=pki.trust)
    ctx.minimum_version, ctx.maximum_version = tls12
    p = serve(ok, tls_wrap(None, ctx=ctx))
    client = pki.client("client_other_ca")
    both("requests_tls_client_cert_rejected",
         lambda: s.get("https://localhost:%d/m" % p, timeout=t, verify=pki.trust, cert=client),
         "tls", "client_cert_rejected", "https", "localhost", p, "/m")
    both("requests_tls_mtls12_no_cert", get(p, "/m"), "tls", "tls_alert",
         "https", "localhost", p, "/m")


def proxy_cases(s, pki):
    t = SHORT
    target = "https://%s:%d/v2/orders" % (LOOP, 9)
    pport = refused_port()
    purl = "http://%s:%d" % (LOOP, pport)
    proxy = {"name": LOOP, "port": pport}
    both("requests_proxy_refused",
         lambda: s.get(target, timeout=t, proxies={"https": purl}),
         "proxy", "proxy_connection_refused", "https", LOOP, 9, "/v2/orders", proxy=proxy)
    for label, line, kind in (
        ("407", b"HTTP/1.1 407 Proxy Authentication Required", "proxy_auth_required"),
        ("403", b"HTTP/1.1 403 Forbidden", "proxy_denied"),
    ):
        p = serve(proxy_connect_reply(line))
        purl = "http://%s:%d" % (LOOP, p)
        # The proxy's answer is quoted, its address is not.
        both("requests_proxy_" + label, lambda: s.get(target, timeout=t, proxies={"https": purl}),
             "proxy", kind, "https", LOOP, 9, "/v2/orders")
    # A plain-http request through a proxy that wants credentials: the 407 is the response, and
    # raise_for_status() turns it into HTTPError; neither form names the proxy.
    p = serve(proxy_connect_reply(b"HTTP/1.1 407 Proxy Authentication Required"))
    purl = "http://%s:%d" % (LOOP, p)
    both("requests_proxy_forward_407",
         lambda: s.get("http://%s:9/v1/items" % LOOP, timeout=t,
                       proxies={"http": purl}).raise_for_status(),
         "proxy", "proxy_forward_auth_required", "http", LOOP, 9, "/v1/items")
    p = serve(h_close)
    purl = "http://%s:%d" % (LOOP, p)
    # Only the traceback's frames (_tunnel) say the proxy closed; neither form names a host.
    both("requests_proxy_closed", lambda: s.get(target, timeout=t, proxies={"https": purl}),
         "proxy", "proxy_closed", None, None, None, None,
         line={"layer": "http", "kind": "remote_disconnected"})
    p = serve(h_stall)
    purl = "http://%s:%d" % (LOOP, p)
    both("requests_proxy_timeout", lambda: s.get(target, timeout=t, proxies={"https": purl}),
         "proxy", "proxy_timeout", "https", LOOP, 9, None,
         line={"layer": "http", "kind": "read_timeout"})
    socks = "socks5h://%s:%d" % (LOOP, pport)
    # The proxy opens the tunnel and closes it at the ClientHello: requests' SSLError names
    # neither the proxy nor the tunnel. Its traceback lacks the handshake frames (urllib3 wraps
    # the error in urlopen, the tunnel's TLS running in _prepare_proxy), but so does a TLS 1.3
    # server's close after the handshake (requests_tls_mtls_eof): it reads as tls_closed.
    p = serve(h_tunnel_then_close)
    purl = "http://%s:%d" % (LOOP, p)
    both("requests_proxy_tunnel_closed",
         lambda: s.get(target, timeout=t, proxies={"https": purl}),
         "tls", "tls_closed", "https", LOOP, 9, "/v2/orders")
    https_proxy_cases(s, pki)
    p = serve(h_garbage)
    purl = "http://%s:%d" % (LOOP, p)
    both("requests_proxy_not_http", lambda: s.get(target, timeout=t, proxies={"https": purl}),
         "proxy", "proxy_not_http", None, None, None, None,
         line={"layer": "http", "kind": "not_http"})
    both("requests_proxy_dns",
         lambda: s.get(target, timeout=t, proxies={"https": "http://proxy.invalid:3128"}),
         "proxy", "proxy_dns_failure", "https", LOOP, 9, "/v2/orders",
         proxy={"name": "proxy.invalid", "port": 3128})
    both("requests_proxy_connect_timeout",
         lambda: s.get(target, timeout=t, proxies={"https": "http://%s:%d" % (LOOP, HOLE[0])}),
         "proxy", "proxy_connect_timeout", "https", LOOP, 9, "/v2/orders",
         proxy={"name": LOOP, "port": HOLE[0]})
    both("requests_socks_timeout",
         lambda: s.get("http://%s:9/s" % LOOP, timeout=t,
                       proxies={"http": "socks5h://%s:%d" % (LOOP, HOLE[0])}),
         "proxy", "socks_timeout", "http", LOOP, 9, "/s", proxy={"name": LOOP, "port": HOLE[0]},
         line={"proxy": None})
    p = serve(h_tls_fin)
    both("requests_socks_closed",
         lambda: s.get("http://%s:9/s" % LOOP, timeout=t,
                       proxies={"http": "socks5h://%s:%d" % (LOOP, p)}),
         "proxy", "socks_other", "http", LOOP, 9, "/s")
    # The proxy's address is in PySocks' own exception, in the traceback only.
    both("requests_socks_refused",
         lambda: s.get("http://%s:%d/s" % (LOOP, 9), timeout=t, proxies={"http": socks}),
         "proxy", "socks_unreachable", "http", LOOP, 9, "/s", proxy={"name": LOOP, "port": pport},
         line={"proxy": None})


def https_proxy_cases(s, pki):
    """https:// proxy URLs: a plain-HTTP proxy there, and one whose certificate no CA signed
    that requests trusts. Neither text names the proxy's address."""
    t = SHORT
    target = "https://%s:9/v2/orders" % LOOP
    p = serve(h_plain_at_once)
    both("requests_proxy_not_tls",
         lambda: s.get(target, timeout=t, proxies={"https": "https://%s:%d" % (LOOP, p)}),
         "proxy", "proxy_not_tls", "https", LOOP, 9, "/v2/orders")
    p = serve(h_tunnel_then_close, tls_wrap(pki.server("proxy_unknown", issuer="other")))
    both("requests_proxy_tls_failed",
         lambda: s.get(target, timeout=t, verify=pki.trust,
                       proxies={"https": "https://localhost:%d" % p}),
         "proxy", "proxy_tls_failed", "https", LOOP, 9, "/v2/orders")


def socks_refusal_cases(s):
    """A SOCKS5 proxy that refuses: wrong credentials, a CONNECT not allowed; and a socks5://
    (not socks5h://) URL whose target name fails here before the proxy is asked."""
    t = SHORT
    target = "http://%s:9/s" % LOOP
    p = serve(socks5(credentials=("u", "right")))
    both("requests_socks_auth_failed",
         lambda: s.get(target, timeout=t, proxies={"http": "socks5h://u:wrong@%s:%d" % (LOOP, p)}),
         "proxy", "socks_auth_failed", "http", LOOP, 9, "/s")
    p = serve(socks5(reply_code=2))
    both("requests_socks_reply_error",
         lambda: s.get(target, timeout=t, proxies={"http": "socks5h://%s:%d" % (LOOP, p)}),
         "proxy", "socks_reply_error", "http", LOOP, 9, "/s")
    p = serve(socks5())
    # Only the traceback's PySocks frames (GeneralProxyError, after the proxy answered) say the
    # name failed here; the one line reads like a SOCKS proxy whose own name failed.
    both("requests_socks_local_dns",
         lambda: s.get("http://missing.invalid/s", timeout=t,
                       proxies={"http": "socks5://%s:%d" % (LOOP, p)}),
         "proxy", "socks_local_dns", "http", "missing.invalid", 80, "/s",
         line={"kind": "socks_other"})
    # The SOCKS proxy's own name fails: the target is an address, so the name was the proxy's.
    both("requests_socks_proxy_dns",
         lambda: s.get(target, timeout=t, proxies={"http": "socks5h://socks.invalid:1080"}),
         "proxy", "socks_unreachable", "http", LOOP, 9, "/s")


def url_cases(s):
    both("requests_missing_scheme", lambda: s.get("api.internal/v1"), "url", "missing_scheme",
         None, None, None, None)
    both("requests_unsupported_scheme", lambda: s.get("ftp://%s/file" % LOOP), "url",
         "unsupported_scheme", "ftp", LOOP, None, "/file")
    both("requests_invalid_header",
         lambda: s.get("http://%s:1/" % LOOP, headers={"X-Token": "a\r\nInjected: 1"}), "url",
         "invalid_header", None, None, None, None)
    both("requests_invalid_url", lambda: s.get("http://[::1/x"), "url", "invalid_url",
         "http", None, None, None)
    both("requests_missing_host", lambda: s.get("http:///path"), "url", "missing_host",
         "http", None, None, None)
    # urllib3's LocationParseError escapes requests unwrapped: the text is urllib3's.
    both("requests_invalid_host_label", lambda: s.get("http://a..b/"), "url",
         "invalid_host_label", None, None, None, None)
    for c in CASES[-2:]:
        c["expected"]["library"] = "urllib3"
    both("requests_invalid_port", lambda: s.get("http://%s:99999/" % LOOP), "url",
         "invalid_port", "http", LOOP, None, "/")
    # http.client encodes header values as Latin-1: Python's own UnicodeEncodeError, before
    # connecting. Only the traceback (its putheader frame under requests') says what it was:
    # its one line names no request and is not recognised, so only the traceback is kept.
    tb, _ = run_requests(lambda: s.get("http://%s:9/h" % LOOP,
                                       headers={"X-Title": "caf\u00e9 \u2019quoted\u2019"}))
    case("requests_header_not_latin1", tb, "requests", "url", "header_not_latin1",
         None, None, None, None)


def curl_cases(pki, hport):
    t = str(SHORT)
    port = refused_port()
    ca = ["--cacert", pki.trust]
    add = lambda name, args, layer, kind, scheme, host, p, path, proxy=None: case(  # noqa: E731
        name, run_curl(args), "curl", layer, kind, scheme, host, p, path, proxy=proxy)
    add("curl_refused", ["http://%s:%d/v1/items" % (LOOP, port)], "tcp", "connection_refused",
        "http", LOOP, port, "/v1/items")
    add("curl_connect_timeout", ["--connect-timeout", t, "http://%s:%d/slow" % (LOOP, hport)],
        "tcp", "connect_timeout", "http", LOOP, hport, "/slow")
    p = serve(h_stall)
    add("curl_read_timeout", ["--max-time", "1", "http://%s:%d/report" % (LOOP, p)],
        "http", "read_timeout", "http", LOOP, p, "/report")
    p = serve(h_close)
    add("curl_empty_reply", ["http://%s:%d/a" % (LOOP, p)], "http", "remote_disconnected",
        "http", LOOP, p, "/a")
    p = serve(h_reset)
    add("curl_reset", ["http://%s:%d/b" % (LOOP, p)], "http", "connection_reset",
        "http", LOOP, p, "/b")
    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("c_unknown", issuer="other")))
    add("curl_tls_unknown_issuer", ca + ["https://localhost:%d/u" % p], "tls",
        "cert_unknown_issuer", "https", "localhost", p, "/u")
    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("c_self", self_signed=True)))
    add("curl_tls_self_signed", ca + ["https://localhost:%d/s" % p], "tls", "cert_self_signed",
        "https", "localhost", p, "/s")
    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("c_exp", days=(-30, -1))))
    add("curl_tls_expired", ca + ["https://localhost:%d/e" % p], "tls", "cert_expired",
        "https", "localhost", p, "/e")
    p = serve(lambda c: reply(200, b"OK")(c), tls_wrap(pki.server("c_name", sans=("api.test",))))
    add("curl_tls_name_mismatch", ca + ["https://localhost:%d/n" % p], "tls",
        "cert_name_mismatch", "https", "localhost", p, "/n")
    p = serve(h_plain_at_once)
    add("curl_tls_wrong_version", ca + ["https://%s:%d/w" % (LOOP, p)], "tls", "not_tls",
        "https", LOOP, p, "/w")
    p = serve(reply(503, b"Service Unavailable"))
    add("curl_http_503", ["--fail", "http://%s:%d/v1/items" % (LOOP, p)], "http",
        "http_server_error", "http", LOOP, p, "/v1/items")
    p = serve(h_redirect_loop)
    add("curl_redirects", ["-L", "--max-redirs", "3", "http://%s:%d/loop" % (LOOP, p)], "http",
        "too_many_redirects", "http", LOOP, p, "/loop")
    pport = refused_port()
    add("curl_proxy_refused", ["-x", "http://%s:%d" % (LOOP, pport), "https://%s:9/o" % LOOP],
        "proxy", "proxy_connection_refused", "https", LOOP, 9, "/o",
        proxy={"name": LOOP, "port": pport})
    p = serve(proxy_connect_reply(b"HTTP/1.1 407 Proxy Authentication Required"))
    add("curl_proxy_407", ["-x", "http://%s:%d" % (LOOP, p), "https://%s:9/o" % LOOP],
        "proxy", "proxy_auth_required", "https", LOOP, 9, "/o", proxy={"name": LOOP, "port": p})


def httpx_cases(pki, hport):
    """httpx, when installed (the corpus keeps its texts; the tests do not need httpx)."""
    try:
        import httpx
    except ImportError:
        print("httpx not installed: no httpx cases")
        return
    t = httpx.Timeout(SHORT)

    def run(name, call, *expected):
        tb, one = run_requests(call)
        case(name, tb, "httpx", *expected)
        case(name + "_line", "ERROR worker: fetch failed: " + one + "\n", "httpx", *expected)

    c = httpx.Client(timeout=t, trust_env=False)
    cv = httpx.Client(timeout=t, trust_env=False, verify=ssl.create_default_context(cafile=pki.trust))
    # httpx's own messages name no URL: only the status error does.
    run("httpx_refused", lambda: c.get("http://%s:%d/a" % (LOOP, refused_port())),
        "tcp", "connection_refused", None, None, None, None)
    run("httpx_connect_timeout", lambda: c.get("http://%s:%d/a" % (LOOP, hport)),
        "tcp", "connect_timeout", None, None, None, None)
    run("httpx_dns", lambda: c.get("http://missing.invalid/a"),
        "dns", "nxdomain", None, None, None, None)
    p = serve(h_stall)
    run("httpx_read_timeout", lambda: c.get("http://%s:%d/a" % (LOOP, p)),
        "http", "read_timeout", None, None, None, None)
    p = serve(h_close)
    run("httpx_remote_disconnected", lambda: c.get("http://%s:%d/a" % (LOOP, p)),
        "http", "remote_disconnected", None, None, None, None)
    p = serve(lambda conn: reply(200, b"OK")(conn), tls_wrap(pki.server("x_unknown", issuer="other")))
    run("httpx_tls_unknown_issuer", lambda: cv.get("https://localhost:%d/u" % p),
        "tls", "cert_unknown_issuer", None, None, None, None)
    p = serve(reply(503, b"Service Unavailable"))
    run("httpx_http_503", lambda: c.get("http://%s:%d/v1/items" % (LOOP, p)).raise_for_status(),
        "http", "http_server_error", "http", LOOP, p, "/v1/items")


def aiohttp_cases(pki, hport):
    """aiohttp, when installed: each case runs one request in its own event loop."""
    try:
        import asyncio
        import aiohttp
    except ImportError:
        print("aiohttp not installed: no aiohttp cases")
        return
    AIOHTTP_VERSION.append(aiohttp.__version__)
    per_step = aiohttp.ClientTimeout(total=None, sock_connect=SHORT, sock_read=SHORT)
    verify = ssl.create_default_context(cafile=pki.trust)

    def get(url, timeout=per_step, **kw):
        async def fetch():
            async with aiohttp.ClientSession(trust_env=False, timeout=timeout) as session:
                async with session.get(url, **kw) as response:
                    response.raise_for_status()
                    await response.read()

        return lambda: asyncio.run(fetch())

    def run(name, call, *expected, line=True, **kw):
        tb, one = run_requests(call)
        case(name, tb, "aiohttp", *expected, **kw)
        if line:
            case(name + "_line", "ERROR worker: fetch failed: " + one + "\n", "aiohttp",
                 *expected, **kw)

    ok = lambda c: reply(200, b"OK")(c)  # noqa: E731
    # "ssl:default" is printed for http:// too: only a default port tells the scheme.
    port = refused_port()
    run("aiohttp_refused", get("http://%s:%d/a" % (LOOP, port)), "tcp", "connection_refused",
        None, LOOP, port, None)
    run("aiohttp_dns", get("http://missing.invalid/a"), "dns", "nxdomain",
        "http", "missing.invalid", 80, None)
    p = serve(ok, tls_wrap(pki.server("a_unknown", issuer="other")))
    run("aiohttp_tls_unknown_issuer", get("https://localhost:%d/u" % p, ssl=verify), "tls",
        "cert_unknown_issuer", "https", "localhost", p, None)
    p = serve(ok, tls_wrap(pki.server("a_expired", days=(-30, -1))))
    run("aiohttp_tls_expired", get("https://localhost:%d/e" % p, ssl=verify), "tls",
        "cert_expired", "https", "localhost", p, None)
    p = serve(h_plain_at_once)
    run("aiohttp_tls_wrong_version", get("https://%s:%d/w" % (LOOP, p), ssl=verify), "tls",
        "not_tls", "https", LOOP, p, None)
    p = serve(h_close)
    run("aiohttp_server_disconnected", get("http://%s:%d/a" % (LOOP, p)), "http",
        "remote_disconnected", None, None, None, None)
    p = serve(h_reset)
    run("aiohttp_reset", get("http://%s:%d/a" % (LOOP, p)), "http", "connection_reset",
        None, None, None, None)
    run("aiohttp_connect_timeout", get("http://%s:%d/slow" % (LOOP, hport)), "tcp",
        "connect_timeout", "http", LOOP, hport, "/slow")
    p = serve(h_stall)
    run("aiohttp_read_timeout", get("http://%s:%d/report" % (LOOP, p)), "http", "read_timeout",
        None, None, None, None)
    # ClientTimeout(total=…) raises a bare TimeoutError: only the traceback's frames (the
    # connector's, or the response's start) say which step ran out; its one line says nothing.
    total = aiohttp.ClientTimeout(total=SHORT)
    run("aiohttp_total_timeout_connecting", get("http://%s:%d/slow" % (LOOP, hport), total),
        "tcp", "connect_timeout", None, None, None, None, line=False)
    run("aiohttp_total_timeout_reading", get("http://%s:%d/report" % (LOOP, p), total),
        "http", "read_timeout", None, None, None, None, line=False)
    p = serve(reply(503, b"Service Unavailable"))
    run("aiohttp_http_503", get("http://%s:%d/v1/items?page=2" % (LOOP, p)), "http",
        "http_server_error", "http", LOOP, p, "/v1/items?page=2")
    p = serve(h_short_body)
    run("aiohttp_incomplete_body", get("http://%s:%d/file" % (LOOP, p)), "http",
        "incomplete_body", None, None, None, None)
    # Through a proxy, aiohttp names the proxy, never the target.
    port = refused_port()
    run("aiohttp_proxy_refused",
        get("https://%s:9/o" % LOOP, proxy="http://%s:%d" % (LOOP, port)), "proxy",
        "proxy_connection_refused", None, None, None, None, proxy={"name": LOOP, "port": port})
    p = serve(proxy_connect_reply(b"HTTP/1.1 407 Proxy Authentication Required"))
    run("aiohttp_proxy_407", get("https://%s:9/o" % LOOP, proxy="http://%s:%d" % (LOOP, p)),
        "proxy", "proxy_auth_required", None, None, None, None, proxy={"name": LOOP, "port": p})


# ---------------------------------------------------------------------------
# log-format variants, derived from the real texts


def json_escaped(text):
    record = {"ts": "2026-11-25T22:40:01.123Z", "level": "error", "logger": "app.client",
              "msg": "request failed", "exc_info": text}
    return json.dumps(record) + "\n"


def timestamped(text):
    lines = text.rstrip("\n").split("\n")
    return "".join("2026-11-25 22:40:01,123 ERROR [app.client] %s\n" % l for l in lines)


def hard_wrapped(text, width=80):
    out = []
    for line in text.rstrip("\n").split("\n"):
        out.extend(line[i:i + width] for i in range(0, max(len(line), 1), width))
    return "\n".join(out) + "\n"


def word_wrapped(text, width=80):
    out = []
    for line in text.rstrip("\n").split("\n"):
        out.extend(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
                   or [""])
    return "\n".join(out) + "\n"


VARIANTS = {
    "json": json_escaped,
    "timestamped": timestamped,
    "wrapped80": hard_wrapped,
    "wordwrapped80": word_wrapped,
}
VARIANT_BASES = (
    "requests_refused",
    "requests_connect_timeout",
    "requests_dns_nxdomain",
    "requests_tls_unknown_issuer",
    "requests_read_timeout",
    "requests_503_retries",
    "requests_proxy_407",
    "curl_tls_name_mismatch",
)


# Wrapping at widths a terminal or logger may use besides 80: hard cuts at 57, 64, 72, 100 and
# 132 columns, and word wrapping at 60. A cut can fall inside `host='…'`, a URL or an errno.
WIDTHS = {
    "wrapped57": lambda text: hard_wrapped(text, 57),
    "wrapped64": lambda text: hard_wrapped(text, 64),
    "wrapped72": lambda text: hard_wrapped(text, 72),
    "wrapped100": lambda text: hard_wrapped(text, 100),
    "wrapped132": lambda text: hard_wrapped(text, 132),
    "wordwrapped60": lambda text: word_wrapped(text, 60),
}
WIDTH_BASES = (
    "requests_refused",
    "requests_refused_line",
    "requests_dns_nxdomain_line",
    "requests_tls_unknown_issuer",
    "requests_proxy_407",
    "curl_tls_name_mismatch",
    "aiohttp_connect_timeout_line",
)


def derive_variants():
    by_name = {c["name"]: c for c in CASES}
    derived = [(base, VARIANTS) for base in VARIANT_BASES]
    derived += [(base, WIDTHS) for base in WIDTH_BASES if base in by_name]
    for base, variants in derived:
        for label, derive in variants.items():
            c = by_name[base]
            CASES.append({"name": "%s__%s" % (base, label), "text": derive(c["text"]),
                          "expected": c["expected"]})


def write_corpus():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    os.makedirs(CORPUS)
    derive_variants()
    for c in CASES:
        with open(os.path.join(CORPUS, c["name"] + ".txt"), "w") as f:
            f.write(c["text"])
        with open(os.path.join(CORPUS, c["name"] + ".expected.json"), "w") as f:
            json.dump(c["expected"], f, indent=2, sort_keys=True)
            f.write("\n")
    print("%d cases in %s (requests %s, urllib3 %s, aiohttp %s, %s)" % (
        len(CASES), CORPUS, requests.__version__, urllib3.__version__,
        AIOHTTP_VERSION[0] if AIOHTTP_VERSION else "not installed",
        subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0]))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        pki = Pki(tmp)
        hole, filler = requests_cases(pki)
        unreachable_cases()
        curl_cases(pki, hole.getsockname()[1])
        httpx_cases(pki, hole.getsockname()[1])
        aiohttp_cases(pki, hole.getsockname()[1])
        STOP.set()
        filler.close()
        hole.close()
    # The texts name the generator's temporary directory in curl's command lines.
    for c in CASES:
        c["text"] = c["text"].replace(tmp, "/tmp/explain-corpus")
        # Tracebacks name this script by its path: keep the checkout's own path out of the corpus.
        c["text"] = c["text"].replace(REPO + os.sep, "/home/dev/netpeel/")
    write_corpus()


if __name__ == "__main__":
    sys.exit(main())
