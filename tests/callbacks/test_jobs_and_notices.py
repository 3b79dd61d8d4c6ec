"""Scheduled jobs and the on-duty notice ("N callback requests waiting")."""

from __future__ import annotations

import json

import pytest

from callbacks.conftest import MONDAY_10, SATURDAY, at
from routing.callbacks import service
from routing.privacy import crypto


def _notices(redis) -> list[dict]:
    found = []
    for key in redis.scan_iter(match="ll:notice:*"):
        if redis.type(key) == b"hash" and redis.hget(key, "kind"):
            link = redis.hget(key, "link")  # encrypted at rest, in its own field
            found.append({"kind": redis.hget(key, "kind").decode(),
                          "context": json.loads(redis.hget(key, "context")),
                          "link": crypto.decrypt(link) if link else None})
    return found


def test_release_job_opens_due_requests_and_reports_counts(create, redis, pin_now):
    from workers import callback_jobs

    receipt = create(now=SATURDAY)
    pin_now(at(2026, 11, 30, 9, 1))
    assert callback_jobs.release_waiting() == {"utrecht": 1}
    assert service.get_status(redis, receipt.reference).state == "open"
    assert callback_jobs.release_waiting() == {}


def test_purge_job_reports_counts_only(create, redis, pin_now, caplog):
    import logging

    from workers import callback_jobs

    receipt = create(now=SATURDAY)
    pin_now(at(2026, 12, 13, 12, 0))
    with caplog.at_level(logging.INFO, logger="workers.callback_jobs"):
        assert callback_jobs.purge_expired() == {"expired": 1, "personal_deleted": 0}
    assert ("callback retention: 1 expired and their personal data deleted; personal data of 0 done past their "
            "retention deleted") in caplog.text
    from routing.store import callbacks as store

    assert receipt.reference not in caplog.text and store.count_personal(redis) == 0


def test_cron_runs_both_jobs():
    from workers import callback_jobs, cron

    scheduled = {func for func, _, _ in cron.SCHEDULE}
    assert {callback_jobs.release_waiting, callback_jobs.tell_later_arrivals, callback_jobs.purge_expired} <= scheduled


def test_arrival_and_release_notify_the_on_duty_channel_without_personal_data(create, redis):
    pytest.importorskip("routing.notices.service")
    create(now=MONDAY_10, name="Jan")  # present: open at once, arrival notice
    create(now=SATURDAY, phone="0611111111")
    create(now=SATURDAY, phone="0622222222")
    service.release_waiting(redis, now=at(2026, 11, 30, 9, 0))
    notices = [n for n in _notices(redis) if n["kind"] == "callbacks_waiting"]
    counts = sorted(n["context"]["count"] for n in notices)
    assert counts == [1, 3]
    for notice in notices:
        assert "Utrecht" in notice["context"]["location"]
        assert "Jan" not in json.dumps(notice) and "0611111111" not in json.dumps(notice)


def test_arrival_notices_are_coalesced_and_the_later_arrivals_told_when_the_window_is_over(create, redis):
    pytest.importorskip("routing.notices.service")
    from routing.store import callbacks as store

    create(now=MONDAY_10, phone="0611111111")
    create(now=MONDAY_10, phone="0622222222")
    create(now=MONDAY_10, phone="0633333333")
    assert [n["context"]["count"] for n in _notices(redis) if n["kind"] == "callbacks_waiting"] == [1]
    # Within the window nothing more is sent.
    assert service.tell_later_arrivals(redis) == {}
    redis.delete(store.ARRIVAL_NOTICE.format(location="utrecht"))  # the five minutes are over
    assert service.tell_later_arrivals(redis) == {"utrecht": 3}
    assert sorted(n["context"]["count"] for n in _notices(redis) if n["kind"] == "callbacks_waiting") == [1, 3]
    # Told once: no new arrivals, no new notice.
    redis.delete(store.ARRIVAL_NOTICE.format(location="utrecht"))
    assert service.tell_later_arrivals(redis) == {}


