"""Helpers for the browser drivers (plain processes: Playwright's teardown hangs under eventlet,
which the test process needs for the services). A driver is `python tests/browser/drive_X.py ARGS`;
the test starts it with `drive()` from tests/browser/conftest.py and asserts it exits 0."""
import contextlib
import json
import os
import re
import time

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ARGS = ["--lang=zh-CN", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
_axe = Axe()


@contextlib.contextmanager
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def new_page(b, viewport=PHONE, javascript=True):
    # bypass_csp only so that axe-core can be injected; the pages themselves run under their CSP.
    context = b.new_context(viewport=viewport, locale="zh-CN", java_script_enabled=javascript, bypass_csp=True)
    # Generous: make test runs four test processes on two cores, and a page behind an RPC or two can
    # take seconds then. A waiter returns as soon as the page is there; only a real hang costs the minute.
    context.set_default_timeout(60000)
    page = context.new_page()
    # Intercept file choosers from the start. Playwright turns interception on when the first listener
    # comes, without waiting for it: a key press right after expect_file_chooser() could open a chooser
    # nobody intercepts (headless chromium cancels it) — seen under load as a 20 s "filechooser" timeout.
    page.on("filechooser", lambda chooser: None)
    return page


def axe(page, where):
    """No serious or critical axe-core violation on the page as it is now."""
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"axe on {where}: " + json.dumps(
        [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]} for v in bad],
        ensure_ascii=False)


def no_sideways_scroll(page, where):
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport + 1, f"{where}: page is {width}px wide in a {viewport}px viewport"


def shot(page, name):
    """A full-page screenshot into SCREENSHOT_DIR (docs/screenshots with `make screenshots`)."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def code_for(sms_path, phone, after=0):
    """The newest verification code SMS'd to `phone` (the `after`-th or later message)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            lines = open(sms_path, encoding="utf-8").read().splitlines()
        except FileNotFoundError:
            lines = []
        found = [re.search(r"(?<!\d)(\d{6})(?!\d)", m["body"]) for m in map(json.loads, lines)
                 if m["to"] == phone and "验证码" in m["body"]]
        found = [f for f in found if f]
        if len(found) > after:
            return found[-1].group(1)
        time.sleep(0.1)
    raise AssertionError(f"no SMS code for {phone}")


def count_codes(sms_path, phone):
    try:
        lines = open(sms_path, encoding="utf-8").read().splitlines()
    except FileNotFoundError:
        return 0
    return sum(1 for m in map(json.loads, lines) if m["to"] == phone and "验证码" in m["body"])
