#!/usr/bin/env python3
"""Differential oracle: do one HTTP request with the REAL Python `requests`
library and print what happened as a single JSON object on stdout.

The request itself is exactly what a typical user writes (Session with
trust_env=False, s.request(...), r.content, r.raise_for_status()).  The one
stand-in is name resolution: glibc's getaddrinfo() cannot be pointed at a DNS
server on a test port, so socket.getaddrinfo is replaced:

  * --resolve HOST:PORT:ADDR  -> returns ADDR for HOST on PORT (curl meaning),
  * --dns IP:PORT             -> every non-IP-literal name not pinned by
    --resolve is looked up (A and AAAA, UDP, 2 s per try, one retry, TCP on
    TC=1) at IP:PORT by a small stdlib DNS client, and the outcome is mapped
    to the socket.gaierror glibc would raise:
        NXDOMAIN                       -> gaierror(EAI_NONAME, "Name or service not known")
        SERVFAIL/REFUSED/NOTIMP/silence-> gaierror(EAI_AGAIN,  "Temporary failure in name resolution")
        other error rcodes (FORMERR..) -> gaierror(EAI_FAIL,   "Non-recoverable failure in name resolution")
        NOERROR without any address    -> gaierror(EAI_NODATA, "No address associated with hostname")
        answers                        -> A entries first, then AAAA (CNAMEs followed)
    Unlike glibc there is no /etc/hosts lookup and no resolv.conf search list.
  * IP literals (anything getaddrinfo accepts with AI_NUMERICHOST) and, without
    --dns, all names go to the real getaddrinfo unchanged.

Exit status: 0 whenever the probe ran (even if requests raised); 2 for usage
errors (argparse).
"""

import argparse
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import time

import requests
import urllib3

MAX_CHAIN = 10

# --------------------------------------------------------------------------
# exception naming / chain walking


def qualified_name(exc_or_type):
    t = exc_or_type if isinstance(exc_or_type, type) else type(exc_or_type)
    mod = getattr(t, "__module__", None) or ""
    qn = getattr(t, "__qualname__", t.__name__)
    if mod in ("builtins", "__builtin__", ""):
        return qn
    return "%s.%s" % (mod, qn)


def exception_chain(exc, limit=MAX_CHAIN):
    """Depth-first, pre-order walk: the exception, then for each exception its
    .reason, exception instances in .args, __cause__, __context__ (unless
    suppressed by "from None").  No repeats (by identity), at most `limit`."""
    out = []
    seen = set()

    def children(e):
        kids = []
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            kids.append(reason)
        args = getattr(e, "args", ())
        if isinstance(args, tuple):
            kids.extend(a for a in args if isinstance(a, BaseException))
        if isinstance(e.__cause__, BaseException):
            kids.append(e.__cause__)
        # "raise X from None" sets __suppress_context__: Python itself says the
        # context is not a cause (e.g. the ValueError behind urllib3's
        # "Response ended prematurely"), so it is not reported.
        if isinstance(e.__context__, BaseException) and not e.__suppress_context__:
            kids.append(e.__context__)
        return kids

    def visit(e):
        if len(out) >= limit or id(e) in seen:
            return
        seen.add(id(e))
        out.append(e)
        for k in children(e):
            visit(k)

    visit(exc)
    return out


# --------------------------------------------------------------------------
# getaddrinfo replacement

_real_getaddrinfo = socket.getaddrinfo

EAI_NODATA = getattr(socket, "EAI_NODATA", socket.EAI_NONAME)
MSG_NONAME = "Name or service not known"
MSG_AGAIN = "Temporary failure in name resolution"
MSG_NODATA = "No address associated with hostname"
MSG_FAIL = "Non-recoverable failure in name resolution"


def _norm_host(host):
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.lower().rstrip(".") if host not in (".",) else host


