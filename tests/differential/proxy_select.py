#!/usr/bin/env python3
"""Differential oracle for netpeel's proxy choice (src/engine/proxy_select.rs).

Reads a JSON list of cases on stdin:

    [{"id": "...", "url": "https://api.corp.test/", "env": [["HTTPS_PROXY", "http://p:3128"], ...]}, ...]

`env` is a list of [name, value] pairs, in order: it REPLACES os.environ for the case (the order
matters to urllib's getproxies_environment, which scans the environment twice).

For each case it prints (one JSON list on stdout, same order) what the REAL requests does:

  * "selected": the proxy string requests picks for the URL, exactly as its own code does it:
        proxies  = requests.utils.get_environ_proxies(url, no_proxy=None)
        selected = requests.utils.select_proxy(url, proxies)
    (null: no proxy).
  * "e2e": the same question asked end to end: a real `requests.get(url)` (trust_env on, as every
    user has it) runs through Session.request -> merge_environment_settings -> HTTPAdapter.send ->
    get_connection_with_tls_context -> proxy_manager_for, and is stopped at
    urllib3's HTTPConnectionPool.urlopen, before any socket is opened. It reports
        {"outcome": "direct"}                               no proxy,
        {"outcome": "proxy", "scheme", "host", "port", "auth": [user, password] | null}
                                                            the pool urllib3 built (auth is decoded
                                                            from requests' Proxy-Authorization),
        {"outcome": "socks_unavailable", "message"}          requests raised InvalidSchema
                                                            "Missing dependencies for SOCKS support."
                                                            (PySocks is not installed),
        {"outcome": "error", "exception", "message"}         anything else requests raised.
  * "parsed": for a selected proxy, what requests hands to urllib3 / PySocks:
    parse_url(prepend_scheme_if_needed(selected, "http")) -> scheme, host (brackets removed),
    port (null when the URL has none), and get_auth_from_url(...) -> [user, password]. Used to
    check socks proxies when PySocks is missing (its own default port is 1080).

No network traffic and no name resolution:

  * On Linux requests.utils.proxy_bypass IS urllib.request.proxy_bypass_environment (checked
    below), which is pure string matching. On macOS/Windows urllib's proxy_bypass reads the
    system configuration and may resolve names (gethostbyname); the script therefore always
    installs proxy_bypass_environment as requests' proxy_bypass, so every platform answers the
    Linux way. On Linux this patch changes nothing.
  * socket.getaddrinfo / gethostbyname / gethostbyname_ex / create_connection are replaced by
    functions that raise; a case that would touch the network shows up as an "error" outcome
    naming the guard instead of sending anything.
  * urlopen is stopped before the pool opens a connection.

Exit status: 0 when it ran (whatever requests did); 2 on bad input.
"""

import base64
import json
import os
import socket
import sys
import urllib.request
from unittest import mock

import requests
import requests.utils
import urllib3
import urllib3.connectionpool
from urllib3.util import parse_url


class NetworkGuard(Exception):
    """Raised by the socket stand-ins: something tried to resolve or connect."""


def _no_network(*args, **kwargs):
    raise NetworkGuard("the oracle must not resolve names or connect: %r" % (args[:1],))


class Reached(BaseException):
    """Raised by the urlopen stand-in. BaseException so no requests/urllib3 handler wraps it."""

    def __init__(self, pool):
        super().__init__("reached urlopen")
        self.pool = pool


def _stop_at_urlopen(self, *args, **kwargs):
    raise Reached(self)


def qualified_name(exc):
    t = type(exc)
    mod = t.__module__ or ""
    return t.__qualname__ if mod == "builtins" else "%s.%s" % (mod, t.__qualname__)


def strip_brackets(host):
    if host and host.startswith("[") and host.endswith("]"):
        return host[1:-1]
    return host


