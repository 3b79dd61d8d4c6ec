"""Partner links: one use, an expiry, no details for a wrong, reused or expired link, and scope per handover.

Following the link (GET) only shows a page with a button; pressing it (POST) uses the link up, so a mail
filter that fetches every link first does not spend it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handovers.helpers import link_path, open_link, token_of
from routing.notices.kinds import clean_context
from routing.notices.render import render

DETAILS = ("tel:", "mevrouw Jansen", "WW-uitkering")


def _shows_no_details(response) -> None:
    text = response.get_data(as_text=True)
    assert not any(detail in text for detail in DETAILS), text


def test_a_link_works_once(app, make_handover, sent):
    make_handover()
    first = open_link(app.test_client(), sent[0])
    assert first.status_code == 200 and "tel:+31612345678" in first.get_data(as_text=True)

    for client in (app.test_client(), app.test_client()):
        for again in (client.get(link_path(sent[0])), client.post(link_path(sent[0]))):
            assert again.status_code == 410
            assert "al een keer gebruikt" in again.get_data(as_text=True)
            _shows_no_details(again)


def test_a_link_scanner_does_not_use_the_link_up(app, make_handover, sent):
    [handover] = make_handover()
    path = link_path(sent[0])
    # The mail filter fetches the link, then the person follows it: both only see the button.
    for visitor in (app.test_client(), app.test_client()):
        page = visitor.get(path)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Open de overdracht" in text and f'<form method="post" action="{path}">' in text
        assert '<meta name="robots" content="noindex">' in text
        assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
        _shows_no_details(page)
    assert [r["name"] for r in _audit(handover.reference)] == ["handover.create"]  # looking is no access

    partner = app.test_client()
    pressed = partner.post(path)
    assert pressed.status_code == 303 and pressed.headers["Location"] == f"/overdrachten/{handover.reference}"
    assert pressed.headers["Cache-Control"] == "no-store" and pressed.headers["Referrer-Policy"] == "no-referrer"
    detail = partner.get(pressed.headers["Location"])
    assert detail.status_code == 200 and "tel:+31612345678" in detail.get_data(as_text=True)
    assert [r["name"] for r in _audit(handover.reference)] == ["handover.create", "handover.view"]

    again = app.test_client().post(path)
    assert again.status_code == 410 and "al een keer gebruikt" in again.get_data(as_text=True)
    _shows_no_details(again)


def _audit(reference: str) -> list[dict]:
    from routing.extensions import get_redis
    from routing.privacy import audit

    return audit.for_reference(get_redis(), reference)


def test_a_tampered_or_made_up_link_shows_nothing(app, make_handover, sent):
    make_handover()
    token = token_of(sent[0])
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in (f"/o/{tampered}", "/o/short", f"/o/{token}x", "/o/" + "A" * 43):
        for response in (app.test_client().get(path), app.test_client().post(path)):
            assert response.status_code == 404, path
            assert "Deze link klopt niet" in response.get_data(as_text=True)
            assert "nieuwe link" not in response.get_data(as_text=True)  # no resend for what is not ours
            _shows_no_details(response)
    # The real link still works: tampering did not use it up.
    assert "tel:+31612345678" in open_link(app.test_client(), sent[0]).get_data(as_text=True)


def test_an_expired_link_shows_nothing(app, make_handover, sent):
    make_handover(now=datetime.now(UTC) - timedelta(days=10))
    for response in (app.test_client().get(link_path(sent[0])), app.test_client().post(link_path(sent[0]))):
        assert response.status_code == 410
        assert "verlopen" in response.get_data(as_text=True)
        _shows_no_details(response)


def test_a_link_expires_at_the_deadline_plus_the_margin(app, redis, make_handover, sent):
    from routing.handovers import notify, tokens

    [handover] = make_handover()
    token = token_of(sent[0])
    expiry = notify.end_of_day(handover.deadline) + timedelta(hours=app.config["HANDOVER_LINK_MARGIN_HOURS"])
    just_before = int(expiry.timestamp()) - 1
    assert tokens.inspect(redis, token, just_before).state == tokens.VALID
    assert tokens.inspect(redis, token, just_before + 2).state == tokens.EXPIRED


def test_the_link_session_covers_only_its_own_handover(app, make_handover, sent):
    [first] = make_handover("uwv")
    [second] = make_handover("svb")
    partner = app.test_client()
    assert open_link(partner, sent[0]).status_code == 200
    for response in (partner.get(f"/overdrachten/{second.reference}"),
                     partner.post(f"/overdrachten/{second.reference}/poging", data={"result": "reached"}),
                     partner.post(f"/overdrachten/{second.reference}/uitkomst", data={"outcome": "solved"})):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_page = partner.get(f"/overdrachten/{second.reference}", follow_redirects=True).get_data(as_text=True)
    assert "Log in om deze overdracht te zien" in login_page and "tel:" not in login_page
    from routing.extensions import get_redis
    from routing.handovers import service

    assert service.get(get_redis(), second.reference).status == "sent"
    assert partner.get(f"/overdrachten/{first.reference}").status_code == 200


def test_only_a_hash_of_the_token_is_stored(app, redis, make_handover, sent):
    make_handover()
    token = token_of(sent[0]).encode()
    assert not any(token in key for key in redis.keys("*"))
    assert not any(token in (redis.dump(key) or b"") for key in redis.keys("*"))


def test_a_used_link_can_ask_for_a_new_one_sent_to_the_same_channel(app, make_handover, sent):
    make_handover()
    first_path = link_path(sent[0])
    open_link(app.test_client(), sent[0])
    response = app.test_client().post(first_path + "/nieuwe-link")
    assert response.status_code == 200
    assert "nieuwe link gestuurd" in response.get_data(as_text=True)
    assert [n["kind"] for n in sent] == ["handover_new", "handover_new_link"]
    assert sent[1]["recipient"] == sent[0]["recipient"]
    # It says it is a new link for the same handover, not a second handover (which the first notice announced).
    again = render("handover_new_link", "nl", clean_context("handover_new_link", sent[1]["context"]))
    reference = sent[0]["context"]["reference"]
    assert again.subject.startswith(f"Nieuwe link voor doorverwijzing {reference}")
    assert again.sms.startswith(f"Loketlijn: nieuwe link voor doorverwijzing {reference}, dezelfde als eerder. De "
                                "vorige link werkt niet meer.")
    assert "Het is dezelfde doorverwijzing, geen nieuwe. De vorige link werkt niet meer." in again.text
    assert "Het is dezelfde doorverwijzing, geen nieuwe." in again.html
    assert "tel:+31612345678" in open_link(app.test_client(), sent[1]).get_data(as_text=True)
    # Asking again at once sends nothing more.
    again = app.test_client().post(first_path + "/nieuwe-link")
    assert "net een nieuwe link" in again.get_data(as_text=True) and len(sent) == 2


def test_a_made_up_link_cannot_ask_for_a_new_one(app, make_handover, sent):
    make_handover()
    response = app.test_client().post("/o/" + "B" * 43 + "/nieuwe-link")
    assert response.status_code == 404 and len(sent) == 1


def test_two_simultaneous_uses_let_only_one_in(app, redis, make_handover, sent):
    from routing.handovers import tokens

    make_handover()
    token = token_of(sent[0])
    now = int(datetime.now(UTC).timestamp())
    results = [tokens.redeem(redis, token, now).state for _ in range(2)]
    assert results == [tokens.VALID, tokens.USED]
