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


def small_targets(page) -> list[str]:
    """Every control and link on the page (in the header's menu and the main part) smaller than MIN_TARGET.
    A link inside a sentence is left out: it is part of the text (WCAG 2.5.5's "inline" exception)."""
    return page.evaluate(
        """min => {
          const problems = [];
          const controls = 'main a, main button, main input, main select, main textarea, main summary, '
            + '.site-header__nav a, .site-header__nav button';
          for (const el of document.querySelectorAll(controls)) {
            if (el.type === 'hidden' || el.closest('[aria-hidden=true]')) continue;
            if (el.tagName === 'A' && el.parentElement.textContent.trim() !== el.textContent.trim()) continue;
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
    # The summary has the focus (a screen reader starts there) and the title says something is wrong.
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.title().startswith("Fout:")
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
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.url.split("?")[0].endswith(FORM)
    assert page.locator("h1").inner_text() == "Would you like us to call you back?"
    page.get_by_role("button", name="Nederlands").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Wilt u dat wij u terugbellen?"


def test_switching_language_keeps_what_was_typed(new_context, assert_accessible):
    """With and without JavaScript: the switch sends the form, which comes back in English as typed."""
    for javascript in (True, False):
        page = new_context(java_script_enabled=javascript).new_page()
        page.goto(FORM)
        page.fill("#field-phone", "06 123")  # not a valid number yet: the switch checks nothing
        page.fill("#field-name", "mevrouw Jansen")
        page.fill("#field-note", "Over mijn\nhuurtoeslag")
        page.check("#reply_by-sms")
        page.check("#preferred-2")
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Would you like us to call you back?"
        assert page.input_value("#field-phone") == "06 123"
        assert page.input_value("#field-name") == "mevrouw Jansen"
        assert page.input_value("#field-note") == "Over mijn\nhuurtoeslag"
        assert page.is_checked("#reply_by-sms") and page.is_checked("#preferred-2")
        assert not page.is_checked("#field-consent")
        assert page.locator(".error-summary, .field-error").count() == 0
        if javascript:
            assert_accessible(page)


def test_enter_in_a_field_sends_the_request_not_the_language_switch(page):
    """The language button belongs to the form and comes first in the page; Enter must still send the form."""
    page.goto(FORM)
    page.fill("#field-phone", PHONE)
    page.check("#field-consent")
    page.press("#field-phone", "Enter")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Wij bellen u terug"
    assert REFERENCE.match(page.locator("main .reference").first.inner_text().strip())


def test_the_confirmation_survives_a_reload_and_the_language_switch(page):
    page.goto(FORM)
    reference = fill_and_send(page)
    assert page.url.endswith("/l/amsterdam-centrum/terugbellen/bevestiging")
    link = page.get_by_role("link", name="Verzoek intrekken").get_attribute("href")
    page.reload()
    assert page.locator("main .reference").inner_text() == reference
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "We will call you back"
    assert page.locator("main .reference").inner_text() == reference
    assert page.get_by_role("link", name="Withdraw request").get_attribute("href") == link


def test_withdraw_after_switching_language(page, assert_accessible):
    page.goto(FORM)
    reference = fill_and_send(page)
    page.get_by_role("link", name="Verzoek intrekken").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert "t=" in page.url and "lang=en" in page.url
    assert reference in page.locator("main").inner_text()
    page.get_by_role("button", name="Yes, withdraw my request").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Your request has been withdrawn"
    # Switching language on the outcome keeps it (the page has the link's own address).
    page.get_by_role("link", name="Nederlands").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Uw verzoek is ingetrokken"
    # Back on the withdraw link later: it says so instead of asking again.
    page.go_back()
    page.reload()
    assert page.get_by_role("button", name="Yes, withdraw my request").count() == 0
    assert page.get_by_role("button", name="Ja, trek mijn verzoek in").count() == 0
    assert_accessible(page)


def test_a_full_note_with_line_breaks_is_accepted(page):
    """A line break counts once, as the citizen sees it; the browser sends it as CRLF (two characters)."""
    page.goto(FORM)
    page.locator("#field-note").click()
    for line in range(3):
        if line:
            page.keyboard.press("Enter")
        page.keyboard.type("x" * 99 if line else "x" * 100)  # 300 with the two line breaks
    fill_and_send(page)
    assert page.locator("h1").inner_text() == "Wij bellen u terug"


def test_a_pasted_note_that_is_too_long_is_named_and_kept_not_cut_off(page, assert_accessible):
    """No maxlength: it would cut pasted text off without a word, and the request would go without its end."""
    page.goto(FORM)
    assert page.locator("#field-note").get_attribute("maxlength") is None
    long_note = "Ik heb een vraag over mijn uitkering. " * 20  # 760 characters
    page.fill("#field-note", long_note)
    page.fill("#field-phone", PHONE)
    page.check("#field-consent")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#error-note").inner_text().endswith("Gebruik hooguit 300 tekens.")
    assert page.input_value("#field-note") == long_note
    assert_accessible(page)


def test_the_reference_stays_on_one_line(new_context):
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    page.goto(FORM)
    fill_and_send(page)
    reference = page.locator("main .reference").first
    assert reference.evaluate("el => getComputedStyle(el).whiteSpace") == "nowrap"
    box = reference.bounding_box()
    line_height = reference.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
    assert box["height"] < line_height * 1.5, box  # one line, not two


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
    too_small = small_targets(page)
    assert not too_small, f"touch targets under {MIN_TARGET}px at 375px wide: {too_small}"
    # Nothing sticks out sideways on a small phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    screenshot(page, "callback-form-375px")


def test_the_whole_consent_text_opens_with_a_tap_and_no_script(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(FORM)
    whole = page.get_by_text("Elke keer dat iemand uw gegevens bekijkt, schrijven wij dat op.")
    assert not whole.is_visible()
    page.get_by_text("Meer over uw gegevens: wie ze ziet en wanneer wij ze wissen").click()
    assert whole.is_visible()


def test_each_choice_row_is_one_tap_target(new_context):
    """A tap anywhere on a choice's row (box, gap, text, the space after it) reaches that choice."""
    page = new_context(viewport={"width": 375, "height": 812}, has_touch=True, is_mobile=True).new_page()
    page.goto(FORM)
    misses = page.evaluate(
        """min => {
          const misses = [];
          for (const row of document.querySelectorAll('main .choice')) {
            row.scrollIntoView({block: 'center'});
            const input = row.querySelector('input'), box = row.getBoundingClientRect();
            if (box.height < min) misses.push(`${input.id}: row ${Math.round(box.height)}px high`);
            const ys = [box.top + 2, box.top + box.height / 2, box.bottom - 2];
            const xs = [box.left + 2, input.getBoundingClientRect().right + 4, box.right - 2];
            for (const y of ys) for (const x of xs) {
              const hit = document.elementFromPoint(x, y);
              if (hit !== input && !(hit && hit.control === input))
                misses.push(`${input.id}: (${Math.round(x - box.left)}, ${Math.round(y - box.top)}) hits `
                            + (hit && `${hit.tagName}.${hit.className}`));
            }
          }
          return misses;
        }""",
        MIN_TARGET,
    )
    assert not misses, misses
    # And a real tap on the empty end of the row ticks the box.
    row = page.locator(".choice", has=page.locator("#reply_by-sms"))
    row.scroll_into_view_if_needed()
    box = row.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] - 3, box["y"] + 3)
    assert page.is_checked("#reply_by-sms")