def test_without_public_base_url_the_release_still_notifies_with_a_full_link(create, redis, app):
    pytest.importorskip("routing.notices.service")
    app.config["PUBLIC_BASE_URL"] = None  # the release job has no request to take the address from
    create(now=SATURDAY)
    assert service.release_waiting(redis, now=at(2026, 11, 30, 9, 0)) == {"utrecht": 1}
    [notice] = [n for n in _notices(redis) if n["kind"] == "callbacks_waiting"]
    assert notice["link"].startswith("http://") and "/loket/terugbelverzoeken" in notice["link"]


def test_a_notice_that_cannot_be_made_breaks_neither_intake_nor_release(create, redis, monkeypatch, caplog):
    notices = pytest.importorskip("routing.notices.service")

    def refuse(*args, **kwargs):
        raise notices.NoticeContextError("a notice needs at least one address (sms, whatsapp or email)")

    monkeypatch.setattr(notices, "create_notice", refuse)
    receipt = create(now=SATURDAY)
    assert service.release_waiting(redis, now=at(2026, 11, 30, 9, 0)) == {"utrecht": 1}
    assert service.get_status(redis, receipt.reference).state == "open"
    assert create(now=MONDAY_10, phone="0633333333").status == "open"
    assert "on-duty notice for utrecht not created (NoticeContextError" in caplog.text


def test_a_location_staffed_sooner_than_planned_gets_its_waiting_requests_at_once(create, redis, monkeypatch):
    """Saturday's requests wait for Monday 09:00; a presence exception for this Saturday afternoon (added in the
    directory) releases them now, with the on-duty notice. Another location, not staffed, keeps its plan."""
    import dataclasses
    from datetime import date, time

    from routing.directory.model import Interval

    pytest.importorskip("routing.notices.service")
    waiting = create(now=SATURDAY)
    elsewhere = create(now=SATURDAY, location="enschede")
    planned = service.get_status(redis, elsewhere.reference).release
    assert service.release_waiting(redis, now=at(2026, 11, 28, 14, 30)) == {}  # nobody there yet

    location_for = service.location_for
    utrecht = location_for("utrecht")
    presence = dataclasses.replace(utrecht.presence, exceptions={**utrecht.presence.exceptions,
                                                                 date(2026, 11, 28): (Interval(time(14), time(17)),)})
    staffed = dataclasses.replace(utrecht, presence=presence)
    monkeypatch.setattr(service, "location_for", lambda location_id: staffed if location_id == "utrecht"
                        else location_for(location_id))

    assert service.release_waiting(redis, now=at(2026, 11, 28, 14, 31)) == {"utrecht": 1}
    assert service.get_status(redis, waiting.reference).state == "open"
    after = service.get_status(redis, elsewhere.reference)
    assert after.state == "waiting" and after.release == planned  # not due: not moved either
    assert [n["context"]["count"] for n in _notices(redis) if n["kind"] == "callbacks_waiting"] == [1]


def test_a_waiting_request_of_a_location_gone_from_the_directory_does_not_stop_the_release(create, redis,
                                                                                           monkeypatch):
    from routing.errors import NotFound

    gone = create(now=SATURDAY, location="enschede")
    waiting = create(now=SATURDAY)
    location_for = service.location_for

    def without_enschede(location_id):
        if location_id == "enschede":
            raise NotFound("gone")
        return location_for(location_id)

    monkeypatch.setattr(service, "location_for", without_enschede)
    assert service.release_waiting(redis, now=at(2026, 12, 1, 10, 0)) == {"utrecht": 1}
    assert service.get_status(redis, waiting.reference).state == "open"
    assert service.get_status(redis, gone.reference).state == "waiting"  # the purge job expires it in time


def _waiting_texts(redis, locale: str = "nl") -> list[str]:
    """The first line of each "N waiting" SMS the on-duty employee got (sorted: notices keep no order)."""
    from routing.notices.render import render

    notices = [n for n in _notices(redis) if n["kind"] == "callbacks_waiting"]
    return sorted(render("callbacks_waiting", locale, n["context"]).sms.splitlines()[0] for n in notices)


