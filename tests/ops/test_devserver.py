"""`make run` (routing/devserver.py), started as a real process: one environment for the banner, the demo data
and the processes (.env under the process environment), the banner once the web process answers, and a stop
(Ctrl-C or SIGTERM) that leaves no process behind and lets the workers unregister before Redis goes.

Each server gets a free port, a private var/ folder (its own embedded Redis) and a .env of the test's own.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis as redis_lib
from conftest import PrivateRedis, free_port, wait_until

from routing import devserver
from routing.devserver import PROC, command_line, descendants, is_same_process
from routing.auth import service

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 120  # two shared cores: generous, and only a bound (every wait polls a condition)
STOP_SECONDS = 60
DEMO_EMAIL, DEMO_PASSWORD = "loket@example.org", "demo-wachtwoord-2026"
BANNER = re.compile(r"^Loketlijn: (http://\S+) {3}\(Redis: (\S+)\)$")

needs_proc = pytest.mark.skipif(not (PROC / "self" / "stat").exists(), reason="needs Linux /proc")
no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def healthz(base: str) -> int:
    with no_proxy.open(f"{base}/healthz", timeout=5) as response:
        return response.status


# --- processes, from /proc: the devserver's own helpers ---------------------------------------------------------

def still_running(processes: dict[int, str]) -> dict[int, str]:
    """Of the processes found by devserver.descendants (pid → start time), those still alive: pid → command."""
    return {pid: command_line(pid) for pid, started in processes.items() if is_same_process(pid, started)}


# --- the devserver as a process --------------------------------------------------------------------------------

class DevServer:
    def __init__(self, tmp_path: Path, env_file: Path, extra_env: dict[str, str]) -> None:
        self.port = free_port()
        self.var = tmp_path / "var"
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "PUBLIC_BASE_URL", "BIND", "XDG_RUNTIME_DIR")}
        env.update({"HOME": str(tmp_path), "PORT": str(self.port), "LOKETLIJN_ENV": "development",
                    "WEB_CONCURRENCY": "1", "PYTHONUNBUFFERED": "1", **extra_env})
        # Its own session: a signal to its process group is what Ctrl-C in a terminal sends.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "routing.devserver", "--env-file", str(env_file), "--var", str(self.var)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.banner: re.Match | None = None
        self.health_at_banner: int | None = None
        self.banner_seen = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if self.banner is None and (match := BANNER.match(self.lines[-1])):
                self.banner = match
                try:  # at the moment the banner appears, the web process must already answer
                    self.health_at_banner = healthz(match.group(1))
                except OSError as error:
                    self.health_at_banner = -1
                    self.lines.append(f"(test: /healthz failed when the banner appeared: {error})")
                self.banner_seen.set()
        self.banner_seen.set()  # output ended: no banner will come

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_banner(self) -> re.Match:
        if not self.banner_seen.wait(START_SECONDS) or self.banner is None:
            pytest.fail(f"no banner (exit code {self.process.poll()}):\n{self.output[-6000:]}")
        assert self.health_at_banner == 200, self.output[-6000:]
        return self.banner

    def stop(self, signum: int, *, group: bool) -> int:
        if group:
            os.killpg(self.process.pid, signum)
        else:
            os.kill(self.process.pid, signum)
        try:
            returncode = self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the devserver did not stop within {STOP_SECONDS} s:\n{self.output[-6000:]}")
        self.reader.join(timeout=10)
        return returncode

    def kill_everything(self) -> None:
        """Clean-up after a failed test: whatever is left, by pid."""
        left = descendants(self.process.pid) if self.process.poll() is None else {}
        for pid in [self.process.pid, *left]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.process.wait(timeout=10)


@pytest.fixture
def start_devserver(tmp_path: Path):
    started: list[DevServer] = []

    def start(env_file_text: str = "", **extra_env: str) -> DevServer:
        env_file = tmp_path / "test.env"  # never the checkout's own .env
        env_file.write_text(env_file_text)
        server = DevServer(tmp_path, env_file, extra_env)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.kill_everything()


def login(base: str, email: str, password: str) -> int:
    jar = http.cookiejar.CookieJar()

    class KeepRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar),
                                         KeepRedirect)
    with opener.open(f"{base}/login", timeout=10) as response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode()).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    try:
        with opener.open(f"{base}/login", data=form, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def workers_registered(url_or_socket: str) -> set[bytes]:
    client = redis_lib.Redis.from_url(url_or_socket)
    try:
        return client.smembers("rq:workers")
    finally:
        client.close()


# --- tests -----------------------------------------------------------------------------------------------------

@needs_proc
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_stops_honcho_every_process_and_the_embedded_redis(start_devserver, signum):
    # SIGTERM: docker stop, systemd, kill. SIGHUP: the terminal was closed.
    server = start_devserver()
    base, redis_url = server.wait_for_banner().groups()
    assert base == f"http://127.0.0.1:{server.port}"
    assert redis_url == f"unix://{server.var / 'redis.sock'}"
    tree = descendants(server.process.pid)
    commands = " ".join(command_line(pid) for pid in tree)
    for part in ("honcho", "gunicorn", "workers jobs", "workers notices", "workers.cron", "redis-server"):
        assert part in commands, f"{part} not among the devserver's processes: {commands}"

    assert server.stop(signum, group=False) == 0  # only the devserver's own pid, as docker stop does

    wait_until(lambda: not still_running(tree), 15,
               lambda: f"the devserver's processes to end; left running: {still_running(tree)}")
    assert not listens(server.port)
    assert not (server.var / "redis.sock").exists()  # redis-server removes its socket when it stops
    assert "Traceback" not in server.output, server.output[-6000:]


@needs_proc
def test_ctrl_c_stops_the_processes_before_the_embedded_redis(start_devserver, tmp_path):
    server = start_devserver()
    server.wait_for_banner()
    tree = descendants(server.process.pid)

    assert server.stop(signal.SIGINT, group=True) == 0  # what Ctrl-C sends: the whole foreground group

    wait_until(lambda: not still_running(tree), 15,
               lambda: f"the devserver's processes to end; left running: {still_running(tree)}")
    assert not listens(server.port)
    # Redis outlived the workers and the scheduler: no errors from them, and no stale registrations in the
    # data the embedded Redis kept (read back with a Redis of the test's own on that folder).
    assert "Traceback" not in server.output, server.output[-6000:]
    assert "ConnectionError" not in server.output, server.output[-6000:]
    check = PrivateRedis(prefix="ll-devsrv-", data_dir=server.var / "redis")
    try:
        check.start()
        with check.client() as client:
            assert DEMO_EMAIL in service.account_emails(client).values(), "no demo data in the embedded Redis"
            # Once a stop that reached the scheduler process as it started was lost (test_worker_start_stop).
            assert client.smembers("rq:workers") == set(), server.output[-6000:]
    finally:
        check.close()


def test_env_file_under_the_process_environment_one_setup_for_everything(start_devserver, redis_url, redis):
    env_port = free_port()
    server = start_devserver(
        f"# as .env.example had them (unquoted; dotenv reads both)\nPORT={env_port}\nREDIS_URL={redis_url}\n"
        "LOGIN_RATE_LIMIT=10 per minute;50 per hour\nMAIL_FROM=Loketlijn <noreply@example.org>\n"
    )
    base, banner_redis = server.wait_for_banner().groups()

    # PORT from the environment wins over .env; REDIS_URL from .env is used by the banner, the demo data
    # and the processes alike.
    assert base == f"http://127.0.0.1:{server.port}"
    assert banner_redis == redis_url
    assert not listens(env_port)
    assert login(base, DEMO_EMAIL, DEMO_PASSWORD) == 302
    assert workers_registered(redis_url), "the workers did not register in the Redis from .env"
    # The webhooks take what the README's example sends, signed with the development token the banner names.
    assert f"signed with TWILIO_AUTH_TOKEN={devserver.DEV_TWILIO_AUTH_TOKEN}" in server.output
    assert "Uw kenmerk: TB-" in text_as_twilio(base, devserver.DEV_TWILIO_AUTH_TOKEN)
    assert not (server.var / "redis.sock").exists()  # no embedded Redis

    assert server.stop(signal.SIGINT, group=True) == 0
    assert workers_registered(redis_url) == set()
    assert "Traceback" not in server.output, server.output[-6000:]


def test_a_redis_that_does_not_answer_is_named_with_the_reason(start_devserver):
    url = f"redis://127.0.0.1:{free_port()}/5"
    server = start_devserver(REDIS_URL=url)
    returncode = server.process.wait(timeout=START_SECONDS)
    server.reader.join(timeout=10)
    assert returncode != 0
    assert re.search(rf"^Redis at {re.escape(url)} does not answer: .+", server.output, re.M), server.output
    assert "Demo logins" not in server.output


def test_a_port_in_use_is_refused_before_anything_starts(start_devserver, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = start_devserver(PORT=str(port))
        returncode = server.process.wait(timeout=START_SECONDS)
        server.reader.join(timeout=10)
    assert returncode != 0
    assert f"something already listens on http://127.0.0.1:{port}" in server.output
    assert not (server.var / "redis.sock").exists()


def test_load_environment_explicit_variables_win_and_values_keep_their_spaces(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nPORT=5000\nREDIS_URL=redis://127.0.0.1:6379/0\nSECRET_KEY=\n"
                        "LOGIN_RATE_LIMIT=10 per minute;50 per hour\nMAIL_FROM=Loketlijn <noreply@example.org>\n")
    env = devserver.load_environment({"PORT": "5731", "HOME": "/home/x"}, env_file)
    assert env["PORT"] == "5731"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert env["SECRET_KEY"] == ""
    assert env["LOGIN_RATE_LIMIT"] == "10 per minute;50 per hour"  # honcho's own parser drops the spaces
    assert env["MAIL_FROM"] == "Loketlijn <noreply@example.org>"
    assert devserver.load_environment({"PORT": "1"}, tmp_path / "missing.env") == {"PORT": "1"}


def text_as_twilio(base: str, token: str) -> str:
    """What README.md's "Try texting and calling" does: an SMS to Utrecht, signed as Twilio signs it."""
    from twilio.request_validator import RequestValidator

    url = f"{base}/hooks/twilio/sms?location=utrecht"
    form = {"From": "+31612345678", "Body": "Bel mij terug over mijn WW-uitkering"}
    signature = RequestValidator(token).compute_signature(url, form)
    request = urllib.request.Request(url, urllib.parse.urlencode(form).encode(), {"X-Twilio-Signature": signature})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as answer:
        return answer.read().decode()


