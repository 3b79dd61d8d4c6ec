"""Sustained callback intake through gunicorn, side by side with a bare Flask hello endpoint.

    .venv/bin/python bench/intake/run.py [--seconds 10] [--rounds 5] [--db 11]

Starts three gunicorn servers with the project's default settings (config/gunicorn.conf.py) on loopback: the
bare hello app (with the issue's naive intake beside it), Loketlijn (development settings, Redis 127.0.0.1:6379
in a dedicated db; the rate limits stay on, raised so that one client address and key can run the benchmark) and
core.py, Loketlijn's intake work without its web layers. For each endpoint it measures:
  1. throughput: closed loop with a few connections for --seconds (requests/s, p50, p99), --rounds times,
     the endpoints taking turns; the median round counts. Each round also records the CPU time per request of
     the server, of the load generator and of Redis, which share the machine's cores;
  2. latency at a fixed 200 requests/s (open loop, latency counted from the planned send time).
Then Redis memory per stored request (MEMORY USAGE of every key this run wrote, divided by the requests
stored), and it deletes only its own keys. Prints the figures and rewrites its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import click
import redis

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
PYTHON = sys.executable
LOCATION = "utrecht"
RATE = 200
CONNECTIONS = 8
GUNICORN_WORKERS = "2 × cores + 1 sync workers, which close each connection after its response"
TARGET_SHARE = 0.5
TARGET_P99_MS = 50
TARGET_BYTES = 1024
NAIVE = "naive intake (issue's baseline)"
_numbers = itertools.count(10_000_000)
LOAD: list[float] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    # The project's gunicorn settings (config/gunicorn.conf.py) for both servers; only the address differs.
    process = subprocess.Popen([PYTHON, "-m", "gunicorn", "--config", str(GUNICORN_CONF), "--bind",
                                f"127.0.0.1:{port}", app], cwd=cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn for {app} exited with {process.returncode}")
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn for {app} did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)


def server_cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time used so far by a gunicorn server (master and workers: its process group), from /proc.

    Unlike requests/s this hardly depends on what else the shared machine is doing."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == process.pid:  # fields[2] is the process group id
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def redis_cpu_seconds(r: redis.Redis) -> float:
    """CPU time used so far by the Redis server (every client's commands, the intake scripts included)."""
    cpu = r.info("cpu")
    return float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"])


def measured_round(target: Target, server: subprocess.Popen, r: redis.Redis, seconds: float) -> dict:
    """One closed-loop round, with the CPU each party spent per request: the gunicorn server, the load
    generator (this process, which does nothing else meanwhile) and Redis."""
    before = server_cpu_seconds(server), time.process_time(), redis_cpu_seconds(r)
    top = asyncio.run(closed_loop(target, seconds))
    after = server_cpu_seconds(server), time.process_time(), redis_cpu_seconds(r)
    per_request = [(b - a) * 1000 / top["n"] for a, b in zip(before, after)]
    return {**top, "cpu_ms": per_request[0], "client_cpu_ms": per_request[1], "redis_cpu_ms": per_request[2]}


def phone() -> str:
    return f"+316{next(_numbers):08d}"  # a fresh valid mobile number per request: no dedup shortcut


class Target:
    """How to send one request of a kind."""

    def __init__(self, name: str, url: str, make, headers=None, cookies=None):
        self.name, self.url, self.make, self.headers, self.cookies = name, url, make, headers or {}, cookies

    async def send(self, session: aiohttp.ClientSession) -> float:
        started = time.perf_counter()
        kind, payload = self.make()
        # The form answers a stored request with 303 to its confirmation page: the POST is what is measured.
        async with session.request("GET" if kind == "get" else "POST", self.url, headers=self.headers,
                                   allow_redirects=False,
                                   **({} if kind == "get" else {kind: payload})) as response:
            body = await response.read()
            if response.status not in (200, 201, 303):
                raise RuntimeError(f"{self.name}: HTTP {response.status}: {body[:300]!r}")
        return time.perf_counter() - started


def _session(target: Target) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True, limit=0),
                                 cookies=target.cookies)


