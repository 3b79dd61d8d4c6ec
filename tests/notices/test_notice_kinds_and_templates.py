"""What a notice may say: only whitelisted context, in every kind's template, in Dutch and English."""

from __future__ import annotations

import pytest

from routing.notices.kinds import KINDS, LOCALES, NoticeContextError, clean_context
from routing.notices.render import render
from routing.notices.service import Recipient, create_notice

FULL = {
    "reference": "HO-7K3P",
    "location": "Utrecht",
    "topic": "Toeslagen & zorg",
    "deadline": "2026-12-01T16:00:00+00:00",
    "urgent": True,
    "link": "http://localhost/p/abc123",
    "count": 3,
    "references": ["HO-7K3P", "HO-9QX2"],
}


@pytest.mark.parametrize("key", ["name", "phone", "note", "email", "bsn"])
def test_personal_keys_are_refused(key):
    with pytest.raises(NoticeContextError, match=key):
        clean_context("handover_new", {**FULL, key: "Jan Jansen"})


@pytest.mark.parametrize("value", [
    "bel 06 12345678", "0612345678", "+31 6 1234 5678", "BSN 111222333", "jan@example.org", "x" * 121,
])
@pytest.mark.parametrize("key", ["topic", "location"])
def test_free_text_that_looks_personal_is_refused(key, value):
    with pytest.raises(NoticeContextError):
        clean_context("handover_new", {**FULL, key: value})


@pytest.mark.parametrize("context", [
    {**FULL, "reference": "06-12345678"},
    {**FULL, "reference": "Jan Jansen"},
    {**FULL, "references": ["HO-1", "123456789"]},
    {**FULL, "link": "http://elsewhere.example/p/abc"},
    {**FULL, "link": "http://localhost/p?phone=0612345678"},
    {**FULL, "deadline": "tomorrow"},
    {**FULL, "deadline": "2026-12-01T16:00:00"},
    {**FULL, "count": "3"},
    {**FULL, "urgent": "ja"},
])
def test_values_are_checked(context):
    with pytest.raises(NoticeContextError):
        clean_context("handover_new", context, public_base_url="http://localhost")


def test_required_keys_per_kind():
    with pytest.raises(NoticeContextError, match="link"):
        clean_context("handover_new", {"reference": "HO-7K3P", "location": "Utrecht"})
    with pytest.raises(NoticeContextError, match="unknown notice kind"):
        clean_context("birthday", {})


def test_a_refused_notice_stores_and_enqueues_nothing(app, redis):
    with pytest.raises(NoticeContextError):
        create_notice(redis, "handover_new", Recipient(sms="+31612345678"), {**FULL, "note": "ziek"})
    with pytest.raises(NoticeContextError):
        create_notice(redis, "handover_new", Recipient(), FULL)
    assert redis.keys("*") == []


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_template_renders_all_four_parts(kind, locale):
    rendered = render(kind, locale, clean_context(kind, FULL))
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.sms.startswith("Loketlijn: ")
    assert len(rendered.sms) <= 320  # at most two SMS segments
    assert rendered.text.strip()
    assert rendered.html.startswith("<!doctype html>") and f'lang="{locale}"' in rendered.html
    if kind != "callbacks_waiting":
        assert "HO-7K3P" in rendered.text


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_templates_need_nothing_beyond_the_required_keys(kind):
    minimal = {key: FULL[key] for key in KINDS[kind].required}
    for locale in LOCALES:
        assert render(kind, locale, clean_context(kind, minimal)).sms


def test_text_is_not_escaped_and_html_is():
    rendered = render("handover_new", "nl", clean_context("handover_new", FULL))
    assert "Toeslagen & zorg" in rendered.sms and "Toeslagen & zorg" in rendered.text
    assert "Toeslagen &amp; zorg" in rendered.html


def test_deadline_in_amsterdam_time_per_language():
    context = clean_context("handover_new", FULL)
    assert "dinsdag 1 december om 17:00" in render("handover_new", "nl", context).sms
    assert "Tuesday 1 December at 17:00" in render("handover_new", "en", context).sms
    day_only = clean_context("handover_new", {**FULL, "deadline": "2026-12-01"})
    assert "Neem uiterlijk dinsdag 1 december contact op." in render("handover_new", "nl", day_only).sms
    assert render("handover_reminder", "nl", day_only).subject.endswith(", uiterlijk dinsdag 1 december")


def test_unknown_locale_falls_back_to_dutch():
    assert render("handover_returned", "fr", {"reference": "HO-7K3P"}).subject.startswith("Doorverwijzing")
