#!/usr/bin/env python3
"""Differential oracle for netpeel's replay policies: drive a REAL urllib3 `Retry`
through a synthetic sequence of errors and responses, with no network at all.

Input (stdin): one JSON object
    {"cases": [{"name": str,
                "retry": {Retry keyword arguments: total, connect, read (int, null
                          or false), status, other, backoff_factor, backoff_max,
                          backoff_jitter, status_forcelist, allowed_methods (list
                          or null), respect_retry_after_header, raise_on_status,
                          retry_after_max},
                "method": "GET",
                "now": 1700000000.0,      # what time.time() returns
                "random": 0.5,            # what random.random() returns
                "steps": ["connect_timeout", {"status": 503, "retry_after": "2"}, ...]}]}

Error steps name the exception urllib3's connection pool would hand to
`Retry.increment(error=...)`: name_resolution, refused, new_connection,
connect_timeout, proxy_name_resolution, proxy_refused, proxy_new_connection,
proxy_connect_timeout (ProxyError wrapping those), read_timeout, protocol, ssl,
proxy_other (ProxyError wrapping an OSError). Response steps are a real
`urllib3.response.HTTPResponse` with that status and optional Retry-After.

Each step is handled as `HTTPConnectionPool.urlopen` does (requests passes
redirect=False, so redirects never reach Retry):
  error:    retries = retries.increment(method, url, error=e); retries.sleep()
  response: if retries.is_retry(method, status, bool(Retry-After)):
                retries = retries.increment(method, url, response=r)
                (MaxRetryError -> raised if raise_on_status else the response)
                retries.sleep(r)
            else the response is returned.
Whatever escapes is pushed through the real `requests.adapters.HTTPAdapter.send`
(its connection's urlopen raises it) to get the exception requests raises.
time.sleep, time.time and random.random are replaced by fakes.

Output (stdout): {"cases": [{"name": str, "decisions": [decision, ...]}]}, one
decision per step until the first stop:
    {"action": "retry", "sleep": float, "reason": "backoff" | "retry_after"}
    {"action": "stop", "outcome": "response", "status": int}
    {"action": "stop", "outcome": "raise", "exception": "requests.exceptions.X",
     "cause": "urllib3.exceptions.Y" | null}
    {"action": "stop", "outcome": "max_retries", "exception": "requests.exceptions.X",
     "reason": "urllib3.exceptions.Y", "caused_by": repr(reason)}
"""

import json
import random
import socket
import ssl
import sys
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry

URL = "http://replay.test/path"
PATH = "/path"


def qualified(t):
    mod = getattr(t, "__module__", "") or ""
    return t.__qualname__ if mod in ("builtins", "") else "%s.%s" % (mod, t.__qualname__)


def make_error(name):
    refused = lambda: NewConnectionError(  # noqa: E731
        None, "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    unreachable = lambda: NewConnectionError(  # noqa: E731
        None, "Failed to establish a new connection: [Errno 113] No route to host"
    )
    dns = lambda: NameResolutionError(  # noqa: E731
        "replay.test", None, socket.gaierror(-2, "Name or service not known")
    )
    timeout = lambda: ConnectTimeoutError(  # noqa: E731
        None, "Connection to replay.test timed out. (connect timeout=1)"
    )
    proxied = lambda inner: ProxyError("Unable to connect to proxy", inner)  # noqa: E731
    table = {
        "name_resolution": dns,
        "refused": refused,
        "new_connection": unreachable,
        "connect_timeout": timeout,
        "proxy_name_resolution": lambda: proxied(dns()),
        "proxy_refused": lambda: proxied(refused()),
        "proxy_new_connection": lambda: proxied(unreachable()),
        "proxy_connect_timeout": lambda: proxied(timeout()),
        "read_timeout": lambda: ReadTimeoutError(None, PATH, "Read timed out. (read timeout=1)"),
        "protocol": lambda: ProtocolError(
            "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")
        ),
        "ssl": lambda: SSLError(ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")),
        "proxy_other": lambda: proxied(OSError("Tunnel connection failed: 407 Proxy Authentication Required")),
    }
    return table[name]()


class _RaisingConn:
    def __init__(self, exc):
        self.exc = exc

    def urlopen(self, **_kw):
        raise self.exc


def requests_outcome(exc):
    """What requests' HTTPAdapter.send raises when urlopen raises `exc`."""
    adapter = HTTPAdapter()
    adapter.get_connection_with_tls_context = lambda *a, **k: _RaisingConn(exc)
    prepared = requests.Request("GET", URL).prepare()
    try:
        adapter.send(prepared, timeout=(1, 1))
    except Exception as e:  # noqa: BLE001 - we report whatever escapes
        inner = e.args[0] if e.args else None
        if isinstance(inner, MaxRetryError):
            return {
                "action": "stop",
                "outcome": "max_retries",
                "exception": qualified(type(e)),
                "reason": qualified(type(inner.reason)),
                "caused_by": repr(inner.reason),
            }
        return {
            "action": "stop",
            "outcome": "raise",
            "exception": qualified(type(e)),
            "cause": qualified(type(inner)) if isinstance(inner, BaseException) else None,
        }
    raise AssertionError("HTTPAdapter.send did not raise")


def run_case(case):
    method = case.get("method", "GET")
    now = float(case.get("now", 1700000000.0))
    r = float(case.get("random", 0.5))
    slept = []
    random.random = lambda: r
    time.time = lambda: now
    time.sleep = lambda s: slept.append(s)

    retries = Retry(**case["retry"])
    out = []
    for step in case["steps"]:
        del slept[:]
        if isinstance(step, dict):
            headers = {}
            if "retry_after" in step:
                headers["Retry-After"] = step["retry_after"]
            resp = HTTPResponse(body=b"", headers=headers, status=step["status"], preload_content=False)
            has_retry_after = bool(resp.headers.get("Retry-After"))
            if not retries.is_retry(method, resp.status, has_retry_after):
                out.append({"action": "stop", "outcome": "response", "status": resp.status})
                break
            try:
                new = retries.increment(method, PATH, response=resp)
            except MaxRetryError as e:
                if retries.raise_on_status:
                    out.append(requests_outcome(e))
                else:
                    out.append({"action": "stop", "outcome": "response", "status": resp.status})
                break
            retries = new
            used_retry_after = []

            def sleep_for_retry(response, _retries=retries, _flag=used_retry_after):
                slept_ra = Retry.sleep_for_retry(_retries, response)
                _flag.append(slept_ra)
                return slept_ra

            retries.sleep_for_retry = sleep_for_retry
            try:
                retries.sleep(resp)
            except InvalidHeader as e:
                out.append(requests_outcome(e))
                break
            reason = "retry_after" if any(used_retry_after) else "backoff"
            out.append({"action": "retry", "sleep": float(sum(slept)), "reason": reason})
        else:
            err = make_error(step)
            try:
                retries = retries.increment(method, PATH, error=err)
            except Exception as e:  # noqa: BLE001 - MaxRetryError or the error re-raised
                out.append(requests_outcome(e))
                break
            retries.sleep()
            out.append({"action": "retry", "sleep": float(sum(slept)), "reason": "backoff"})
    return {"name": case["name"], "decisions": out}


def main():
    real = (random.random, time.time, time.sleep)
    doc = json.load(sys.stdin)
    try:
        results = [run_case(c) for c in doc["cases"]]
    finally:
        random.random, time.time, time.sleep = real
    json.dump({"cases": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
