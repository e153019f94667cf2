#!/usr/bin/env python3
"""Differential oracle for reuse mode: what a REAL `requests.Session` does when
it reuses a pooled connection after an idle gap.

The Session (trust_env=False) sends GET URL and reads the body, sleeps GAP
seconds, then sends GET URL again on the same Session, exactly as a user's code
would.  Printed as one JSON object on stdout:

  first_status     the first response's status
  outcome          "ok" or "exception" (the second request)
  second_status    the second response's status (null on an exception)
  exception        the qualified class requests raised (null on success)
  chain            the exception chain (requests_probe.exception_chain)
  connections      how many TCP connections urllib3 opened in all: 1 means the
                   second request went out on the pooled connection, 2 means
                   urllib3 found it dropped and opened a new one.

Only IP-literal URLs are meant (no name resolution happens).  Exit status 0
whenever the probe ran; 2 for usage errors.
"""

import argparse
import json
import os
import sys
import time

import requests
from urllib3.connection import HTTPConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from requests_probe import exception_chain, qualified_name  # noqa: E402

CONNECTIONS = 0
_real_connect = HTTPConnection.connect


def counting_connect(self):
    global CONNECTIONS
    CONNECTIONS += 1
    return _real_connect(self)


HTTPConnection.connect = counting_connect


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--gap", type=float, required=True, help="seconds idle between the requests")
    p.add_argument("--connect-timeout", type=float, default=5.0)
    p.add_argument("--read-timeout", type=float, default=5.0)
    p.add_argument("--retry", action="store_true",
                   help="mount the fix netpeel exports for the race: Retry(total=3, backoff_factor=0.1)")
    a = p.parse_args(argv)
    timeout = (a.connect_timeout, a.read_timeout)
    result = {"first_status": None, "outcome": None, "second_status": None,
              "exception": None, "chain": [], "connections": None}
    s = requests.Session()
    s.trust_env = False
    if a.retry:
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry
        adapter = HTTPAdapter(max_retries=Retry(total=3, backoff_factor=0.1))
        s.mount("http://", adapter)
        s.mount("https://", adapter)
    r = s.get(a.url, timeout=timeout)
    r.content  # read to the end, so the connection goes back to the pool
    result["first_status"] = r.status_code
    time.sleep(a.gap)
    try:
        r = s.get(a.url, timeout=timeout)
        r.content
        result["second_status"] = r.status_code
        result["outcome"] = "ok"
    except Exception as e:  # noqa: BLE001 - we report whatever requests raised
        result["outcome"] = "exception"
        result["exception"] = qualified_name(e)
        result["chain"] = [qualified_name(c) for c in exception_chain(e)]
    result["connections"] = CONNECTIONS
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