def test_the_skip_link_is_a_full_size_target_when_it_shows(new_context):
    page = new_context(viewport={"width": 375, "height": 812}).new_page()
    page.goto(FORM)
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["height"] >= MIN_TARGET and box["width"] >= MIN_TARGET, box
    skip.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


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
    # Without the right link nobody learns whether the request exists, let alone withdraws it.
    response = page.goto(f"/l/amsterdam-centrum/terugbellen/{reference}/intrekken?t=not-the-right-token")
    assert response.status == 404
    assert page.get_by_text("Deze link om in te trekken klopt niet.").is_visible()
    # Not a dead end: the other way to withdraw, and the way back to the form, both large enough to tap.
    assert page.get_by_text("stuur INTREKKEN naar 06\u00a010000301, vanaf het telefoonnummer dat u ons gaf.").is_visible()
    assert not small_targets(page)
    assert page.get_by_role("button", name="Ja, trek mijn verzoek in").count() == 0
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
            return {name: el.tagName.toLowerCase() + ' ' + (el.id || el.name || el.textContent.trim().slice(0, 30)), shown,
                    form: el.matches('main form button[type=submit]')};
        }""")
        if focused["name"] in seen:
            continue
        seen.add(focused["name"])
        if not focused["shown"]:
            invisible.append(focused["name"])
        if focused["form"]:
            break  # the submit button is the last stop of the form
    assert "input field-phone" in seen, seen
    assert not invisible, f"focus not visible on: {invisible}"


def test_every_page_after_the_form_has_touch_targets_a_finger_hits(new_context, screenshot):
    """The confirmation, the withdrawal pages, the privacy page and a wrong link: each link on a line of its own
    ("Wat wij met uw gegevens doen", back to the form) is as easy to tap as the buttons."""
    page = new_context(viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True).new_page()
    page.goto(FORM)
    fill_and_send(page)
    seen = {"bevestiging": small_targets(page)}
    page.get_by_role("link", name="Verzoek intrekken").click()
    seen["intrekken"] = small_targets(page)
    page.get_by_role("button", name="Ja, trek mijn verzoek in").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Vul het formulier opnieuw in").is_visible()
    seen["ingetrokken"] = small_targets(page)
    screenshot(page, "withdrawn-360px")
    page.goto(FORM + "/privacy")
    seen["privacy"] = small_targets(page)
    page.goto(FORM + "/TB-AAAA/intrekken?t=wrong")
    seen["wrong link"] = small_targets(page)
    assert not any(seen.values()), f"touch targets under {MIN_TARGET}px at 360px wide: {seen}"


def test_after_klaar_back_does_not_show_the_previous_visitors_details(page):
    # The loket's tablet: the next visitor presses Back after the previous one pressed Klaar.
    page.goto(FORM)
    page.fill("#field-phone", "06 23456789")
    page.fill("#field-name", "Meneer Pietersen")
    page.check("#field-consent")
    page.click("main form button[type=submit]")
    page.get_by_role("button", name="Klaar").click()
    page.wait_for_load_state()
    for _ in range(2):
        page.go_back()
        page.wait_for_load_state()
    assert page.url.endswith(FORM)
    assert page.input_value("#field-phone") == "" and page.input_value("#field-name") == ""
    assert "Pietersen" not in page.content() and "23456789" not in page.content()
