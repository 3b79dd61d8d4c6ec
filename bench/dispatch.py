"""bench/dispatch: a burst of released notices through the notice worker, beside a plain forking RQ worker.

A local stub of Twilio's Messages API (its own process, asyncio, keep-alive) answers every send after
--latency-ms (default 50 ms). The burst (--count, default 5,000 SMS notices) is created with create_notice
while the workers are suspended, then released at once; the clock runs from the release until every notice
is recorded as sent. Two runs, same burst, same job code (workers.jobs.send_notice), same stub:

1. the notice worker processes the Procfile starts for the notices queue (its default formation: one
   process per Procfile line), i.e. `python -m workers notices`: non-forking, queues.NOTICE_THREADS threads;
2. one plain forking RQ worker (rq.Worker: a fork per job, one synchronous send per job).

Targets: (1) drains >= 5x faster than (2), and >= 100 notices/s per worker process. It also checks at most
once: the stub must have received exactly one request per notice. Prints the figures and rewrites its own
section of docs/benchmarks.md. Redis: 127.0.0.1:6379, database 10 (owned by this bench, flushed before and
after). Traffic goes to 127.0.0.1 only.

Run: make bench-dispatch   (or .venv/bin/python bench/dispatch.py [--count 5000] [--latency-ms 50])
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REDIS_URL = os.environ.get("BENCH_DISPATCH_REDIS", "redis://127.0.0.1:6379/10")
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:dispatch -->", "<!-- /bench:dispatch -->"
ACCOUNT = "AC" + "0" * 32
SERVICE = "MG" + "0" * 32
LIMIT_SECONDS = 3600


# ---------------------------------------------------------------- the provider stub (its own process)

def serve_stub(port: int, latency: float) -> None:
    sent = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        try:
            while request_line := await reader.readline():
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                if request_line.startswith(b"GET /count"):
                    body = str(sent).encode()
                else:
                    await asyncio.sleep(latency)
                    sent += 1
                    body = json.dumps({"sid": f"SM{sent:032x}", "status": "queued"}).encode()
                status = b"200 OK" if request_line.startswith(b"GET") else b"201 Created"
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def stub_count(url: str) -> int:
    with urllib.request.urlopen(f"{url}/count", timeout=10) as answer:
        return int(answer.read())


# ---------------------------------------------------------------- the burst

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.1)


def procfile_notice_commands() -> list[list[str]]:
    """The Procfile's processes that serve the notices queue (python -m workers ...)."""
    from workers import queues

    commands = []
    for line in (ROOT / "Procfile").read_text().splitlines():
        if ":" not in line or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line.split(":", 1)[1])
        if words[:3] == ["python", "-m", "workers"] and queues.NOTICES in (words[3:] or queues.ALL):
            commands.append([sys.executable, *words[1:]])
    return commands


BASELINE = [sys.executable, str(Path(__file__).resolve()), "--baseline-worker"]


def baseline_worker() -> None:
    """One plain forking RQ worker on the notices queue, inside the same app as the real workers."""
    from rq import Worker

    from routing.extensions import get_redis
    from workers import queues
    from workers.app import get_app

    app = get_app()
    with app.app_context():
        Worker([queues.NOTICES], connection=get_redis()).work()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def run_burst(label: str, commands: list[list[str]], env: dict[str, str], count: int, stub_url: str) -> dict:
    import redis
    from rq import Queue, Worker
    from rq.suspension import resume, suspend

    from routing import create_app
    from routing.extensions import get_redis
    from routing.notices.service import Recipient, create_notice
    from routing.store import notices as store
    from workers import queues

    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()  # database 10 belongs to this bench
    before = stub_count(stub_url)
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True) for command in commands]
    try:
        queue = Queue(queues.NOTICES, connection=r)
        wait_for(lambda: Worker.count(queue=queue) >= len(processes), "the workers to start")
        suspend(r)
        app = create_app({"LOKETLIJN_ENV": "development", "REDIS_URL": REDIS_URL,
                          "PUBLIC_BASE_URL": env["PUBLIC_BASE_URL"]})
        with app.app_context():
            ids = [create_notice(get_redis(), "callbacks_waiting", Recipient(sms=f"+316{n:08d}"),
                                 {"count": n % 9 + 1, "location": "Utrecht"}) for n in range(count)]
        print(f"  {label}: {count} notices queued; releasing", flush=True)
        started = time.perf_counter()
        resume(r)
        cpu_before = sum(cpu_seconds(p.pid) for p in processes)
        wait_for(lambda: r.zcard(store.PENDING) == 0 and queue.count == 0, "the burst to drain", LIMIT_SECONDS)
        elapsed = time.perf_counter() - started
        cpu = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
        with r.pipeline(transaction=False) as pipe:
            for nid in ids:
                pipe.hget(store.NOTICE.format(id=nid), "state")
            states = [s.decode() for s in pipe.execute()]
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=120)
        r.flushdb()
    requests = stub_count(stub_url) - before
    return {"label": label, "processes": len(processes), "count": count, "seconds": elapsed,
            "per_second": count / elapsed, "sent": states.count("sent"), "requests": requests,
            "cpu_ms": cpu * 1000 / count}


