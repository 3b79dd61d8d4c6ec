"""/metrics: what an operator's Prometheus needs to see, also while Redis is down."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rq import Worker
from prometheus_client import CollectorRegistry, generate_latest
from rq.utils import utcformat

from routing import create_app
from routing.notices.service import Recipient, create_notice
from routing.ops import metrics
from routing.store import notices as notice_store
from routing.store import scheduler as scheduler_store
from routing.store.notices import Change
from workers import cron, queues

TOKEN = "scrape-me"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}
DEMO_DIRECTORY = Path(__file__).resolve().parents[2] / "config" / "directory"


@pytest.fixture
def app_config() -> dict:
    return {"METRICS_TOKEN": TOKEN}


def scrape(client) -> dict[str, float]:
    """The samples of one scrape, by name with labels as written ('loketlijn_workers{queue="jobs"}')."""
    response = client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse(response.get_data(as_text=True))


def parse(exposition: str) -> dict[str, float]:
    samples = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_answer_while_redis_is_down(tmp_path):
    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": f"unix://{tmp_path}/nothing.sock",
                      "METRICS_TOKEN": TOKEN})
    samples = scrape(app.test_client())
    assert samples["loketlijn_redis_up"] == 0
    # Nothing read from Redis is reported (no zeros that look like an empty queue) ...
    assert not [name for name in samples if name.startswith(("loketlijn_queue_jobs", "loketlijn_workers",
                                                              "loketlijn_notices", "loketlijn_scheduler"))]
    # ... but what this process knows by itself is.
    assert samples["loketlijn_directory_loaded_timestamp_seconds"] > 0


def test_metrics_while_redis_is_down_still_need_the_token(tmp_path):
    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": f"unix://{tmp_path}/nothing.sock",
                      "METRICS_TOKEN": TOKEN})
    response = app.test_client().get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert response.status_code in (401, 503)  # no principal without Redis: never the metrics
    assert "loketlijn_" not in response.get_data(as_text=True)


def test_redis_up(client):
    assert scrape(client)["loketlijn_redis_up"] == 1


def test_notices_by_state(app, client, redis):
    now = datetime.now(UTC)
    pending = create_notice(redis, "handover_returned", Recipient(sms="+31612345678"), {"reference": "HO-7K3P"})
    failed = create_notice(redis, "handover_returned", Recipient(sms="+31612345679"), {"reference": "HO-7K3Q"})
    notice_store.update(redis, failed, lambda current: Change(fields={"state": notice_store.FAILED_STATE,
                                                                      "failure": "permanent"}), now)
    # A failure older than a notice is kept: its record is gone, its entry in the index not yet.
    redis.zadd(notice_store.FAILED, {"long-gone": (now - timedelta(days=8)).timestamp()})
    samples = scrape(client)
    assert samples['loketlijn_notices{state="pending"}'] == 1
    assert samples['loketlijn_notices{state="failed"}'] == 1
    assert samples["loketlijn_notices_overdue"] == 0

    # The sweeper did not look at it when it should have, three minutes ago (the scheduler is not running).
    redis.zadd(notice_store.PENDING, {pending: (now - timedelta(minutes=3)).timestamp()})
    assert scrape(client)["loketlijn_notices_overdue"] == 1


def test_workers_per_queue_and_only_the_live_ones(app, client, redis):
    Worker([queues.NOTICES], connection=redis, name="notices-live").register_birth()
    Worker(list(queues.ALL), connection=redis, name="both-live").register_birth()
    # Killed (SIGKILL) a minute and a half ago: rq keeps its key until it expires, but its heartbeat stopped.
    dead = Worker([queues.JOBS], connection=redis, name="jobs-dead")
    dead.register_birth()
    redis.hset(dead.key, "last_heartbeat", utcformat(datetime.now(UTC) - timedelta(seconds=90)))
    samples = scrape(client)
    assert samples['loketlijn_workers{queue="notices"}'] == 2
    assert samples['loketlijn_workers{queue="jobs"}'] == 1
    # As silent, but running a job: a jobs worker does not beat during one (up to its timeout).
    redis.hset(dead.key, "state", "busy")
    assert scrape(client)['loketlijn_workers{queue="jobs"}'] == 2
    redis.hset(dead.key, "last_heartbeat", utcformat(datetime.now(UTC) - timedelta(minutes=4)))
    assert scrape(client)['loketlijn_workers{queue="jobs"}'] == 1


def test_the_workers_beat_often_enough_to_be_counted(app, monkeypatch):
    from workers import __main__ as worker_main

    class Made(Exception):
        """Raised instead of making the worker: its arguments are all this test needs."""

    def make(*_args, **kwargs):
        raise Made(kwargs)

    for name in ("JobsWorker", "NoticesWorker"):
        monkeypatch.setattr(worker_main, name, make)
    for queue in (queues.JOBS, queues.NOTICES):
        with app.app_context(), pytest.raises(Made) as made:
            worker_main.work(app, [queue])
        assert made.value.args[0]["worker_ttl"] == metrics.WORKER_ALIVE_SECONDS


def test_the_scheduler_heartbeat_is_a_unix_timestamp(app, client, redis):
    assert scrape(client)["loketlijn_scheduler_last_tick_timestamp_seconds"] == 0  # never ticked
    before = datetime.now(UTC).timestamp()
    cron.Scheduler(connection=redis, name="test-metrics").heartbeat()  # what each tick of the scheduler does
    tick = scrape(client)["loketlijn_scheduler_last_tick_timestamp_seconds"]
    assert before <= tick <= datetime.now(UTC).timestamp()
    scheduler_store.beat(redis, datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert scrape(client)["loketlijn_scheduler_last_tick_timestamp_seconds"] == datetime(
        2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()


def test_ready_without_a_scheduler(client, redis):
    assert not redis.exists(scheduler_store.HEARTBEAT)
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def directory_copy(tmp_path: Path) -> Path:
    target = tmp_path / "directory"
    shutil.copytree(DEMO_DIRECTORY, target)
    return target


def test_directory_load_and_a_failed_reload(redis_url, redis, directory_copy):
    before = datetime.now(UTC).timestamp()
    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "METRICS_TOKEN": TOKEN,
                      "DIRECTORY_PATH": str(directory_copy), "DIRECTORY_RELOAD_SECONDS": 1e-9})
    client = app.test_client()
    samples = scrape(client)
    loaded = samples["loketlijn_directory_loaded_timestamp_seconds"]
    assert before <= loaded <= datetime.now(UTC).timestamp()  # loaded by create_app (or this first scrape)
    assert samples["loketlijn_directory_last_reload_failed"] == 0

    utrecht = directory_copy / "locations" / "utrecht.yaml"
    text = utrecht.read_text(encoding="utf-8")
    assert '"+31 88 000 0504"' in text
    utrecht.write_text(text.replace('"+31 88 000 0504"', '"12345"'), encoding="utf-8")  # a broken edit
    samples = scrape(client)
    assert samples["loketlijn_directory_last_reload_failed"] == 1
    assert samples["loketlijn_directory_loaded_timestamp_seconds"] == loaded  # the last good one stays


def test_no_sample_carries_personal_data(app, client, redis):
    create_notice(redis, "handover_returned", Recipient(sms="+31612345678"), {"reference": "HO-7K3P"})
    body = client.get("/metrics", headers=SCRAPE).get_data(as_text=True)
    # The number in any form (a timestamp such as 1.764645532984e+09 holds "6" and eight digits: not a number).
    assert not re.search(r"(?<![\d.])0?6\d{8}(?!\d)|\+316|612345678|HO-7K3P", body)


def test_the_callback_queue_per_location_and_todays_counts(app, redis):
    from routing.callbacks import schemas, service
    from routing.directory.schedule import TZ

    saturday, monday = datetime(2026, 11, 28, 14, 0, tzinfo=TZ), datetime(2026, 11, 30, 10, 0, tzinfo=TZ)

    def create(now: datetime, location: str, phone: str, channel: str = "api", **fields) -> None:
        data = {"location": location, "phone": phone, "consent": True, **fields}
        service.create_request(redis, schemas.load_intake(data, channel=channel, now=now), now=now)

    create(saturday, "utrecht", "0611111111")  # made while nobody was there: held for the next shift
    create(saturday, "enschede", "0655555555")
    create(saturday, "enschede", "0623456789")
    create(monday, "utrecht", "0622222222", preferred=["2026-12-02:afternoon"])  # not due before Wednesday
    create(monday, "enschede", "0633333333")
    create(monday, "enschede", "0644444444", channel="web")
    collector = metrics.RedisCollector(lambda: redis, clock=lambda: monday + timedelta(minutes=90))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    samples = parse(generate_latest(registry).decode())
    assert samples['loketlijn_callbacks_active{location="enschede"}'] == 2
    assert samples['loketlijn_callbacks_longest_due_seconds{location="enschede"}'] == 90 * 60
    assert samples['loketlijn_callbacks_active{location="utrecht"}'] == 1
    assert samples['loketlijn_callbacks_longest_due_seconds{location="utrecht"}'] == 0  # asked for Wednesday
    assert samples['loketlijn_callbacks_waiting{location="utrecht"}'] == 1
    assert samples['loketlijn_callbacks_waiting{location="enschede"}'] == 2
    assert not [name for name in samples if name.startswith("loketlijn_callbacks_waiting{location=\"amsterdam")]
    assert samples['loketlijn_callbacks_today{channel="web",location="enschede",outcome="received"}'] == 1
    assert samples['loketlijn_callbacks_today{channel="api",location="enschede",outcome="received"}'] == 1
    assert samples['loketlijn_callbacks_today{channel="api",location="utrecht",outcome="received"}'] == 1  # Monday's


def test_the_content_type_names_its_charset_once(client):
    from prometheus_client import CONTENT_TYPE_LATEST

    response = client.get("/metrics", headers=SCRAPE)
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert response.headers["Content-Type"].count("charset") == 1


def test_open_and_overdue_handovers_per_partner(app, redis):
    from routing.auth.principal import Principal
    from routing.directory.schedule import TZ
    from routing.handovers import service

    staff = Principal(id="s1", kind="user", role="staff", locations=frozenset({"amsterdam-centrum"}),
                      email="s@example.org")
    monday, thursday = datetime(2026, 11, 30, 10, 0, tzinfo=TZ), datetime(2026, 12, 3, 10, 0, tzinfo=TZ)

    def hand_over(partner: str, now: datetime):
        data = {"location": "amsterdam-centrum", "partner": partner, "phone": "06 12345678", "name": "mevrouw X",
                "note": "Vraag", "urgency": "normal", "consent": True}
        [handover] = service.create(redis, staff, data, now)
        return handover

    hand_over("uwv", monday)  # deadline Wednesday: overdue on Thursday
    hand_over("uwv", thursday)
    finished = hand_over("uwv", monday)
    service.record_outcome(redis, finished, "solved", "p1", thursday)  # finished: no longer counted
    hand_over("toeslagen", monday - timedelta(days=7))
    service.record_outcome(redis, hand_over("belastingdienst", monday), "solved", "p1", monday)

    collector = metrics.RedisCollector(lambda: redis, clock=lambda: thursday)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    body = generate_latest(registry).decode()
    samples = parse(body)
    assert samples['loketlijn_handovers_open{partner="uwv"}'] == 2
    assert samples['loketlijn_handovers_overdue{partner="uwv"}'] == 1
    assert samples['loketlijn_handovers_open{partner="toeslagen"}'] == 1
    assert samples['loketlijn_handovers_overdue{partner="toeslagen"}'] == 1
    # A partner with nothing open is not listed; and nothing but partner names and counts.
    assert 'partner="belastingdienst"' not in body
    assert [name for name in samples if name.startswith("loketlijn_handovers")] == [
        'loketlijn_handovers_open{partner="toeslagen"}', 'loketlijn_handovers_open{partner="uwv"}',
        'loketlijn_handovers_overdue{partner="toeslagen"}', 'loketlijn_handovers_overdue{partner="uwv"}']


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN, "TWILIO_AUTH_TOKEN": "twilio-token"}])
def test_refused_twilio_webhooks_are_counted_per_hook(client):
    from twilio.request_validator import RequestValidator

    before = scrape(client)
    assert all(before[f'loketlijn_twilio_webhooks_refused_total{{hook="{hook}"}}'] == 0
               for hook in ("sms", "whatsapp", "voice", "status"))
    form = {"From": "+31612345678", "To": "+3197010000000", "Body": "hoi"}
    wrong = {"X-Twilio-Signature": RequestValidator("another-token").compute_signature(
        "http://localhost/hooks/twilio/sms", form)}
    assert client.post("/hooks/twilio/sms", data=form, headers=wrong).status_code == 403
    assert client.post("/hooks/twilio/sms", data=form).status_code == 403  # no signature at all
    assert client.post("/hooks/twilio/voice/keuze", data=form).status_code == 403
    assert client.post("/hooks/twilio/status", data={"MessageSid": "SM1"}).status_code == 403
    right = {"X-Twilio-Signature": RequestValidator("twilio-token").compute_signature(
        "http://localhost/hooks/twilio/whatsapp", form)}
    assert client.post("/hooks/twilio/whatsapp", data=form, headers=right).status_code == 200  # not counted
    after = scrape(client)
    assert {hook: after[f'loketlijn_twilio_webhooks_refused_total{{hook="{hook}"}}']
            for hook in ("sms", "whatsapp", "voice", "status")} == {"sms": 2, "whatsapp": 0, "voice": 1, "status": 1}


def test_server_errors_and_rate_limit_refusals_are_counted(app, client, api_key, monkeypatch):
    """An operator alerts on 5xx and 429 answers; every web process counts them in Redis, and only them."""
    from routing.store import responses

    before = scrape(client)
    assert before['loketlijn_http_responses_total{status="5xx"}'] == 0  # there before the first one
    assert before['loketlijn_http_responses_total{status="429"}'] == 0
    counted = []
    monkeypatch.setattr(responses, "count", lambda r, status, count=responses.count: (counted.append(status),
                                                                                       count(r, status)))

    def boom():
        raise RuntimeError("a bug")

    app.view_functions["ops.home"] = boom
    assert client.get("/").status_code == 500
    app.config.update(RATELIMIT_ENABLED=True, CALLBACK_RATE_API_KEY="1 per hour")
    kiosk = api_key("kiosk", locations=("utrecht",))
    body = {"location": "utrecht", "consent": True}
    assert client.post("/api/v1/callbacks", json=body | {"phone": "06 12345678"}, headers=kiosk).status_code == 201
    assert client.post("/api/v1/callbacks", json=body | {"phone": "06 87654321"}, headers=kiosk).status_code == 429
    assert client.get("/nergens").status_code == 404
    assert client.get("/healthz").status_code == 200
    assert counted == ["5xx", "429"]  # any other answer costs no Redis call
    after = scrape(client)
    assert after['loketlijn_http_responses_total{status="5xx"}'] == 1
    assert after['loketlijn_http_responses_total{status="429"}'] == 1


def test_an_answer_while_redis_is_down_is_not_counted_and_stays_503(tmp_path, monkeypatch):
    from routing.store import responses

    counted = []
    monkeypatch.setattr(responses, "count", lambda r, status: counted.append(status))
    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": f"unix://{tmp_path}/nothing.sock"})
    response = app.test_client().get("/api/v1/callbacks/TB-AAAA", headers={"Authorization": "Bearer ll_key"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert counted == []  # the outage is loketlijn_redis_up's; trying Redis again would only make the page wait