def decode_basic(headers):
    value = (headers or {}).get("Proxy-Authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    assert scheme == "Basic", value
    user, _, password = base64.b64decode(token).decode("latin1").partition(":")
    return [user, password]


def end_to_end(url):
    try:
        requests.get(url, timeout=1)
    except Reached as r:
        pool = r.pool
        proxy = getattr(pool, "proxy", None)
        # With PySocks installed, a SOCKS proxy lives in the pool's connection options.
        socks = (getattr(pool, "conn_kw", None) or {}).get("_socks_options")
        if proxy is None and socks:
            # requests passes ("", "") when the URL has no credentials: nothing is sent.
            auth = None
            if socks.get("username"):
                auth = [socks.get("username"), socks.get("password") or ""]
            import socks as pysocks  # present, since the pool has SOCKS options
            v4 = socks.get("socks_version") == pysocks.PROXY_TYPE_SOCKS4
            kind = ("socks4a" if v4 else "socks5h") if socks.get("rdns") else ("socks4" if v4 else "socks5")
            return {
                "outcome": "proxy",
                "scheme": kind,
                "host": strip_brackets(socks.get("proxy_host")),
                # PySocks' default when the URL has no port.
                "port": socks.get("proxy_port") or 1080,
                "auth": auth,
            }
        if proxy is None:
            return {"outcome": "direct"}
        return {
            "outcome": "proxy",
            "scheme": proxy.scheme,
            "host": strip_brackets(proxy.host),
            "port": proxy.port,
            "auth": decode_basic(getattr(pool, "proxy_headers", None)),
        }
    except requests.exceptions.InvalidSchema as e:
        if "Missing dependencies for SOCKS support" in str(e):
            return {"outcome": "socks_unavailable", "message": str(e)}
        return {"outcome": "error", "exception": qualified_name(e), "message": str(e)}
    except Exception as e:  # noqa: BLE001 - every exception is an answer here
        return {"outcome": "error", "exception": qualified_name(e), "message": str(e)}
    return {"outcome": "error", "exception": "none", "message": "urlopen was never reached"}


def parsed_proxy(selected):
    try:
        full = requests.utils.prepend_scheme_if_needed(selected, "http")
        p = parse_url(full)
    except Exception as e:  # noqa: BLE001
        return {"error": qualified_name(e), "message": str(e)}
    user, password = requests.utils.get_auth_from_url(full)
    return {
        "scheme": p.scheme,
        "host": strip_brackets(p.host),
        "port": p.port,
        "auth": [user, password] if user else None,
    }


def run_case(case):
    url = case["url"]
    env = {}
    for name, value in case["env"]:
        env.setdefault(name, value)  # first occurrence wins, as in os.environ
    with mock.patch.dict(os.environ, env, clear=True):
        proxies = requests.utils.get_environ_proxies(url, no_proxy=None)
        selected = requests.utils.select_proxy(url, proxies)
        e2e = end_to_end(url)
    out = {"id": case["id"], "selected": selected, "e2e": e2e}
    if selected is not None:
        out["parsed"] = parsed_proxy(selected)
    return out


def main():
    try:
        cases = json.load(sys.stdin)
    except ValueError as e:
        print("bad input: %s" % e, file=sys.stderr)
        return 2
    if sys.platform.startswith("linux"):
        # The claim in the docstring: nothing to patch on Linux.
        assert requests.utils.proxy_bypass is urllib.request.proxy_bypass_environment, (
            requests.utils.proxy_bypass
        )
    patches = [
        mock.patch.object(requests.utils, "proxy_bypass", urllib.request.proxy_bypass_environment),
        mock.patch.object(socket, "getaddrinfo", _no_network),
        mock.patch.object(socket, "gethostbyname", _no_network),
        mock.patch.object(socket, "gethostbyname_ex", _no_network),
        mock.patch.object(socket, "create_connection", _no_network),
        mock.patch.object(urllib3.connectionpool.HTTPConnectionPool, "urlopen", _stop_at_urlopen),
    ]
    for p in patches:
        p.start()
    try:
        results = [run_case(c) for c in cases]
    finally:
        for p in reversed(patches):
            p.stop()
    json.dump(
        {"requests": requests.__version__, "urllib3": urllib3.__version__, "results": results},
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
