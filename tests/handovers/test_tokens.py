"""Partner links: one use, an expiry, no details for a wrong, reused or expired link, and scope per handover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handovers.helpers import link_path, token_of

DETAILS = ("tel:", "mevrouw Jansen", "WW-uitkering")


def _shows_no_details(response) -> None:
    text = response.get_data(as_text=True)
    assert not any(detail in text for detail in DETAILS), text


def test_a_link_works_once(app, make_handover, sent):
    make_handover()
    first = app.test_client().get(link_path(sent[0]))
    assert first.status_code == 200 and "tel:+31612345678" in first.get_data(as_text=True)

    for client in (app.test_client(), app.test_client()):
        again = client.get(link_path(sent[0]))
        assert again.status_code == 410
        assert "al een keer gebruikt" in again.get_data(as_text=True)
        _shows_no_details(again)


def test_a_tampered_or_made_up_link_shows_nothing(app, make_handover, sent):
    make_handover()
    token = token_of(sent[0])
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in (f"/o/{tampered}", "/o/short", f"/o/{token}x", "/o/" + "A" * 43):
        response = app.test_client().get(path)
        assert response.status_code == 404, path
        assert "Deze link klopt niet" in response.get_data(as_text=True)
        assert "nieuwe link" not in response.get_data(as_text=True)  # no resend for what is not ours
        _shows_no_details(response)
    # The real link still works: tampering did not use it up.
    assert app.test_client().get(link_path(sent[0])).status_code == 200


def test_an_expired_link_shows_nothing(app, make_handover, sent):
    make_handover(now=datetime.now(UTC) - timedelta(days=10))
    response = app.test_client().get(link_path(sent[0]))
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
    assert partner.get(link_path(sent[0])).status_code == 200
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
    app.test_client().get(first_path)
    response = app.test_client().post(first_path + "/nieuwe-link")
    assert response.status_code == 200
    assert "nieuwe link gestuurd" in response.get_data(as_text=True)
    assert [n["kind"] for n in sent] == ["handover_new", "handover_new"]
    assert sent[1]["recipient"] == sent[0]["recipient"]
    assert app.test_client().get(link_path(sent[1])).status_code == 200
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