@pytest.fixture
def employee(redis, make_user):
    from routing.auth import service as auth

    return auth.principal_for_user(redis, make_user("staff", ("utrecht",)))


def test_the_release_notice_counts_only_what_nobody_is_working_on(create, redis, employee):
    """Monday 09:00: a colleague is already calling back a request that came in earlier; the two released
    from the weekend are what waits for someone."""
    pytest.importorskip("routing.notices.service")
    create(now=SATURDAY, phone="0611111111")
    create(now=SATURDAY, phone="0622222222")
    early = create(now=at(2026, 11, 27, 9, 30), phone="0633333333")  # Friday, open at once
    service.open_for_staff(redis, early.reference, employee, now=at(2026, 11, 30, 8, 59))
    redis.delete(*redis.keys("ll:notice:*"))
    service.release_waiting(redis, now=at(2026, 11, 30, 9, 0))
    assert _waiting_texts(redis) == ["Loketlijn: 2 terugbelverzoeken wachten bij Overheidsloket Utrecht (Stadskantoor)."]
    assert _waiting_texts(redis, "en") == [
        "Loketlijn: 2 callback requests are waiting at Overheidsloket Utrecht (Stadskantoor)."]


def test_the_arrival_notices_count_only_what_nobody_is_working_on(create, redis, employee):
    pytest.importorskip("routing.notices.service")
    from routing.store import callbacks as store

    first = create(now=MONDAY_10, phone="0611111111")
    service.open_for_staff(redis, first.reference, employee, now=MONDAY_10)
    redis.delete(store.ARRIVAL_NOTICE.format(location="utrecht"))  # the five minutes are over
    create(now=MONDAY_10, phone="0622222222")  # the first of a new window: told at once
    create(now=MONDAY_10, phone="0633333333")  # within that window: told when it is over
    redis.delete(store.ARRIVAL_NOTICE.format(location="utrecht"))
    assert service.tell_later_arrivals(redis, now=MONDAY_10) == {"utrecht": 2}
    assert _waiting_texts(redis) == ["Loketlijn: 1 terugbelverzoek wacht bij Overheidsloket Utrecht (Stadskantoor).",
                                     "Loketlijn: 1 terugbelverzoek wacht bij Overheidsloket Utrecht (Stadskantoor).",
                                     "Loketlijn: 2 terugbelverzoeken wachten bij Overheidsloket Utrecht (Stadskantoor)."]


def test_no_waiting_notice_when_everyone_was_picked_up_before_the_window_ended(create, redis, employee):
    pytest.importorskip("routing.notices.service")
    from routing.store import callbacks as store

    first = create(now=MONDAY_10, phone="0611111111")
    second = create(now=MONDAY_10, phone="0622222222")
    for receipt in (first, second):
        service.open_for_staff(redis, receipt.reference, employee, now=MONDAY_10)
    redis.delete(store.ARRIVAL_NOTICE.format(location="utrecht"))
    assert service.tell_later_arrivals(redis, now=MONDAY_10) == {}
    assert _waiting_texts(redis) == ["Loketlijn: 1 terugbelverzoek wacht bij Overheidsloket Utrecht (Stadskantoor)."]


def test_a_forgotten_claim_counts_as_waiting_again(create, redis, employee):
    """Taken more than CALLBACK_CLAIM_HOURS ago: the worklist offers it to anyone again, so it waits."""
    pytest.importorskip("routing.notices.service")
    forgotten = create(now=at(2026, 11, 27, 9, 30), phone="0633333333")  # Friday
    service.open_for_staff(redis, forgotten.reference, employee, now=at(2026, 11, 27, 9, 31))
    create(now=SATURDAY, phone="0611111111")
    redis.delete(*redis.keys("ll:notice:*"))
    service.release_waiting(redis, now=at(2026, 11, 30, 9, 0))
    assert _waiting_texts(redis) == ["Loketlijn: 2 terugbelverzoeken wachten bij Overheidsloket Utrecht (Stadskantoor)."]
