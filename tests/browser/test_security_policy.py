"""The Content-Security-Policy in a real browser: the pages work under it (forms post, results arrive as you
type, the stylesheet applies) and Chromium reports no violation on any of them, and no page can be framed."""

from __future__ import annotations

from typing import Any

from browser.test_citizen import FORM, fill_and_send

# Init scripts run before the page's own and are not subject to its policy (as axe-core's injection is not).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


def watched(new_context) -> Any:
    context = new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    return context.new_page()


def violations(page: Any) -> list[str]:
    return page.evaluate("() => window.__cspViolations")


def test_the_citizens_pages_work_under_the_policy(new_context):
    page = watched(new_context)
    response = page.goto(FORM)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert page.evaluate("() => getComputedStyle(document.querySelector('.site-header')).display") != "inline"
    assert violations(page) == []
    fill_and_send(page)  # form-action 'self': the post and its redirect to the confirmation
    assert violations(page) == []
    page.locator("a[href*='/intrekken']").first.click()
    page.wait_for_load_state()
    assert violations(page) == []


def test_the_staff_pages_and_results_as_you_type_work_under_the_policy(new_context, sign_in):
    page = watched(new_context)
    sign_in(page)
    assert violations(page) == []
    page.goto("/directory/")
    page.fill("#q", "huurtoeslag")  # the static script fetches the results from this site
    page.locator("#results .result").first.wait_for()
    assert violations(page) == []
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_load_state()
    assert "/login" in page.url and "U bent uitgelogd" in page.locator("main").inner_text()
    assert violations(page) == []


def test_no_page_can_be_framed(new_context, live_server):
    page = watched(new_context)
    page.goto("/login")
    page.evaluate("""url => new Promise(done => {
        const frame = document.createElement('iframe');
        frame.onload = done; frame.src = url; document.body.appendChild(frame); setTimeout(done, 3000);
    })""", live_server + FORM)
    framed = page.frames[-1]
    assert framed is not page.main_frame and framed.url != live_server + FORM  # Chromium shows its error page
