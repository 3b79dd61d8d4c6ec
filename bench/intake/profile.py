"""Where an intake's CPU goes, in one process: the real app, Flask's test client, a real Redis (bench only).

    .venv/bin/python bench/intake/profile.py [--requests 3000] [--db 14] [--top 25] [--profile api|form|none]
                                             [--only hello|api|form ...]

Builds the app as bench/intake/run.py serves it (development settings, the intake limits raised so one
address and key can keep posting) on 127.0.0.1:6379 in a scratch db (14 or 15), which it empties before and
after. It prints the CPU time of this process (time.process_time) per request for a bare Flask "hello"
through the same test client (what the client and the WSGI call cost by themselves), the API POST (`POST
/api/v1/callbacks`, Bearer key) and the web form POST (CSRF token and session cookie, as a kiosk sends it),
each over --requests requests with a fresh number each. Then where the --profile'd one spends its CPU:
the Python stack sampled on a CPU-time timer, the top functions by their own time and with their callees.
Redis's own CPU is not in these figures; the client's side of the round trip is.

The figures are lower than run.py's server CPU (no gunicorn, no sockets): compare them with each other, and
the same command before and after a change. On a busy shared machine they move by a tenth from run to run;
the number of instructions does not. Counted with valgrind (about a minute), the difference of two runs
divides out the start-up:

    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        .venv/bin/python bench/intake/profile.py --profile none --only api --requests 400   # and 100
    # instructions per request: (I refs of 400 - I refs of 100) / 300
"""

from __future__ import annotations

import argparse
import collections
import gc
import itertools
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path

import orjson
import redis
from flask import Flask

ROOT = Path(__file__).resolve().parents[2]
LOCATION = "utrecht"
_numbers = itertools.count(20_000_000)


def phone() -> str:
    return f"+316{next(_numbers):08d}"  # a fresh valid mobile number per request: no dedup shortcut


def build(db: int):
    redis_url = f"redis://127.0.0.1:6379/{db}"
    os.environ.update({"REDIS_URL": redis_url, "LOKETLIJN_ENV": "development",
                       "CALLBACK_RATE_IP": "10000000 per hour", "CALLBACK_RATE_PHONE": "10 per day",
                       "CALLBACK_RATE_LOCATION": "10000000 per hour", "CALLBACK_RATE_API_KEY": "10000000 per hour"})
    sys.path.insert(0, str(ROOT))
    # Each request still writes its log line, as under gunicorn, but not to the terminal.
    logging.basicConfig(stream=open(os.devnull, "w"), level=logging.INFO, format="%(message)s")
    from routing import create_app
    from routing.auth import service as auth

    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    app = create_app({"REDIS_URL": redis_url})
    with app.app_context():
        key, _ = auth.create_api_key(r, "bench-kiosk", "staff", [LOCATION], actor="bench")
    gc.freeze()  # as gunicorn's pre_fork does (config/gunicorn.conf.py): collections skip the loaded app
    return app, r, key


def hello_sender():
    bare = Flask("hello")
    bare.get("/hello")(lambda: "hello")
    client = bare.test_client()
    return lambda: client.get("/hello")


def api_sender(app: Flask, key: str):
    client = app.test_client(use_cookies=False)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def send():
        return client.post("/api/v1/callbacks", headers=headers, data=orjson.dumps(
            {"location": LOCATION, "phone": phone(), "name": "Bench", "consent": True,
             "note": "graag terugbellen", "reply_by": "call"}))
    return send


def form_sender(app: Flask):
    # The session cookie and CSRF token of one form page, sent with every POST (as run.py's client does).
    path = f"/l/{LOCATION}/terugbellen"
    first = app.test_client()
    page = first.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.key}={c.value}" for c in first._cookies.values())
    client = app.test_client(use_cookies=False)

    def send():
        return client.post(path, headers={"Cookie": cookie}, data={
            "csrf_token": token, "phone": phone(), "name": "Bench", "language": "nl", "reply_by": "call",
            "note": "graag terugbellen", "consent": "yes"})
    return send


def cpu_ms_per_request(send, expected: int, n: int) -> float:
    for _ in range(200):  # warm up: imports, script load, caches
        check(send(), expected)
    started = time.process_time()
    for _ in range(n):
        response = send()
    elapsed = time.process_time() - started
    check(response, expected)
    return elapsed * 1000 / n


def check(response, expected: int) -> None:
    if response.status_code != expected:
        raise SystemExit(f"HTTP {response.status_code}: {response.get_data()[:300]!r}")


def sample(send, n: int, every_s: float = 0.0005) -> tuple[list[tuple[str, ...]], float]:
    """The Python stack on a timer of this process's CPU time (ITIMER_PROF) over n requests, and the CPU
    seconds each sample stands for. Unlike cProfile, which adds a cost to every call and so inflates what is
    called often, a sample costs the same wherever it lands. (The kernel fires the timer on its own tick, so
    there are fewer samples than `every_s` asks for; each is weighted by the CPU time measured.)"""
    stacks: list[tuple[str, ...]] = []

    def take(_signum, frame):
        names = []
        while frame is not None:
            code = frame.f_code
            names.append(f"{Path(code.co_filename).name}:{code.co_firstlineno}({code.co_name})")
            frame = frame.f_back
        stacks.append(tuple(reversed(names)))

    signal.signal(signal.SIGPROF, take)
    signal.setitimer(signal.ITIMER_PROF, every_s, every_s)
    started = time.process_time()
    try:
        for _ in range(n):
            send()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
    return stacks, (time.process_time() - started) / max(len(stacks), 1)


def report(stacks: list[tuple[str, ...]], weight_s: float, n: int, top: int, name: str) -> None:
    """CPU ms per request in each function: its own (self) and with what it calls (total)."""
    own: collections.Counter = collections.Counter()
    total: collections.Counter = collections.Counter()
    ms = weight_s * 1000 / n
    for frames in stacks:
        own[frames[-1]] += ms
        for frame in set(frames):
            total[frame] += ms
    for title, counter in (("self", own), ("total (with callees)", total)):
        print(f"\n{name}: top {top} functions by {title}, CPU ms per request ({len(stacks)} samples)")
        for frame, spent in counter.most_common(top):
            print(f"  {spent:6.3f}  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--db", type=int, default=14, choices=(14, 15))  # the scratch dbs this may empty
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--profile", choices=("api", "form", "none"), default="api")
    parser.add_argument("--only", choices=("hello", "api", "form"), action="append",
                        help="measure only these (repeatable); e.g. under valgrind, to count instructions")
    args = parser.parse_args()
    app, r, key = build(args.db)
    try:
        senders = {"bare hello (test client)": (hello_sender(), 200), "API POST": (api_sender(app, key), 201),
                   "web form POST": (form_sender(app), 303)}
        chosen = dict(zip(("hello", "api", "form"), senders))
        measured = {chosen[name]: senders[chosen[name]] for name in args.only} if args.only else senders
        print(f"CPU ms per request of this process, {args.requests} requests each (load average "
              f"{os.getloadavg()[0]:.1f}):")
        for name, (send, expected) in measured.items():
            print(f"  {name:26} {cpu_ms_per_request(send, expected, args.requests):.3f}")
        if args.profile != "none":
            send, _ = senders["API POST" if args.profile == "api" else "web form POST"]
            report(*sample(send, args.requests), args.requests, args.top, args.profile)
    finally:
        r.flushdb()


if __name__ == "__main__":
    main()