def test_env_example_leaves_redis_url_to_the_embedded_redis():
    settings = devserver.load_environment({}, ROOT / ".env.example")
    assert not settings.get("REDIS_URL")
    assert not settings.get("PORT")
    assert not settings.get("PUBLIC_BASE_URL")


def test_redis_passwords_stay_out_of_the_terminal():
    assert devserver.redacted("redis://:s3cret@db.internal:6379/2") == "redis://:***@db.internal:6379/2"
    assert devserver.redacted("rediss://app:s3cret@db:6380/0") == "rediss://app:***@db:6380/0"
    assert devserver.redacted("unix:///srv/var/redis.sock") == "unix:///srv/var/redis.sock"


# --- stop signals during the start-up, and a honcho that does not stop (in this process, with stand-ins) --------

@pytest.fixture
def stop_handlers_restored():
    """main() installs its stop-signal handlers in this process: put pytest's back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in devserver.STOP_SIGNALS}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture
def devserver_environment(monkeypatch, tmp_path: Path) -> list[str]:
    """The process environment main() reads, without a Redis of its own; the arguments for main()."""
    for name in ("REDIS_URL", "PUBLIC_BASE_URL", "BIND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", str(free_port()))
    env_file = tmp_path / "test.env"
    env_file.write_text("")
    return ["--env-file", str(env_file), "--var", str(tmp_path / "var")]


def test_a_stop_during_the_port_check_ends_the_start_up_quietly(stop_handlers_restored, devserver_environment,
                                                                monkeypatch, tmp_path):
    # The port check waits up to a second for an answer: a Ctrl-C then is a clean stop, not a traceback.
    checked = []

    def stopped_while_checking(address) -> bool:
        checked.append(address)
        signal.raise_signal(signal.SIGINT)  # its handler runs here, in the middle of the check
        return False

    monkeypatch.setattr(devserver, "something_listens", stopped_while_checking)
    assert devserver.main(devserver_environment) == 0
    assert checked, "the port was not checked"
    assert not (tmp_path / "var" / "redis.sock").exists()  # stopped before Redis was started


def test_a_stop_while_the_embedded_redis_starts_stops_that_redis(stop_handlers_restored, devserver_environment,
                                                                 monkeypatch, tmp_path):
    # The signal comes when redis-server runs but before the devserver holds its process: it must still be
    # stopped (it runs in a session of its own, so nothing else would).
    real_popen = subprocess.Popen
    started: list[subprocess.Popen] = []

    def popen_then_stop(*args, **kwargs) -> subprocess.Popen:
        process = real_popen(*args, **kwargs)
        started.append(process)
        signal.raise_signal(signal.SIGTERM)  # its handler runs here, before the process is handed back
        return process

    monkeypatch.setattr(subprocess, "Popen", popen_then_stop)
    try:
        assert devserver.main(devserver_environment) == 0
        assert len(started) == 1 and "redis-server" in str(started[0].args[0]), started
        assert started[0].poll() is not None, "the embedded Redis was left running"
        assert not (tmp_path / "var" / "redis.sock").exists()  # redis-server removes its socket when it stops
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


STUBBORN_TREE = """
import signal, subprocess, sys
from pathlib import Path