def _port_number(port):
    if port is None:
        return 0
    if isinstance(port, (bytes, bytearray)):
        port = bytes(port).decode("ascii", "replace")
    if isinstance(port, int):
        return port
    if port.isdigit():
        return int(port)
    try:
        return socket.getservbyname(port, "tcp")  # /etc/services, no network
    except OSError:
        raise socket.gaierror(socket.EAI_SERVICE, "Servname not supported for ai_socktype")


def _make_entries(addrs, port, family, type_, proto):
    """addrs: list of (AF, address-string).  Mimics getaddrinfo's output."""
    if type_:
        kinds = [(type_, proto)]
    else:
        kinds = [(socket.SOCK_STREAM, socket.IPPROTO_TCP),
                 (socket.SOCK_DGRAM, socket.IPPROTO_UDP),
                 (socket.SOCK_RAW, 0)]
    out = []
    for af, addr in addrs:
        if family not in (0, socket.AF_UNSPEC) and family != af:
            continue
        for st, pr in kinds:
            if not pr and st == socket.SOCK_STREAM:
                pr = socket.IPPROTO_TCP
            elif not pr and st == socket.SOCK_DGRAM:
                pr = socket.IPPROTO_UDP
            sa = (addr, port) if af == socket.AF_INET else (addr, port, 0, 0)
            out.append((socket.AddressFamily(af), socket.SocketKind(st), pr, "", sa))
    return out


def _ip_family(addr):
    ip = ipaddress.ip_address(addr)
    return socket.AF_INET6 if ip.version == 6 else socket.AF_INET


class ResolveRule:
    def __init__(self, spec):
        parts = spec.split(":", 2)
        if len(parts) != 3 or not parts[0] or not parts[1] or not parts[2]:
            raise ValueError("expected HOST:PORT:ADDR[,ADDR...], got %r" % spec)
        host, port, addrs = parts
        self.host = _norm_host(host)
        self.port = None if port == "*" else int(port)
        self.addrs = []
        for a in addrs.split(","):
            a = a.strip()
            if a.startswith("[") and a.endswith("]"):
                a = a[1:-1]
            self.addrs.append((_ip_family(a), str(ipaddress.ip_address(a))))

    def matches(self, host, port):
        return (self.host == "*" or self.host == host) and (self.port is None or self.port == port)


def _is_numeric_host(host, port):
    try:
        _real_getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
        return True
    except (socket.gaierror, UnicodeError, ValueError):
        return False


# ---- tiny DNS client ------------------------------------------------------

QTYPE_A, QTYPE_CNAME, QTYPE_AAAA = 1, 5, 28
RCODE_NOERROR, RCODE_FORMERR, RCODE_SERVFAIL, RCODE_NXDOMAIN, RCODE_NOTIMP, RCODE_REFUSED = 0, 1, 2, 3, 4, 5


def encode_qname(name):
    name = name.rstrip(".")
    try:
        raw = name.encode("ascii")
    except UnicodeEncodeError:
        raw = name.encode("idna")
    if not raw:
        return b"\x00"
    out = b""
    for label in raw.split(b"."):
        if not label or len(label) > 63:
            raise ValueError("bad label in %r" % name)
        out += struct.pack("!B", len(label)) + label
    out += b"\x00"
    if len(out) > 255:
        raise ValueError("name too long")
    return out


def build_query(qid, name, qtype):
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # RD=1, QDCOUNT=1
    return header + encode_qname(name) + struct.pack("!HH", qtype, 1)  # class IN


def decode_name(msg, off):
    """Returns (name, offset after the name in the original position)."""
    labels = []
    jumps = 0
    end = None
    while True:
        if off >= len(msg):
            raise ValueError("name runs past message")
        ln = msg[off]
        if ln & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ValueError("truncated pointer")
            ptr = ((ln & 0x3F) << 8) | msg[off + 1]
            if end is None:
                end = off + 2
            jumps += 1
            if jumps > 64 or ptr >= len(msg):
                raise ValueError("bad compression pointer")
            off = ptr
            continue
        if ln & 0xC0:
            raise ValueError("unsupported label type")
        off += 1
        if ln == 0:
            break
        if off + ln > len(msg):
            raise ValueError("label runs past message")
        labels.append(msg[off:off + ln].decode("ascii", "replace"))
        off += ln
    if end is None:
        end = off
    return ".".join(labels).lower(), end


