"""The real notice worker process (`python -m workers notices`, as in the Procfile): it sends concurrently,
and what it was sending when it got killed goes out again through the sweeper."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import wait_until

from routing.notices import service
from routing.notices.service import Recipient, create_notice
from routing.store import notices as store
from workers import queues
from workers.jobs import sweep_stuck

ROOT = Path(__file__).resolve().parents[2]
# Bounds for waiting on a worker process (start-up included) on a busy machine; not timing assertions.
LIMIT_SECONDS = 180
CONCURRENT = 10


class Stub:
    """A local stand-in for Twilio's Messages API; `gate` decides when (and whether) each request is answered."""

    def __init__(self, gate: Callable[[], bool]) -> None:
        self.gate = gate
        self.received = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                stub.received += 1
                if not stub.gate():
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"sid": f"SM{stub.received:032d}", "status": "queued"}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the killed worker's connection is gone when its answer is written

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def start_worker(redis_url) -> Iterator[Callable[[str], subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start(twilio_url: str) -> subprocess.Popen:
        env = {**os.environ, "LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url,
               "PUBLIC_BASE_URL": "http://localhost", "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
               "TWILIO_AUTH_TOKEN": "token", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "b" * 32,
               "TWILIO_API_BASE_URL": twilio_url}
        process = subprocess.Popen([sys.executable, "-m", "workers", queues.NOTICES], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


@pytest.fixture
def app_config():
    return {"TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "TWILIO_AUTH_TOKEN": "token",
            "TWILIO_MESSAGING_SERVICE_SID": "MG" + "b" * 32}


def test_the_notice_worker_sends_many_at_once(app, redis, start_worker):
    together = threading.Barrier(CONCURRENT)

    def gate() -> bool:
        try:
            together.wait(timeout=LIMIT_SECONDS)  # only passes when CONCURRENT requests are open at once
            return True
        except threading.BrokenBarrierError:
            return False

    stub = Stub(gate)
    try:
        ids = [create_notice(redis, "callbacks_waiting", Recipient(sms="+31612345678"),
                             {"count": n + 1, "location": "Utrecht"}) for n in range(CONCURRENT)]
        start_worker(stub.url)
        wait_until(lambda: all(store.get(redis, nid)["state"] == "sent" for nid in ids), LIMIT_SECONDS,
                   "all notices sent")
        assert stub.received == CONCURRENT
    finally:
        stub.close()


def test_a_killed_workers_notice_goes_out_again_once(app, redis, start_worker, monkeypatch):
    hold = threading.Event()
    stub = Stub(lambda: hold.wait(LIMIT_SECONDS))
    try:
        nid = create_notice(redis, "handover_returned", Recipient(sms="+31612345678"), {"reference": "HO-7K3P"})
        worker = start_worker(stub.url)
        wait_until(lambda: stub.received == 1, LIMIT_SECONDS, "the send to reach the provider")
        worker.send_signal(signal.SIGKILL)  # no warm shutdown, no bookkeeping: the process is gone
        worker.wait(timeout=30)
        hold.set()
        assert store.get(redis, nid)["state"] == "sending"

        later = service.utcnow()
        monkeypatch.setattr(service, "utcnow", lambda: later.__class__.fromtimestamp(
            later.timestamp() + queues.CLAIM_LEASE_SECONDS + 1, later.tzinfo))
        assert sweep_stuck() == [nid]
        start_worker(stub.url)
        wait_until(lambda: store.get(redis, nid)["state"] == "sent", LIMIT_SECONDS,
                   "the notice to be sent after the sweep")
        stored = store.get(redis, nid)
        assert (stored["recoveries"], stored["attempts"]) == ("1", "2")
        assert stub.received == 2  # the one the killed worker had in flight, and the one sent again
    finally:
        hold.set()
        stub.close()


def test_a_worker_stopped_during_an_outage_says_so_in_one_line(monkeypatch):
    """rq waits out an outage while it works; its goodbye to Redis on a stop cannot: one line, no traceback."""
    import workers.__main__ as worker_main

    def goodbye_fails(app, names):
        raise redis_lib.ConnectionError("Error 111 connecting")

    monkeypatch.setattr(worker_main, "work", goodbye_fails)
    with pytest.raises(SystemExit) as stopped:
        worker_main.main(["notices"])
    assert str(stopped.value) == "worker for notices: stopped while redis was unavailable (ConnectionError)"
