"""Spoed: a handover staff mark urgent is due sooner, and the partner reads that it is urgent, in the notice and on
its page; handed over again after a return, it stays urgent unless staff choose otherwise."""

from __future__ import annotations

import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from handovers.helpers import LOCATION, open_link
from routing.gsm7 import in_gsm7
from routing.handovers import service, views
from routing.notices.kinds import clean_context
from routing.notices.render import render

MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
URGENT_NOTICE = "Spoed: het loket vraagt u zo snel mogelijk contact op te nemen met de inwoner."


@pytest.fixture(autouse=True)
def monday(monkeypatch):
    monkeypatch.setattr(views, "_now", lambda: MONDAY_10)


def _hand_over(client, urgency: str):
    return client.post("/overdrachten/nieuw", data={"partner": "uwv", "phone": "06 12345678", "name": "mevrouw Jansen",
                                                    "urgency": urgency, "consent": "yes"})


@pytest.mark.parametrize(("urgency", "deadline"), [("urgent", date(2026, 12, 1)), ("normal", date(2026, 12, 2))])
def test_spoed_is_due_the_next_working_day_and_the_notice_says_so(client, login, redis, sent, urgency, deadline):
    login(client, "staff", locations=(LOCATION,))
    form = html.unescape(client.get("/overdrachten/nieuw").get_data(as_text=True))
    assert "Leeg laten: woensdag 2 december. Bij spoed: dinsdag 1 december." in form
    assert _hand_over(client, urgency).status_code == 302
    [notice] = sent
    assert service.get(redis, notice["context"]["reference"]).deadline == deadline
    rendered = render("handover_new", "nl", clean_context("handover_new", notice["context"]))
    assert rendered.sms.startswith("Loketlijn: Spoed! Nieuwe doorverwijzing") == (urgency == "urgent")
    assert rendered.subject.startswith("Spoed: nieuwe doorverwijzing") == (urgency == "urgent")
    assert (URGENT_NOTICE in rendered.text) == (urgency == "urgent")
    assert in_gsm7(rendered.sms) == rendered.sms and len(rendered.sms) <= 160 + 153  # two parts at most
    assert "Jansen" not in str(notice) and "12345678" not in str(notice)


@pytest.mark.parametrize("urgency", ["urgent", "normal"])
def test_the_partner_page_says_spoed_above_everything(app, make_handover, sent, urgency):
    make_handover("uwv", urgency=urgency)
    page = open_link(app.test_client(), sent[0]).get_data(as_text=True)
    assert (URGENT_NOTICE in page) == (urgency == "urgent")


def test_handed_over_again_it_stays_spoed(app, client, login, make_handover, sent):
    [handover] = make_handover("uwv", urgency="urgent")
    partner = app.test_client()
    open_link(partner, sent[0])
    partner.post(f"/overdrachten/{handover.reference}/uitkomst",
                 data={"outcome": "returned_to_loket", "note": "Niet voor ons"})
    login(client, "staff", locations=(LOCATION,))
    page = html.unescape(client.get(f"/overdrachten/{handover.reference}").get_data(as_text=True))
    again = page[page.index('href="/overdrachten/nieuw?'):].split('"')[1]
    assert "urgency=urgent" in again
    form = client.get(again).get_data(as_text=True)
    assert 'name="urgency" value="urgent" checked' in form and 'value="normal" checked' not in form