async def closed_loop(target: Target, seconds: float) -> dict:
    latencies: list[float] = []
    async with _session(target) as session:
        end = time.perf_counter() + seconds

        async def worker():
            while time.perf_counter() < end:
                latencies.append(await target.send(session))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        elapsed = time.perf_counter() - started
    return {"rps": len(latencies) / elapsed, **percentiles(latencies), "n": len(latencies)}


async def open_loop(target: Target, seconds: float, rate: int) -> dict:
    latencies: list[float] = []
    async with _session(target) as session:
        start = time.perf_counter()

        async def one(planned: float):
            await asyncio.sleep(max(0.0, planned - time.perf_counter()))
            await target.send(session)
            latencies.append(time.perf_counter() - planned)  # includes any queueing behind the plan

        await asyncio.gather(*(one(start + i / rate) for i in range(int(seconds * rate))))
        elapsed = time.perf_counter() - start
    return {"rps": len(latencies) / elapsed, **percentiles(latencies), "n": len(latencies)}


def median_round(rounds: list[dict]) -> dict:
    """The round with the median requests/s, its CPU figures replaced by the medians of all rounds."""
    middle = sorted(rounds, key=lambda x: x["rps"])[len(rounds) // 2]
    return {**middle, **{name: statistics.median(x[name] for x in rounds)
                         for name in ("cpu_ms", "client_cpu_ms", "redis_cpu_ms")}}


def round_shares(rounds: list[dict], bare_rounds: list[dict]) -> list[float]:
    """Each round's requests/s against bare hello's in the same pass of the interleaved rounds: how far the
    share moves with the machine's other work."""
    return [x["rps"] / bare["rps"] for x, bare in zip(rounds, bare_rounds)]


def percentiles(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    return {"p50": statistics.median(ordered) * 1000, "p99": ordered[int(len(ordered) * 0.99) - 1] * 1000}


def form_target(base: str) -> Target:
    """The web form with its CSRF token and session cookie, as a kiosk browser posts it."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}/l/{LOCATION}/terugbellen").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return Target("web form POST", f"{base}/l/{LOCATION}/terugbellen",
                  lambda: ("data", {"csrf_token": token, "phone": phone(), "name": "Bench", "language": "nl",
                                    "reply_by": "call", "note": "graag terugbellen", "consent": "yes"}),
                  cookies=session.cookies.get_dict())


def api_target(base: str, key: str) -> Target:
    return Target("API POST", f"{base}/api/v1/callbacks",
                  lambda: ("json", {"location": LOCATION, "phone": phone(), "name": "Bench", "consent": True,
                                    "note": "graag terugbellen", "reply_by": "call"}),
                  headers={"Authorization": f"Bearer {key}"})


def core_target(base: str) -> Target:
    return Target("intake work without web layers", f"{base}/core",
                  lambda: ("json", {"location": LOCATION, "phone": phone(), "name": "Bench", "consent": True,
                                    "note": "graag terugbellen", "reply_by": "call"}))


def naive_target(base: str) -> Target:
    return Target(NAIVE, f"{base}/naive",
                  lambda: ("json", {"location": LOCATION, "phone": phone(), "name": "Bench", "consent": True,
                                    "note": "graag terugbellen", "reply_by": "call"}))


def memory_per_request(r: redis.Redis) -> dict:
    """Bytes per stored request: its own keys, its share of the indexes, and its audit record."""
    from routing.store import callbacks as store

    totals = {"request": 0, "audit": 0, "other": 0}
    requests_stored = 0
    for key in r.scan_iter(count=1000):
        size = r.memory_usage(key, samples=0) or 0
        name = key.decode()
        if name.startswith("ll:audit"):
            totals["audit"] += size
        elif name.startswith("ll:naive:") or name.startswith("rq:"):
            continue  # the naive baseline's records and jobs (the app queues none here: no notice is due)
        elif name.startswith("ll:cb:") and not name.startswith("ll:cb:rl:"):
            totals["request"] += size
            if re.fullmatch(r"ll:cb:TB-\w+", name):
                requests_stored += 1
        else:
            totals["other"] += size  # rate-limit counters (they expire), RQ, the API key, the notice
    per = {k: v / max(requests_stored, 1) for k, v in totals.items()}
    return {"stored": requests_stored, **per, "store_keys": store.REQUEST}


def own_keys_cleanup(r: redis.Redis) -> None:
    """Only this run's db holds these, but delete by our own patterns anyway."""
    for pattern in ("ll:*", "LIMITS:*", "LIMITER*", "rq:*", "flask_limiter*"):
        batch = list(r.scan_iter(match=pattern, count=1000))
        for i in range(0, len(batch), 500):
            r.delete(*batch[i:i + 500])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    # A timeout or Ctrl-C still stops the servers and deletes our keys (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=5)  # the median of 5: steadier on a shared machine
    parser.add_argument("--db", type=int, default=11)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()

    redis_url = f"redis://127.0.0.1:6379/{args.db}"
    r = redis.Redis.from_url(redis_url)
    own_keys_cleanup(r)
    LOAD.append(os.getloadavg()[0])
    log(f"load average before the run: {LOAD[0]:.1f} (other work on this machine skews the figures)")
    env = {**os.environ, "REDIS_URL": redis_url, "LOKETLIJN_ENV": "development", "PYTHONPATH": str(ROOT),
           "CALLBACK_RATE_IP": "10000000 per hour", "CALLBACK_RATE_PHONE": "10 per day",
           "CALLBACK_RATE_LOCATION": "10000000 per hour", "CALLBACK_RATE_API_KEY": "10000000 per hour"}
    sys.path.insert(0, str(ROOT))
    os.environ.update({k: env[k] for k in ("REDIS_URL", "LOKETLIJN_ENV")})
    from routing import create_app
    from routing.auth import service as auth

    app = create_app({"REDIS_URL": redis_url})
    with app.app_context():
        key, _ = auth.create_api_key(r, "bench-kiosk", "staff", [LOCATION], actor="bench")

    hello_port, app_port, core_port = free_port(), free_port(), free_port()
    hello = start("hello:app", hello_port, env, ROOT / "bench" / "intake")
    loketlijn = start("routing:create_app()", app_port, env, ROOT)
    core = start("core:app", core_port, {**env, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench' / 'intake'}"},
                 ROOT / "bench" / "intake")
    results: dict[str, dict] = {}
    try:
        base = f"http://127.0.0.1:{app_port}"
        targets = [Target("bare hello", f"http://127.0.0.1:{hello_port}/hello", lambda: ("get", None)),
                   naive_target(f"http://127.0.0.1:{hello_port}"), core_target(f"http://127.0.0.1:{core_port}"),
                   form_target(base), api_target(base, key)]
        for target in targets:  # warm up: imports, script load, connection pools
            asyncio.run(closed_loop(target, 1))
        servers = dict(zip((t.name for t in targets), (hello, hello, core, loketlijn, loketlijn)))
        # Interleaved rounds: a slow spell of the shared machine then costs every endpoint one round, and the
        # median round of each is what counts.
        rounds: dict[str, list[dict]] = {t.name: [] for t in targets}
        with click.progressbar(length=args.rounds * len(targets), label="as fast as it goes",
                               file=sys.stderr) as progress:
            for _ in range(args.rounds):
                for target in targets:
                    rounds[target.name].append(measured_round(target, servers[target.name], r, args.seconds))
                    progress.update(1)
        with click.progressbar(targets, label=f"at {RATE} req/s", file=sys.stderr) as progress:
            for target in progress:
                results[target.name] = {"max": median_round(rounds[target.name]),
                                        "fixed": asyncio.run(open_loop(target, args.seconds, RATE)),
                                        "shares": round_shares(rounds[target.name], rounds["bare hello"])}
        for name, figures in results.items():
            log(f"{name}: {figures} (rounds: {[round(x['rps']) for x in rounds[name]]} req/s)")
        memory = memory_per_request(r)
    finally:
        stop(hello)
        stop(core)
        stop(loketlijn)
        own_keys_cleanup(r)

    report = render(results, memory, args)
    print(report)
    if not args.no_docs:
        write_section(report)


def render(results: dict, memory: dict, args) -> str:
    bare = results["bare hello"]["max"]["rps"]
    lines = [
        f"Command: `.venv/bin/python bench/intake/run.py --seconds {args.seconds:g} --rounds {args.rounds}` "
        f"(`make bench-intake`)  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores ({_cpu()}), Python {platform.python_version()}, "
        f"gunicorn with config/gunicorn.conf.py ({GUNICORN_WORKERS}), Redis {redis_version()} on 127.0.0.1 (db {args.db}); "
        f"load generator on the same machine ({CONNECTIONS} connections, a new connection per request; "
        f"max req/s is the median of {args.rounds} interleaved rounds; each round's share is against bare hello's "
        f"round of the same pass); "
        f"load average at the start {LOAD[0]:.1f}. Libraries: {library_versions()}.",
        "",
        "| endpoint | max req/s | share of bare | share per round (lowest–highest) | p50 ms | p99 ms "
        "| at 200 req/s: p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in results.items():
        top, fixed, shares = figures["max"], figures["fixed"], figures["shares"]
        lines.append(f"| {name} | {top['rps']:.0f} | {top['rps'] / bare:.0%} | {min(shares):.0%}–{max(shares):.0%} "
                     f"| {top['p50']:.1f} | {top['p99']:.1f} | {fixed['p50']:.1f} | {fixed['p99']:.1f} |")
    bare_cpu = results["bare hello"]["max"]["cpu_ms"]
    lines += [
        "",
        "Where the CPU goes, in ms per request (medians of the rounds): the gunicorn server, the load generator "
        "and the Redis server, which share the machine's cores.",
        "",
        "| endpoint | server | load generator | Redis | all three | share of bare by server CPU |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in results.items():
        top = figures["max"]
        lines.append(f"| {name} | {top['cpu_ms']:.2f} | {top['client_cpu_ms']:.2f} | {top['redis_cpu_ms']:.2f} | "
                     f"{total_cpu_ms(top):.2f} | {bare_cpu / top['cpu_ms']:.0%} |")
    lines += [
        "",
        f"Redis memory per stored request ({memory['stored']} stored): {memory['request']:.0f} B for the request "
        f"itself (facts hash, encrypted personal blob, phone lookup key, queue index, counters), "
        f"{memory['audit']:.0f} B for its audit record (Logboek dataverwerkingen, kept "
        f"{os.environ.get('AUDIT_RETENTION_DAYS', '400')} days), {memory['other']:.0f} B other "
        "(rate-limit counters, which expire).",
        "",
        "Targets: intake ≥ 50% of bare hello; p99 ≤ 50 ms at 200 req/s; ≤ 1 KiB per request. " + verdict(results, memory),
        "",
        "What one intake does: it checks the number (phonenumbers; no 0800/0900/14xxx), refuses a BSN in any "
        "text, encrypts the personal fields (MultiFernet) and makes one round trip to Redis: a Lua script that "
        "counts the per-address, per-number and per-location limits, finds a live request of the same number "
        "(dedup), stores the facts hash, the encrypted blob, the phone lookup key, the queue index and the "
        "counters, and appends the audit record (Logboek dataverwerkingen), atomically. The API key's owner is "
        "remembered for a few seconds per process (AUTH_CACHE_SECONDS). The form also checks CSRF, remembers the "
        "confirmation in the session cookie and answers 303 to the confirmation page (the POST is measured, "
        "not the GET the browser makes next). The naive baseline does none of that: one schema, one HSET, one enqueue. "
        "'Intake work without web layers' (bench/intake/core.py) runs the same schema and create_request in a "
        "bare Flask app: no request hooks, session, flask-smorest or webargs, API key or request log. The API "
        "row's distance to it is what those layers cost; its own distance to bare hello is the intake's work. "
        "The CPU table is the steadiest figure on a shared machine: the gunicorn processes' own CPU time (from "
        "/proc), the load generator's (this process) and the Redis server's (INFO cpu), each per request. All "
        "three share the cores, so their sum sets how many requests per second the machine can serve; on a "
        "busy machine (see the load average) requests/s and the fixed-rate latencies also measure the queueing "
        "behind other processes.",
    ]
    return "\n".join(lines)


def total_cpu_ms(top: dict) -> float:
    return top["cpu_ms"] + top["client_cpu_ms"] + top["redis_cpu_ms"]


def budget(results: dict) -> str:
    """What the API may spend at the target: the cores' time per request at half of bare hello's rate, less
    what the load generator and Redis spend on an API request."""
    api = results["API POST"]["max"]
    cores = os.cpu_count() or 1
    per_request = cores * 1000 / (TARGET_SHARE * results["bare hello"]["max"]["rps"])
    left = per_request - api["client_cpu_ms"] - api["redis_cpu_ms"]
    return (f"At {TARGET_SHARE:.0%} of bare hello's rate the {cores} cores have {per_request:.2f} ms per request; "
            f"after the load generator ({api['client_cpu_ms']:.2f} ms) and Redis ({api['redis_cpu_ms']:.2f} ms), "
            f"{left:.2f} ms is left for the server, which now spends {api['cpu_ms']:.2f} ms on an API intake and "
            f"{results[NAIVE]['max']['cpu_ms']:.2f} ms on the naive one.")


def verdict(results: dict, memory: dict) -> str:
    bare = results["bare hello"]["max"]["rps"]
    checks = []
    bare_cpu = results["bare hello"]["max"]["cpu_ms"]
    naive = results[NAIVE]["max"]["rps"]
    core = results["intake work without web layers"]["max"]["rps"]
    checks.append(f"The issue's naive intake reaches {naive / bare:.0%} of bare, the intake work without web "
                  f"layers {core / bare:.0%}")
    for name in ("web form POST", "API POST"):
        share = results[name]["max"]["rps"] / bare
        by_cpu = bare_cpu / results[name]["max"]["cpu_ms"]
        p99 = results[name]["fixed"]["p99"]
        checks.append(f"{name}: {share:.0%} of bare, {by_cpu:.0%} by CPU "
                      f"({'met' if max(share, by_cpu) >= TARGET_SHARE else 'NOT met'}), "
                      f"p99 {p99:.1f} ms at 200 req/s ({'met' if p99 <= TARGET_P99_MS else 'NOT met'})")
    checks.append(f"memory {memory['request']:.0f} B ({'met' if memory['request'] <= TARGET_BYTES else 'NOT met'})")
    return "; ".join(checks) + ". " + budget(results)


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


# The libraries on the request path: a run after an upgrade is then told apart from one after a code change.
LIBRARIES = ("flask", "werkzeug", "gunicorn", "redis", "marshmallow", "flask-smorest", "flask-wtf", "cryptography",
             "phonenumbers")


def library_versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def redis_version() -> str:
    return redis.Redis().info("server")["redis_version"]


def write_section(report: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"<!-- bench:intake -->\n## Callback intake (bench/intake)\n\n{report}\n<!-- /bench:intake -->"
    pattern = re.compile(r"<!-- bench:intake -->.*?<!-- /bench:intake -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
