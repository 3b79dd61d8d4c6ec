"""The Procfile's `web` process, started as an operator starts it: gunicorn with config/gunicorn.conf.py."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def web_command() -> list[str]:
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    program, *args = shlex.split(line.removeprefix("web:"))
    assert program == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *args]


def wait_for_health(base: str, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the web process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.1)  # polling until the server answers, not waiting a fixed time
    pytest.fail("the web process did not answer within 60 s")


@pytest.fixture
def start_web(redis_url: str, tmp_path: Path) -> Iterator:
    started: list[subprocess.Popen] = []

    def start(**extra_env: str) -> str:
        port = free_port()
        env = {**os.environ, "HOME": str(tmp_path), "REDIS_URL": redis_url, "LOKETLIJN_ENV": "development",
               "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", **extra_env}
        env.pop("XDG_RUNTIME_DIR", None)  # gunicorn's default control socket then lives under HOME
        process = subprocess.Popen(web_command(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        assert wait_for_health(base, process) == 200
        return base

    yield start
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_web_process_serves_the_citizen_form(start_web):
    base = start_web()
    with urllib.request.urlopen(f"{base}/l/utrecht/terugbellen", timeout=5) as response:
        assert response.status == 200
        assert "csrf_token" in response.read().decode()


@pytest.mark.parametrize("bind", ["0.0.0.0:{port}", "[::]:{port}", "example.org:{port}", "fd://3"])
def test_development_settings_never_listen_on_a_network(redis_url, tmp_path, bind):
    # An install that forgot LOKETLIJN_ENV=production would serve the development SECRET_KEY and outbox.
    env = {**os.environ, "HOME": str(tmp_path), "REDIS_URL": redis_url, "LOKETLIJN_ENV": "development",
           "BIND": bind.format(port=free_port()), "WEB_CONCURRENCY": "1"}
    done = subprocess.run(web_command(), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "Refusing to start: LOKETLIJN_ENV is 'development'" in done.stderr and "Traceback" not in done.stderr
    assert "Set LOKETLIJN_ENV=production" in done.stderr


def test_no_control_socket_unless_the_operator_names_one(start_web, tmp_path):
    # gunicorn 25.1+ would otherwise open one per user, which any other server of that user takes over.
    start_web()
    named = tmp_path / "web.ctl"
    start_web(WEB_CONTROL_SOCKET=str(named))
    deadline = time.monotonic() + 30  # the arbiter opens it just after its workers start
    while not named.is_socket() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert named.is_socket()
    # By now the first server has run longer than the second took to open its socket.
    assert not (tmp_path / ".gunicorn" / "gunicorn.ctl").exists()
