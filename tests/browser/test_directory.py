"""The staff lookup in a real browser: location choice, search (with and without JavaScript), partner detail."""

from __future__ import annotations

SEARCH = "/directory/"


def test_location_choice_for_someone_with_several_locations(page, sign_in, assert_accessible):
    sign_in(page, "staff", ("amsterdam-centrum", "utrecht"))
    page.goto(SEARCH)
    assert page.url.endswith("/directory/locations")
    assert_accessible(page)
    page.get_by_role("button", name="Utrecht").first.click()
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith(SEARCH)
    assert "Utrecht" in page.locator("main").inner_text()


def test_empty_search(page, sign_in, assert_accessible):
    sign_in(page)
    page.goto(SEARCH)
    assert page.locator("h1").inner_text() == "Zoek de juiste organisatie"
    assert page.locator(".result").count() == 0
    assert_accessible(page)


def test_search_with_results_as_you_type(page, sign_in, assert_accessible, screenshot):
    sign_in(page)
    page.goto(SEARCH)
    page.fill("#q", "huurtoeslag")  # typing, no Enter: the results arrive by themselves
    page.locator("#results .result").first.wait_for()
    first = page.locator("#results .result").first
    assert "Toeslagen" in first.locator("h3").inner_text()
    assert first.locator("a.tel").get_attribute("href").startswith("tel:+31")
    assert_accessible(page)
    screenshot(page, "search-results")


def test_search_without_results(page, sign_in, assert_accessible):
    sign_in(page)
    page.goto(SEARCH + "?q=qqqxyzzy")
    assert "Niets gevonden" in page.locator("#results").inner_text()
    assert_accessible(page)


def test_search_works_without_javascript(new_context, sign_in):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page)
    page.goto(SEARCH)
    page.fill("#q", "huurtoeslag")
    page.press("#q", "Enter")
    page.wait_for_load_state()
    assert "q=huurtoeslag" in page.url
    assert "Toeslagen" in page.locator("#results .result h3").first.inner_text()


def test_partner_detail(page, sign_in, assert_accessible):
    sign_in(page)
    page.goto(SEARCH + "?q=huurtoeslag")
    page.locator("#results .result h3 a").first.click()
    page.wait_for_load_state()
    assert "/directory/partners/" in page.url
    assert page.locator("main a.tel").count() >= 1
    assert_accessible(page)


def test_english_search_page(page, sign_in, assert_accessible):
    sign_in(page)
    page.goto(SEARCH + "?q=huurtoeslag&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".result").count() >= 1
    assert_accessible(page)
