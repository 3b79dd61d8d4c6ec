"""The citizen's callback form in a real browser: accessible, usable by touch and without JavaScript."""

from __future__ import annotations

import re

FORM = "/l/amsterdam-centrum/terugbellen"
PHONE = "06 12345678"
REFERENCE = re.compile(r"^TB-[0-9A-Z]{4,}$")
MIN_TARGET = 44  # px, WCAG 2.5.5 target size; the brief asks it for every button and input here


def fill_and_send(page) -> str:
    """Fill in the least a citizen must, send it, and return the reference on the confirmation page."""
    page.fill("#field-phone", PHONE)
    page.check("#field-consent")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    reference = page.locator("main .reference").first.inner_text().strip()
    assert REFERENCE.match(reference), reference
    return reference


def test_empty_form(page, assert_accessible, screenshot):
    page.goto(FORM)
    assert page.locator("h1").inner_text() == "Wilt u dat wij u terugbellen?"
    assert page.locator("#field-phone").get_attribute("type") == "tel"
    assert_accessible(page)
    screenshot(page, "callback-form")


def test_submitting_nothing_names_each_problem_and_keeps_the_page_accessible(page, assert_accessible, screenshot):
    page.goto(FORM)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    texts = summary.locator("li").all_inner_texts()
    assert any("telefoonnummer" in text.lower() for text in texts), texts
    assert any("toestemming" in text.lower() for text in texts), texts
    # Each problem is also named next to its field.
    assert page.locator("#field-phone").get_attribute("aria-invalid") == "true"
    assert page.locator(".field-error").count() >= len(texts)
    assert_accessible(page)
    screenshot(page, "callback-form-errors")


def test_error_summary_links_move_focus_to_the_field(page, error_links_without_focus):
    page.goto(FORM)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary a").count() >= 2
    assert not error_links_without_focus(page)


def test_values_are_kept_after_an_error(page):
    page.goto(FORM)
    page.fill("#field-name", "mevrouw Jansen")
    page.fill("#field-note", "Over mijn huurtoeslag")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    assert page.input_value("#field-name") == "mevrouw Jansen"
    assert page.input_value("#field-note") == "Over mijn huurtoeslag"


def test_confirmation_then_withdraw(page, assert_accessible):
    page.goto(FORM)
    reference = fill_and_send(page)
    assert page.locator("h1").inner_text() == "Wij bellen u terug"
    assert_accessible(page)

    page.get_by_role("link", name="Verzoek intrekken").click()
    page.wait_for_load_state()
    assert reference in page.locator("main").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Ja, trek mijn verzoek in").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Uw verzoek is ingetrokken"
    assert_accessible(page)


def test_english_version(page, assert_accessible):
    page.goto(FORM + "?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Would you like us to call you back?"
    assert_accessible(page)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary h2").is_visible()
    assert_accessible(page)
    reference = fill_and_send(page)
    assert reference in page.locator("main").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page)


def test_language_switch_on_the_form(page):
    page.goto(FORM)
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith(FORM)
    assert page.locator("h1").inner_text() == "Would you like us to call you back?"
    page.get_by_role("link", name="Nederlands").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Wilt u dat wij u terugbellen?"


def test_works_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(FORM)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    fill_and_send(page)
    assert page.locator("h1").inner_text() == "Wij bellen u terug"


def test_touch_targets_on_a_small_phone(new_context, screenshot):
    page = new_context(viewport={"width": 375, "height": 812}, has_touch=True, is_mobile=True).new_page()
    page.goto(FORM)
    too_small = page.evaluate(
        """min => {
          const problems = [];
          const controls = 'main button, main input, main select, main textarea, .site-header__nav a';
          for (const el of document.querySelectorAll(controls)) {
            if (el.type === 'hidden' || el.closest('[aria-hidden=true]')) continue;
            // A checkbox or radio is operated through its label, which makes the target.
            const target = (el.type === 'checkbox' || el.type === 'radio') && el.labels.length
              ? el.closest('.choice') || el.labels[0] : el;
            const box = target.getBoundingClientRect();
            if (box.height < min || box.width < min)
              problems.push(`${el.tagName.toLowerCase()} ${el.id || el.name || el.textContent.trim()}: ${Math.round(box.width)}x${Math.round(box.height)}`);
          }
          return problems;
        }""",
        MIN_TARGET,
    )
    assert not too_small, f"touch targets under {MIN_TARGET}px at 375px wide: {too_small}"
    # Nothing sticks out sideways on a small phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    screenshot(page, "callback-form-375px")


def test_asking_twice_shows_the_first_request_again(page, assert_accessible):
    page.goto(FORM)
    first = fill_and_send(page)
    page.goto(FORM)
    again = fill_and_send(page)
    assert again == first
    assert page.locator("h1").inner_text() == "U had al gevraagd om teruggebeld te worden"
    assert_accessible(page)


def test_withdraw_with_a_wrong_token_explains(page, assert_accessible):
    page.goto(FORM)
    reference = fill_and_send(page)
    page.goto(f"/l/amsterdam-centrum/terugbellen/{reference}/intrekken?t=not-the-right-token")
    page.get_by_role("button", name="Ja, trek mijn verzoek in").click()
    page.wait_for_load_state()
    assert page.locator(".alert--error").is_visible()
    assert_accessible(page)


def test_unknown_location(page, assert_accessible):
    response = page.goto("/l/nergens/terugbellen")
    assert response.status == 404
    assert_accessible(page)


def test_keyboard_focus_is_always_visible(page):
    """WCAG 2.4.7: tabbing through the form, every control that takes the focus shows it."""
    page.goto(FORM)
    invisible, seen = [], set()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const el = document.activeElement, style = getComputedStyle(el);
            const shown = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
            return {name: el.tagName.toLowerCase() + ' ' + (el.id || el.name || el.textContent.trim().slice(0, 30)), shown};
        }""")
        if focused["name"] in seen:
            continue
        seen.add(focused["name"])
        if not focused["shown"]:
            invisible.append(focused["name"])
        if focused["name"].startswith("button"):
            break  # the submit button is the last stop of the form
    assert "input field-phone" in seen, seen
    assert not invisible, f"focus not visible on: {invisible}"
