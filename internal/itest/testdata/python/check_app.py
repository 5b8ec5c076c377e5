"""Integration tests as a team without Go writes them: Python's standard
library only, the stack's URL from SLIPWAY_URL, a JUnit report written
with xml.etree.

Usage: python3 check_app.py [REPORT]   (no REPORT: no report, exit code only)
"""
import json
import os
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET

URL = os.environ["SLIPWAY_URL"]


class Skip(Exception):
    pass


def get(path):
    with urllib.request.urlopen(URL + path, timeout=5) as r:
        return r.status, r.read().decode()


def test_health():
    status, _ = get("/healthz")
    assert status == 200, f"GET /healthz: status {status}"


def test_version_reports_the_expected_commit():
    want = os.environ.get("SLIPWAY_EXPECT_COMMIT", "")
    got = json.loads(get("/version")[1])["commit"]
    assert got.startswith(want), f"GET /version reports commit {got!r}, want {want!r}"


def test_base_url_is_the_stack():
    got = os.environ.get("BASE_URL")
    assert got == URL, f"BASE_URL is {got!r}, SLIPWAY_URL {URL!r}"


def test_notes():
    if not os.environ.get("SLIPWAY_EXPECT_DATABASE"):
        raise Skip("no database on this stack")


TESTS = [test_health, test_version_reports_the_expected_commit, test_base_url_is_the_stack, test_notes]


def main():
    suite = ET.Element("testsuite", name="check_app")
    failed = 0
    for test in TESTS:
        case = ET.SubElement(suite, "testcase", classname="check_app", name=test.__name__)
        start = time.monotonic()
        try:
            test()
            print(f"ok   {test.__name__}", flush=True)
        except Skip as e:
            ET.SubElement(case, "skipped", message=str(e))
            print(f"skip {test.__name__}: {e}", flush=True)
        except Exception as e:  # a test's failure, whatever raised it
            failed += 1
            ET.SubElement(case, "failure", message=str(e)).text = f"{type(e).__name__}: {e}"
            print(f"FAIL {test.__name__}: {e}", flush=True)
        case.set("time", f"{time.monotonic() - start:.3f}")
    if len(sys.argv) > 1:
        os.makedirs(os.path.dirname(sys.argv[1]) or ".", exist_ok=True)
        root = ET.Element("testsuites")
        root.append(suite)
        ET.ElementTree(root).write(sys.argv[1], encoding="utf-8", xml_declaration=True)
    print(f"{len(TESTS)} tests, {failed} failed", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