def parse_response(msg):
    """Returns dict(id, tc, qr, rcode, answers=[(owner, type, rdata-decoded)])."""
    if len(msg) < 12:
        raise ValueError("short DNS message")
    qid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        _, off = decode_name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        owner, off = decode_name(msg, off)
        if off + 10 > len(msg):
            raise ValueError("truncated RR")
        rtype, _rclass, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if off + rdlen > len(msg):
            raise ValueError("truncated rdata")
        rdata = msg[off:off + rdlen]
        if rtype == QTYPE_A and rdlen == 4:
            answers.append((owner, rtype, socket.inet_ntop(socket.AF_INET, rdata)))
        elif rtype == QTYPE_AAAA and rdlen == 16:
            answers.append((owner, rtype, socket.inet_ntop(socket.AF_INET6, rdata)))
        elif rtype == QTYPE_CNAME:
            target, _ = decode_name(msg, off)
            answers.append((owner, rtype, target))
        off += rdlen
    return {"id": qid, "qr": bool(flags & 0x8000), "tc": bool(flags & 0x0200),
            "rcode": flags & 0x000F, "answers": answers}


def addresses_for(name, qtype, answers):
    name = name.lower().rstrip(".")
    cnames = {o: t for o, ty, t in answers if ty == QTYPE_CNAME}
    seen = set()
    while name in cnames and name not in seen and len(seen) < 16:
        seen.add(name)
        name = cnames[name]
    return [d for o, ty, d in answers if ty == qtype and o == name]