# ---------------------------------------------------------------- report

def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores (shared with other work; load average before the run {load}), "
            f"Python {platform.python_version()}, Linux {platform.release()}")


def report(results: list[dict], latency_ms: int, threads: int, host: str) -> str:
    ours, plain = results
    # Compared as rates, so a baseline measured on a smaller burst (--baseline-count) compares fairly.
    speedup = ours["per_second"] / plain["per_second"]
    per_process = ours["per_second"] / ours["processes"]
    baseline_option = f" --baseline-count {plain['count']}" if plain["count"] != ours["count"] else ""
    lines = [
        "## Notice dispatch (bench/dispatch)",
        "",
        f"Command: `.venv/bin/python bench/dispatch.py --count {ours['count']} --latency-ms {latency_ms}"
        f"{baseline_option}` "
        f"(`make bench-dispatch` runs the defaults), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.  ",
        f"Machine: {host}. Redis 127.0.0.1:6379 (database 10).",
        "",
        f"A burst of {ours['count']:,} SMS notices, released at once, each sent through the twilio client to a "
        f"local stub of Twilio's Messages API that answers after {latency_ms} ms; time from release until every "
        "notice is recorded as sent.",
        "",
        "| worker | processes | notices | time to drain | notices/s | per process | CPU per notice | sent | "
        "provider requests |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result['label']} | {result['processes']} | {result['count']:,} | {result['seconds']:.1f} s | "
            f"{result['per_second']:.1f} | {result['per_second'] / result['processes']:.1f} | "
            f"{result['cpu_ms']:.1f} ms | {result['sent']:,} | {result['requests']:,} |")
    lines += [
        "",
        f"Time to drain the whole burst with the plain worker: {ours['count'] / plain['per_second']:.0f} s"
        f"{' (extrapolated from its measured rate)' if plain['count'] != ours['count'] else ''}. "
        f"CPU per notice is the worker processes' own CPU time (user + system, forks included) divided by "
        f"the notices: 1000 / that figure is what one fully available core could send per second.",
        "",
        f"Drains **{speedup:.1f}x** faster than the plain forking worker (target >= 5x: "
        f"{'met' if speedup >= 5 else 'NOT met'}); **{per_process:.0f} notices/s per worker process** "
        f"(target >= 100: {'met' if per_process >= 100 else 'NOT met'} on this run; at {ours['cpu_ms']:.1f} ms "
        f"of CPU per notice one fully available core sends about {1000 / ours['cpu_ms']:.0f}/s). At most once: "
        f"{'one provider request per notice in both runs' if all(r['requests'] == r['count'] for r in results) else 'MORE requests than notices'}.",
        "",
        f"The notice worker is the Procfile's `notices` process (`python -m workers notices`): a non-forking RQ "
        f"worker (workers/pool.py) that runs up to {threads} jobs at once in threads, each claiming its notice "
        "before the send. The plain worker forks per job and sends synchronously.",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    current = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    block = f"{START}\n{text.rstrip()}\n{END}"
    if START in current and END in current:
        current = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, current, flags=re.S)
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    DOCS.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--baseline-count", type=int, help="a smaller burst for the slow plain worker "
                        "(default: the same --count); its drain time for the full burst is then extrapolated")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--serve-stub", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_stub:
        return serve_stub(args.serve_stub, args.latency_ms / 1000)
    if args.baseline_worker:
        return baseline_worker()

    from workers import queues

    host = machine()
    port = free_port()
    stub = subprocess.Popen([sys.executable, __file__, "--serve-stub", str(port), "--latency-ms",
                             str(args.latency_ms)], start_new_session=True)
    stub_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LOKETLIJN_ENV": "development", "REDIS_URL": REDIS_URL,
           "PUBLIC_BASE_URL": "http://127.0.0.1:5000", "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": "bench",
           "TWILIO_MESSAGING_SERVICE_SID": SERVICE, "TWILIO_API_BASE_URL": stub_url, "PYTHONUNBUFFERED": "1"}
    try:
        wait_for(lambda: _answers(stub_url), "the provider stub")
        results = [
            run_burst("notice worker (Procfile `notices`)", procfile_notice_commands(), env, args.count, stub_url),
            run_burst("plain forking RQ worker", [BASELINE], env, args.baseline_count or args.count, stub_url),
        ]
    finally:
        os.killpg(stub.pid, signal.SIGTERM)
        stub.wait(timeout=30)
    text = report(results, args.latency_ms, queues.NOTICE_THREADS, host)
    print("\n" + text)
    if not args.no_write:
        write_section(text)
        print(f"\nwrote {DOCS.relative_to(ROOT)} (section bench:dispatch)")


def _answers(url: str) -> bool:
    try:
        stub_count(url)
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
