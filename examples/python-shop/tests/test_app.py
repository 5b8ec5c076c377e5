"""Integration tests of python-shop, run against a deployed stack.

Slipway runs them with `python3 -m unittest discover -s tests -v` (test:
in slipway.yaml) from the app's directory and tells them where the stack is:

  SLIPWAY_URL           the stack's URL (required)
  SLIPWAY_HOST          the Host header to send, when SLIPWAY_URL is an address
  SLIPWAY_STACK_HEADER  sent as X-Slipway-Stack, to reach a stack before it
                        has traffic (a release is tested that way)
  SLIPWAY_EXPECT_STACK  the stack that must answer

They only read, so they may run against production. By hand:

  SLIPWAY_URL=http://127.0.0.1:5000 python3 -m unittest discover -s tests -v
"""

import json
import os
import time
import unittest
import urllib.error
import urllib.request

TIMEOUT = 10  # seconds per request
ATTEMPTS = 4  # connection errors are retried, with backoff


def get(path):
    """GET path from the stack; returns (status, headers, body)."""
    base = os.environ.get("SLIPWAY_URL", "").rstrip("/")
    if not base:
        raise AssertionError("SLIPWAY_URL is not set: run the tests with the stack's URL in it")
    headers = {}
    if os.environ.get("SLIPWAY_HOST"):
        headers["Host"] = os.environ["SLIPWAY_HOST"]
    if os.environ.get("SLIPWAY_STACK_HEADER"):
        headers["X-Slipway-Stack"] = os.environ["SLIPWAY_STACK_HEADER"]
    req = urllib.request.Request(base + path, headers=headers)
    delay = 0.25
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                return resp.status, resp.headers, resp.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("utf-8")
        except (urllib.error.URLError, ConnectionError) as e:
            if attempt == ATTEMPTS:
                raise AssertionError("GET %s%s: %s (attempt %d of %d)" % (base, path, e, attempt, ATTEMPTS))
            time.sleep(delay)
            delay *= 2


class HealthTest(unittest.TestCase):
    def test_health_answers_ok(self):
        status, headers, body = get("/health")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["status"], "ok")

    def test_the_expected_stack_answers(self):
        want = os.environ.get("SLIPWAY_EXPECT_STACK")
        if not want:
            self.skipTest("SLIPWAY_EXPECT_STACK is not set")
        status, _, body = get("/health")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["stack"], want)


class PageTest(unittest.TestCase):
    def test_home_page_shows_the_shop(self):
        status, headers, body = get("/")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/html"), headers.get("Content-Type"))
        self.assertIn("<h1>python-shop</h1>", body)
        self.assertIn('<p id="message">', body)

    def test_unknown_path_is_not_found(self):
        status, _, _ = get("/no-such-page")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