class DnsClient:
    def __init__(self, server_ip, server_port, timeout=2.0, tries=2):
        self.server = (server_ip, server_port)
        self.family = _ip_family(server_ip)
        self.timeout = timeout
        self.tries = tries

    def _tcp(self, query):
        with socket.socket(self.family, socket.SOCK_STREAM) as s:
            s.settimeout(self.timeout)
            s.connect(self.server)
            s.sendall(struct.pack("!H", len(query)) + query)

            def recv_exact(n):
                buf = b""
                while len(buf) < n:
                    chunk = s.recv(n - len(buf))
                    if not chunk:
                        raise OSError("DNS TCP connection closed")
                    buf += chunk
                return buf

            (ln,) = struct.unpack("!H", recv_exact(2))
            return recv_exact(ln)

    def query(self, name, qtypes):
        """Sends all qtypes in parallel over one UDP socket (like glibc).
        Returns {qtype: parsed-response or None (no usable reply)}."""
        pending = {}  # qtype -> (id, wire query) of the latest try
        results = {qt: None for qt in qtypes}
        sock = socket.socket(self.family, socket.SOCK_DGRAM)
        waiting = {}  # every id sent so far -> qtype (a late reply to try 1 still counts)
        try:
            for _attempt in range(self.tries):
                for qt in qtypes:
                    if results[qt] is not None:
                        continue
                    qid = random.randrange(0, 65536)
                    q = build_query(qid, name, qt)
                    pending[qt] = (qid, q)
                    waiting[qid] = qt
                    try:
                        sock.sendto(q, self.server)
                    except OSError:
                        pass  # e.g. ICMP-refused on a previous send; keep trying
                if all(v is not None for v in results.values()):
                    break
                deadline = time.monotonic() + self.timeout
                while any(v is None for v in results.values()):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    sock.settimeout(left)
                    try:
                        data, src = sock.recvfrom(65535)
                    except socket.timeout:
                        break
                    except OSError:  # ECONNREFUSED from ICMP port unreachable
                        time.sleep(min(0.05, max(left, 0)))
                        continue
                    if tuple(src[:2]) != self.server:
                        continue
                    try:
                        resp = parse_response(data)
                    except ValueError:
                        continue
                    if not resp["qr"] or resp["id"] not in waiting:
                        continue
                    qt = waiting.pop(resp["id"])
                    if results[qt] is not None:
                        continue
                    if resp["tc"]:
                        try:
                            resp = parse_response(self._tcp(pending[qt][1]))
                        except (OSError, ValueError):
                            resp = None
                    results[qt] = resp if resp is not None else {"rcode": RCODE_SERVFAIL, "answers": [], "failed": True}
        finally:
            sock.close()
        return results

    def getaddrinfo(self, host, port, family, type_, proto):
        if family == socket.AF_INET:
            qtypes = [QTYPE_A]
        elif family == socket.AF_INET6:
            qtypes = [QTYPE_AAAA]
        else:
            qtypes = [QTYPE_A, QTYPE_AAAA]
        try:
            encode_qname(host)
        except (ValueError, UnicodeError):
            raise socket.gaierror(socket.EAI_NONAME, MSG_NONAME)
        results = self.query(host, qtypes)
        addrs = []
        for qt in qtypes:
            r = results[qt]
            if r is not None and r["rcode"] == RCODE_NOERROR:
                af = socket.AF_INET if qt == QTYPE_A else socket.AF_INET6
                addrs += [(af, a) for a in addresses_for(host, qt, r["answers"])]
        if addrs:
            return _make_entries(addrs, port, family, type_, proto)
        rcodes = [None if r is None else r["rcode"] for r in results.values()]
        if RCODE_NXDOMAIN in rcodes:
            raise socket.gaierror(socket.EAI_NONAME, MSG_NONAME)
        if any(rc is None or rc in (RCODE_SERVFAIL, RCODE_REFUSED, RCODE_NOTIMP) for rc in rcodes):
            raise socket.gaierror(socket.EAI_AGAIN, MSG_AGAIN)
        if any(rc != RCODE_NOERROR for rc in rcodes):
            raise socket.gaierror(socket.EAI_FAIL, MSG_FAIL)
        raise socket.gaierror(EAI_NODATA, MSG_NODATA)


def install_resolver(rules, dns):
    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host is None:
            return _real_getaddrinfo(host, port, family, type, proto, flags)
        h = _norm_host(host)
        pnum = _port_number(port)
        for rule in rules:
            if rule.matches(h, pnum):
                entries = _make_entries(rule.addrs, pnum, family, type, proto)
                if not entries:
                    raise socket.gaierror(socket.EAI_NONAME, MSG_NONAME)
                return entries
        if dns is None or _is_numeric_host(host, port):
            return _real_getaddrinfo(host, port, family, type, proto, flags)
        return dns.getaddrinfo(h, pnum, family, type, proto)

    socket.getaddrinfo = getaddrinfo


# --------------------------------------------------------------------------
# command line


