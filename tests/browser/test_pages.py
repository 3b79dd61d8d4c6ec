"""Every page staff and partners see, in a real browser: WCAG 2.1 A/AA by axe-core, and what a person sees."""

from __future__ import annotations

import pytest

ROLES = [
    ("staff", ("amsterdam-centrum",), None),
    ("partner", (), "uwv"),
    ("coordinator", (), None),
    ("admin", (), None),
]


def test_login_page(page, assert_accessible):
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Inloggen"
    assert_accessible(page)


def test_login_errors_are_named_and_the_summary_moves_focus(page, assert_accessible):
    page.goto("/login")
    page.click("main form button[type=submit]")
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert_accessible(page)
    links = summary.locator("a")
    assert links.count() >= 1
    first = links.first
    target = first.get_attribute("href")
    first.click()
    assert page.evaluate("() => '#' + document.activeElement.id") == target


def test_anonymous_home(page, assert_accessible):
    page.goto("/")
    assert page.get_by_role("link", name="Inloggen").is_visible()
    assert_accessible(page)


@pytest.mark.parametrize(("role", "locations", "partner"), ROLES, ids=[r[0] for r in ROLES])
def test_home_for_each_role(page, sign_in, assert_accessible, role, locations, partner):
    email = sign_in(page, role, locations, partner)
    page.goto("/")
    assert email in page.locator(".site-header").inner_text()
    assert_accessible(page)


def test_not_found_page(page, assert_accessible):
    response = page.goto("/this-page-does-not-exist")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Pagina niet gevonden"
    assert "bestaat niet" in page.locator("main").inner_text()
    assert_accessible(page)


def test_language_switch(page, assert_accessible):
    page.goto("/login")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Log in"
    assert_accessible(page)
    page.goto("/")  # remembered in the session
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Nederlands").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "nl"


STAFF_PAGES = ["/directory/", "/loket/terugbelverzoeken", "/loket/terugbelverzoeken/cijfers", "/overdrachten",
               "/overdrachten/nieuw", "/notices/failed"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_in_english(page, sign_in, assert_accessible, path):
    sign_in(page)
    page.goto(path + "?lang=nl")
    dutch = page.locator("h1").inner_text()
    page.goto(path + "?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() != dutch, f"{path}: the heading is not translated"
    assert_accessible(page)


def test_skip_link_is_the_first_stop_and_moves_to_the_content(page):
    page.goto("/l/amsterdam-centrum/terugbellen")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Naar de inhoud"
    assert skip.is_visible()  # shown when focused, hidden otherwise
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def test_the_citizens_privacy_page(page, assert_accessible):
    page.goto("/l/amsterdam-centrum/terugbellen/privacy")
    assert page.locator("h1").inner_text() == "Wat wij met uw gegevens doen"
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/l/amsterdam-centrum/terugbellen", "/directory/?q=huurtoeslag",
                                  "/directory/partners/toeslagen", "/overdrachten/nieuw",
                                  "/loket/terugbelverzoeken/cijfers", "/l/amsterdam-centrum/terugbellen/privacy"])
def test_pages_reflow_at_320px_without_sideways_scrolling(new_context, sign_in, path):
    """WCAG 1.4.10: content at 320 CSS px (400% zoom of 1280px) needs no horizontal scrolling."""
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    if not path.startswith("/l/"):
        sign_in(page)
    page.goto(path)
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : ''))
        .slice(0, 5)""")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320, f"{path}: wider than 320px: {wide}"


@pytest.mark.parametrize("width", [1280, 768])
@pytest.mark.parametrize(("role", "locations"), [("staff", ("amsterdam-centrum",)),
                                                  ("staff", ("amsterdam-centrum", "amsterdam-zuidoost"))])
def test_the_figures_tables_fit_a_laptop_and_a_tablet(new_context, sign_in, assert_accessible, width, role,
                                                      locations):
    """'Hoe ze afliepen' had eight outcomes side by side and was cut off at 1280 and 768px with no sign that it
    scrolls: the outcomes (and channels) are rows now, so every count is in sight without scrolling."""
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, role, locations)
    page.goto("/loket/terugbelverzoeken/cijfers")
    for table in ("received", "ended"):
        region = page.locator(f'.table-scroll[aria-labelledby="{table}"]')
        sizes = region.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert sizes[0] <= sizes[1], f"{table} at {width}px: {sizes[0]}px of table in {sizes[1]}px"
    ended = page.locator('.table-scroll[aria-labelledby="ended"]').inner_text()
    assert "Verkeerd nummer" in ended and "Verlopen" in ended
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert_accessible(page)


def test_pages_have_an_icon_and_the_browser_asks_no_favicon_ico(page):
    answers: dict[str, int] = {}
    page.on("response", lambda response: answers.__setitem__(response.url.split("/", 3)[3], response.status))
    page.goto("/login")
    page.wait_for_load_state("networkidle")
    assert answers.get("static/favicon.svg") == 200
    assert "favicon.ico" not in answers
