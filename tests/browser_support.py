"""The real app under `chalice local` and Debian's Chromium, for the browser tests, and the keyboard
helpers they share.

Nothing here downloads anything: Chromium is the system package at /usr/bin/chromium, and
the app runs from this checkout's virtualenv against the test session's DynamoDB Local.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page

from localdev import dynamodb
from localdev.pagecheck import axe_violations

ROOT = Path(__file__).resolve().parent.parent
CHALICE = ROOT / ".venv" / "bin" / "chalice"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-features=AutofillServerCommunication",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY_TIMEOUT = 60.0
WIDTHS = (390, 1280)
FOCUS_SHOWN = """el => {
  const style = getComputedStyle(el);
  return el.matches(':focus-visible') && style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
}"""


def start_app(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """`chalice local` on a free port with `env` on top of ours; returns the process and its base URL.

    CLOSELOOP_BASE_URL is set to the server's own address, since every link and form action
    is built from it. The process leads its own group, so `localdev.dynamodb.stop` ends it whole.
    """
    port = dynamodb.free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(CHALICE), "local", "--stage", "local", "--port", str(port), "--no-autoreload"],
            cwd=ROOT,
            env={**os.environ, **env, "CLOSELOOP_BASE_URL": base},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_http(f"{base}/dev/outbox", process, log)
    except BaseException:
        dynamodb.stop(process)
        raise
    return process, base


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = READY_TIMEOUT) -> None:
    """Poll `url` until it answers 200; between tries, wait on the process so that its exit ends the wait."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {timeout:.0f}s; server log:\n{_tail(log)}")
        try:
            code = process.wait(0.1)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"chalice local exited with code {code} before it answered; server log:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def tab_to(page: Page, target: Locator, limit: int = 150) -> None:
    """Press Tab until `target` has the focus, which must be visible; the keyboard alone reaches it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            assert target.evaluate(FOCUS_SHOWN), f"no visible focus on {target}"
            return
    raise AssertionError(f"{target} not reached with {limit} presses of Tab")


def press(page: Page, target: Locator) -> None:
    """Tab to `target` and press Enter."""
    tab_to(page, target)
    page.keyboard.press("Enter")


def new_page(browser: Browser, problems: list[str]) -> Page:
    """A fresh context at 390 px; page errors and console errors go to `problems`."""
    # bypass_csp lets axe-core's script into pages whose CSP allows only our own files
    context = browser.new_context(viewport={"width": 390, "height": 900}, accept_downloads=True, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(f"{m.text} ({m.location.get('url')})") if m.type == "error" else 0)
    return page


class Pages:
    """Every page the test visits: a screenshot at both widths and no sideways scroll; a dashboard page
    also passes axe at once and the Nu checker at the end (`html`)."""

    def __init__(self, shots: Path) -> None:
        self.shots, self.html, self.names = shots, {}, []

    def check(self, page: Page, name: str, dashboard: bool = True) -> None:
        self.names.append(name)
        if dashboard:
            self.html[name] = page.content()  # before axe adds its script to the page
            assert axe_violations(page) == [], name
            assert page.get_by_role("main").count() == 1, name
            assert page.get_by_role("link", name="Skip to the content").count() == 1, name
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=self.shots / f"{name}-{width}.png", full_page=True)
            fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, f"{name} scrolls sideways at {width} px"
        page.set_viewport_size({"width": 390, "height": 900})


class PageChecks:
    """Pages checked as a phone (or `width` px) shows them: axe-core finds nothing, nothing scrolls sideways, a
    screenshot is kept, and each page's HTML is kept in `seen` (before axe adds its script) for the Nu checker."""

    def __init__(self, folder: Path, width: int = 360) -> None:
        self.folder, self.width = folder, width
        self.seen: dict[str, str] = {}

    def __call__(self, page: Page, name: str) -> None:
        self.seen[name] = page.content()
        assert axe_violations(page) == [], name
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        page.screenshot(path=self.folder / f"{name}-{self.width}.png", full_page=True)