def parse_args(argv):
    p = argparse.ArgumentParser(description="Run one request with Python requests, print JSON.")
    p.add_argument("url")
    p.add_argument("--method", default="GET")
    p.add_argument("--header", action="append", default=[], metavar="'K: V'",
                   help="extra header; 'K:' (empty value) removes a default header like curl")
    p.add_argument("--connect-timeout", type=float, default=10.0)
    p.add_argument("--read-timeout", type=float, default=30.0)
    p.add_argument("--cacert")
    p.add_argument("--insecure", action="store_true")
    p.add_argument("--cert", help="client certificate (PEM) for mutual TLS, as cert=")
    p.add_argument("--key", help="its private key (PEM): cert=(CERT, KEY)")
    p.add_argument("--resolve", action="append", default=[], metavar="HOST:PORT:ADDR")
    p.add_argument("--dns", metavar="IP:PORT")
    p.add_argument("--no-raise-for-status", action="store_true")
    p.add_argument("--retries", type=int, help="mount HTTPAdapter(max_retries=Retry(total=N, ...))")
    p.add_argument("--connect-retries", type=int)
    p.add_argument("--read-retries", type=int)
    p.add_argument("--status-retries", type=int)
    p.add_argument("--backoff-factor", type=float, default=0.0)
    p.add_argument("--status-forcelist", default="")
    p.add_argument("--no-retry-after", action="store_true")
    p.add_argument("--proxy", metavar="URL",
                   help="proxy for every scheme, as Session.proxies (socks needs PySocks)")
    a = p.parse_args(argv)

    headers = {}
    for h in a.header:
        if ":" not in h:
            p.error("--header must look like 'Name: value', got %r" % h)
        k, v = h.split(":", 1)
        k, v = k.strip(), v.strip()
        if not k:
            p.error("empty header name in %r" % h)
        headers[k] = v if v else None
    a.headers = headers

    rules = []
    for spec in a.resolve:
        try:
            rules.append(ResolveRule(spec))
        except ValueError as e:
            p.error("--resolve %s: %s" % (spec, e))
    a.rules = rules

    a.dns_client = None
    if a.dns:
        spec = a.dns
        try:
            if spec.startswith("["):
                ip, _, port = spec[1:].partition("]:")
            else:
                ip, _, port = spec.rpartition(":")
            a.dns_client = DnsClient(str(ipaddress.ip_address(ip)), int(port))
        except ValueError:
            p.error("--dns expects IP:PORT (or [IPv6]:PORT), got %r" % spec)
    if a.cacert and not os.path.exists(a.cacert):
        p.error("--cacert %s: no such file" % a.cacert)
    if a.key and not a.cert:
        p.error("--key needs --cert")
    a.client_cert = (a.cert, a.key) if a.key else a.cert
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.rules or a.dns_client:
        install_resolver(a.rules, a.dns_client)
    if a.insecure:
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    verify = a.cacert if a.cacert else (not a.insecure)
    result = {"outcome": None, "status": None, "body_len": None, "elapsed_s": None,
              "exception": None, "chain": []}
    r = None
    t0 = time.monotonic()
    try:
        s = requests.Session()
        s.trust_env = False
        if a.retries is not None:
            from requests.adapters import HTTPAdapter
            from urllib3.util.retry import Retry
            retry = Retry(
                total=a.retries,
                connect=a.connect_retries,
                read=a.read_retries,
                status=a.status_retries,
                backoff_factor=a.backoff_factor,
                status_forcelist=[int(x) for x in a.status_forcelist.split(",") if x.strip()],
                respect_retry_after_header=not a.no_retry_after,
            )
            adapter = HTTPAdapter(max_retries=retry)
            s.mount("http://", adapter)
            s.mount("https://", adapter)
        proxies = {"http": a.proxy, "https": a.proxy} if a.proxy else None
        r = s.request(a.method.upper(), a.url, headers=a.headers,
                      timeout=(a.connect_timeout, a.read_timeout),
                      verify=verify, allow_redirects=True, proxies=proxies,
                      cert=a.client_cert)
        body = r.content
        result["status"] = r.status_code
        result["body_len"] = len(body)
        if not a.no_raise_for_status:
            r.raise_for_status()
        result["outcome"] = "ok"
    except Exception as e:  # noqa: BLE001 - we report whatever requests raised
        chain = exception_chain(e)
        resp = getattr(e, "response", None)
        if resp is None:
            resp = r
        result.update({
            "outcome": "exception",
            "status": getattr(resp, "status_code", None) if resp is not None else None,
            "exception": qualified_name(e),
            "chain": [qualified_name(c) for c in chain],
            "chain_messages": [str(c)[:300] for c in chain],
            "message": str(e)[:500],
        })
    result["elapsed_s"] = round(time.monotonic() - t0, 4)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
