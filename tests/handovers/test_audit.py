"""Every view and change of a handover's personal data is in the audit log (Logboek dataverwerkingen)."""

from __future__ import annotations

import json

from handovers.helpers import E164, LOCATION, open_link

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _records(reference):
    from routing.extensions import get_redis
    from routing.privacy import audit

    return audit.for_reference(get_redis(), reference)


def test_create_view_attempt_and_outcome_are_recorded(app, client, login, sent):
    login(client, "staff", locations=(LOCATION,))
    response = client.post("/overdrachten/nieuw", headers={"traceparent": TRACEPARENT}, data={
        "partner": "uwv", "phone": "06 12345678", "consent": "yes"})
    reference = response.headers["Location"].rsplit("/", 1)[1]
    client.get(f"/overdrachten/{reference}")  # the loket looks at it again
    partner = app.test_client()
    open_link(partner, sent[0])
    partner.post(f"/overdrachten/{reference}/poging", data={"result": "reached"})
    partner.post(f"/overdrachten/{reference}/uitkomst", data={"outcome": "solved"})

    records = _records(reference)
    assert [r["name"] for r in records] == ["handover.create", "handover.view", "handover.view",
                                            "handover.attempt.reached", "handover.outcome.solved"]
    create, staff_view, partner_view = records[:3]
    assert create["trace_id"] == TRACE_ID  # the W3C trace of the request that caused it
    assert staff_view["attributes"]["loketlijn.actor"].startswith("user:")
    assert partner_view["attributes"]["loketlijn.actor"] == "partner-link:uwv"
    subjects = {r["attributes"]["dpl.core.data_subject_id"] for r in records}
    assert len(subjects) == 1 and E164 not in subjects and None not in subjects  # one pseudonym, not the number
    assert {r["attributes"]["dpl.core.processing_activity_id"] for r in records} == {"loketlijn-warme-overdracht"}
    assert all(r["status_code"] == "STATUS_CODE_OK" and r["span_id"] for r in records)
    # The audit stream holds no phone number in plain text.
    assert E164 not in json.dumps(records) and "12345678" not in json.dumps(records)


def test_views_without_personal_data_are_not_counted_as_access(app, make_handover, api_key, client, sent):
    [handover] = make_handover("uwv")
    client.get(f"/api/v1/handovers/{handover.reference}", headers=api_key("coordinator"))
    assert [r["name"] for r in _records(handover.reference)] == ["handover.create"]
    client.get(f"/api/v1/handovers/{handover.reference}", headers=api_key("partner", partner="uwv"))
    assert [r["name"] for r in _records(handover.reference)] == ["handover.create", "handover.view"]


