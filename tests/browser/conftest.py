"""Browser harness: the app under a real WSGI server, driven by headless Chromium, checked with axe-core.

The server is werkzeug's, on 127.0.0.1 with a free port, in a thread of this process, so it shares the
test session's private Redis and the fixtures that make users. Chromium is Debian's (`make browsers`),
driven by Playwright without any browser download; axe-core comes from npm (`make node`). When either is
absent the suite skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("LOKETLIJN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Quiet, offline, reproducible. Playwright itself gives every launch a fresh temporary user-data-dir
# (it refuses a --user-data-dir argument), so no state carries over between runs.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def app_config(redis_url: str) -> dict:
    # A browser posts real forms: keep CSRF on, as in production.
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (run `make browsers`, or set LOKETLIJN_CHROMIUM)")
    if not AXE_JS.exists():
        pytest.skip(f"axe-core is missing ({AXE_JS.relative_to(ROOT)}): run `make node`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app on http://127.0.0.1:<free port>, served by werkzeug in a thread; stopped after the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base_url  # links in pages and notices point at this server
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def new_context(browser, live_server: str) -> Iterator[Callable[..., Any]]:
    """new_context(**options) → a fresh browser context on the live server (Dutch unless told)."""
    contexts = []

    def make(**options: Any):
        options = {"base_url": live_server, "locale": "nl-NL", **options}
        context = browser.new_context(**options)
        if options.get("java_script_enabled", True):
            context.add_init_script(path=str(AXE_JS))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Any:
    return new_context().new_page()


@pytest.fixture
def sign_in(make_user) -> Callable[..., str]:
    """sign_in(page, role="staff", locations=(...), partner=None): logs in through the login form."""

    def do(page: Any, role: str = "staff", locations: tuple[str, ...] = ("amsterdam-centrum",),
           partner: str | None = None) -> str:
        email = make_user(role, locations, partner)
        page.goto("/login")
        page.fill("#field-email", email)
        page.fill("#field-password", TEST_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"login as {role} failed: still on {page.url}"
        return email

    return do


def describe_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core: {len(violations)} WCAG 2.1 A/AA violation(s) on {url}"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def axe_violations(page: Any) -> list[dict]:
    page.wait_for_function("() => typeof window.axe !== 'undefined'")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return result["violations"]


@pytest.fixture
def assert_accessible() -> Callable[[Any], None]:
    """assert_accessible(page): axe-core finds no WCAG 2.1 A/AA violation on the page as it is now."""

    def check(page: Any) -> None:
        violations = axe_violations(page)
        assert not violations, describe_violations(page.url, violations)

    return check


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """LOKETLIJN_SCREENSHOTS when set (to look at them afterwards), else a temporary folder."""
    wanted = os.environ.get("LOKETLIJN_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        return Path(wanted)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def screenshot(screenshot_dir: Path) -> Callable[[Any, str], Path]:
    """screenshot(page, name): the whole page as PNG, for a person to judge (the path is printed)."""

    def take(page: Any, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    return take


@pytest.fixture
def error_links_without_focus() -> Callable[[Any], list[str]]:
    """error_links_without_focus(page): the error-summary links that, followed, leave no form control focused.

    Without JavaScript a link can only focus what its #target names, so each must name the control itself
    (for a group of choices: its first control), not a fieldset around it."""

    def check(page: Any) -> list[str]:
        problems = []
        links = page.locator(".error-summary a")
        for index in range(links.count()):
            link = links.nth(index)
            link.click()
            focused = page.evaluate("() => document.activeElement.tagName.toLowerCase() + '#' + document.activeElement.id")
            if focused.split("#")[0] not in ("input", "textarea", "select"):
                problems.append(f"{link.get_attribute('href')} leaves the focus on {focused}")
        return problems

    return check