depth, ready = int(sys.argv[1]), sys.argv[2]
if depth == 2:  # honcho: each process in a session of its own
    subprocess.Popen([sys.executable, __file__, "1", ready], start_new_session=True)
elif depth == 1:  # a Procfile process with a child in a process group of its own (as rq's work horse)
    subprocess.Popen([sys.executable, __file__, "0", ready], process_group=0)
else:
    Path(ready).write_text("ready")
while True:
    signal.pause()
"""


@needs_proc
def test_a_honcho_that_does_not_stop_is_killed_with_every_process_below_it(monkeypatch, tmp_path, capsys):
    script = tmp_path / "stubborn.py"
    script.write_text(STUBBORN_TREE)
    ready = tmp_path / "ready"
    supervisor = devserver.Supervisor()
    supervisor.honcho = subprocess.Popen([sys.executable, str(script), "2", str(ready)], start_new_session=True)
    tree: dict[int, str] = {}
    try:
        wait_until(ready.exists, START_SECONDS, "the stand-in processes to start")
        tree = descendants(supervisor.honcho.pid)
        assert len(tree) == 2, tree

        monkeypatch.setattr(devserver, "HONCHO_STOP_SECONDS", 0)
        supervisor.signum = signal.SIGTERM  # a stop was asked for, and passed on: honcho ignored it
        assert supervisor.wait_for_honcho() == -signal.SIGKILL

        wait_until(lambda: not still_running(tree), 15,
                   lambda: f"the processes to end; left running: {still_running(tree)}")
        message = capsys.readouterr().err
        assert "killing it and the 2 processes below it" in message, message
        assert all(str(pid) in message for pid in tree), message
    finally:
        for pid in [*still_running(tree)]:
            os.kill(pid, signal.SIGKILL)
        if supervisor.honcho.poll() is None:
            supervisor.honcho.kill()
        supervisor.honcho.wait(timeout=10)


def test_env_example_reads_the_same_in_a_shell_and_in_make_run(tmp_path):
    # An operator loads it with `set -a; . ./.env` as well (systemd, a deploy script): an unquoted "<" broke that.
    shell = subprocess.run(["bash", "-c", f"set -a; . {ROOT / '.env.example'}; printf %s \"$MAIL_FROM\""],
                           capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert shell.returncode == 0 and shell.stderr == "", shell.stderr
    assert shell.stdout == devserver.load_environment({}, ROOT / ".env.example")["MAIL_FROM"] \
        == "Loketlijn <noreply@example.org>"