def test_a_coordinator_lists_all_accesses_to_one_reference(app, client, login, make_handover, api_key, sent):
    [handover] = make_handover("uwv")
    open_link(app.test_client(), sent[0])
    login(client, "coordinator")
    page = client.get(f"/logboek?reference={handover.reference.lower()}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "handover.create" in text and "handover.view" in text and "partner-link:uwv" in text
    # In words for whoever reads it without knowing the code, the code beside it for the export and the API.
    assert "Overdracht gemaakt <small><code>handover.create</code></small>" in text
    assert "Gegevens van de overdracht bekeken <small><code>handover.view</code></small>" in text
    assert "UWV, via de link in het bericht <small>(partner-link:uwv)</small>" in text
    body = client.get(f"/api/v1/audit/{handover.reference}", headers=api_key("coordinator")).json
    assert [r["name"] for r in body["records"]] == ["handover.create", "handover.view"]
    for role in ("staff", "partner"):
        headers = api_key(role, locations=(LOCATION,), partner="uwv")
        assert client.get(f"/api/v1/audit/{handover.reference}", headers=headers).status_code == 403


def test_export_writes_json_lines_since_a_moment(app, make_handover, sent):
    make_handover("uwv")
    runner = app.test_cli_runner()
    everything = runner.invoke(args=["audit", "export"])
    assert everything.exit_code == 0, everything.output
    lines = [json.loads(line) for line in everything.stdout.splitlines() if line.startswith("{")]
    assert [line["name"] for line in lines] == ["handover.create"]
    for since in ("2999-01-01", "2999-01-01T07:00:00+01:00", "32503680000"):
        later = runner.invoke(args=["audit", "export", "--since", since])
        assert later.exit_code == 0 and not [line for line in later.stdout.splitlines() if line.startswith("{")]
    earlier = runner.invoke(args=["audit", "export", "--since", "2000-01-01T00:00:00Z"])
    assert [json.loads(line)["name"] for line in earlier.stdout.splitlines() if line.startswith("{")] == [
        "handover.create"]
    wrong = runner.invoke(args=["audit", "export", "--since", "last tuesday"])
    assert wrong.exit_code != 0 and "ISO 8601" in wrong.output


def test_an_export_of_a_quiet_day_still_writes_its_file(app, tmp_path):
    # A daily archive job looks for the file: none at all read as a failed export.
    target = tmp_path / "audit-2999-01-01.jsonl"
    result = app.test_cli_runner().invoke(args=["audit", "export", "--since", "2999-01-01", "--output", str(target)])
    assert result.exit_code == 0 and "0 records" in result.output
    assert target.read_text() == ""


def test_the_trace_goes_with_the_jobs_a_request_causes(app, client, api_key, sent):
    from rq import Queue

    from routing.extensions import get_redis
    from workers import queues

    client.post("/api/v1/handovers", headers=api_key("staff", locations=(LOCATION,)) | {"traceparent": TRACEPARENT},
                json={"location": LOCATION, "partner": "uwv", "phone": "06 12345678", "consent": True})
    [job] = Queue(queues.NOTICES, connection=get_redis()).get_jobs()
    assert job.meta["traceparent"].split("-")[1] == TRACE_ID


def test_a_traced_job_runs_inside_its_callers_trace(app):
    from rq import Queue, SimpleWorker

    from routing.extensions import get_redis
    from workers.tracing import META_KEY

    queue = Queue("jobs", connection=get_redis())
    job = queue.enqueue("tests.handovers.tracing_probe.current_trace", meta={META_KEY: TRACEPARENT})
    SimpleWorker([queue], connection=get_redis()).work(burst=True)
    job.refresh()
    assert job.return_value() == TRACE_ID


def test_a_failed_read_is_recorded_as_an_error(app, client, login, make_handover, redis, sent):
    from routing.store import handovers as store

    [handover] = make_handover("uwv")
    redis.hset(store.PERSONAL.format(ref=handover.reference), "phone", "not-a-fernet-token")
    login(client, "staff", locations=(LOCATION,))
    response = client.get(f"/overdrachten/{handover.reference}")
    assert response.status_code == 500 and "not-a-fernet-token" not in response.get_data(as_text=True)
    view = _records(handover.reference)[-1]
    assert view["name"] == "handover.view" and view["status_code"] == "STATUS_CODE_ERROR"


def test_the_logboek_names_accounts_and_shows_local_time(app, client, login, make_user, redis):
    from datetime import UTC, datetime

    from routing.auth import service as auth
    from routing.privacy import audit

    email = make_user("staff", ("utrecht",))
    account = auth.principal_for_user(redis, email)
    audit.record(redis, action="callback.view", activity="callbacks", actor=account.id, subject=None,
                 reference="TB-LOG1", started_at=datetime(2026, 11, 30, 9, 12, 3, tzinfo=UTC))
    audit.record(redis, action="callback.expire", activity="retention", actor="system:retention", subject=None,
                 reference="TB-LOG1", started_at=datetime(2026, 12, 14, 9, 0, tzinfo=UTC))
    login(client, "coordinator")
    page = client.get("/logboek?reference=TB-LOG1").get_data(as_text=True)
    assert "Loketlijn zelf (automatisch) <small>(system:retention)</small>" in page
    assert "Verlopen, gegevens gewist <small><code>callback.expire</code></small>" in page
    assert f"{email} <small>({account.id})</small>" in page
    assert "Terugbelverzoek geopend door een medewerker <small><code>callback.view</code></small>" in page
    assert "30-11-2026 10:12:03" in page  # Amsterdam time, not UTC
