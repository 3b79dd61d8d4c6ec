"""bench/lookup: staff lookup at national scale, in-process and through gunicorn, beside a bare endpoint.

Builds a national directory (one location per municipality plus district offices, >= 400 locations, each
with 12 partner lines: the 9 national partners and 3 municipal teams; every UPL product as a topic), writes
it as directory files and loads it through the real loader. Then it measures:

1. server-side search latency in-process (``service.lookup``): p50 / p99 / max;
2. requests/s through gunicorn with the Procfile's settings (config/gunicorn.conf.py) for
   ``GET /api/v1/search`` and, in the same run on the same settings, a bare Flask endpoint.

Targets: p99 <= 5 ms in-process; search throughput >= 60 % of the bare endpoint. Prints the figures and
rewrites its own section of docs/benchmarks.md. Redis: 127.0.0.1:6379, database 13 (owned by this bench,
flushed before and after). Every loop is bounded in count and time; traffic goes to 127.0.0.1 only.

Run: make bench-lookup   (or .venv/bin/python bench/lookup.py [--seconds 8] [--concurrency 8])
"""

from __future__ import annotations

import argparse
import csv
import http.client
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = Path(os.environ.get("LOKETLIJN_SHARED", ROOT / ".." / "shared")).resolve()
DEMO = ROOT / "config" / "directory"
REDIS_URL = os.environ.get("BENCH_LOOKUP_REDIS", "redis://127.0.0.1:6379/13")
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:lookup -->", "<!-- /bench:lookup -->"

LOCATIONS = 400
TEAMS = ("schuldhulp", "werk-inkomen", "wijkteam")
QUERIES = ["aow", "huurtoeslag", "verblijfsvergunning", "boete", "studieschuld", "WW", "kinderbijslag",
           "18 worden", "met pensioen", "uit elkaar", "huurtoeslg", "Kïnderbijslag", "studieshuld", "bijstand",
           "schulden", "svb", "uwv", "Dienst Toeslagen", "belasting", "zorgtoeslag", "rijbewijs", "huur",
           "verhuizen", "overlijden", "kenteken", "naturalisatie", "eigen bijdrage", "wia", "stufi", "toeslag"]


# ---------------------------------------------------------------- building the national directory

def municipalities() -> list[str]:
    path = SHARED / "data" / "upl" / "Gemeente.xml"
    if path.exists():
        names = [v.findtext("prefLabel") for v in ET.parse(path).getroot().iter("value")
                 if v.find("endDate") is None]
        return sorted({n.strip() for n in names if n and n.strip()})
    return [f"Gemeente {i:03d}" for i in range(345)]


def upl_rows() -> list[dict[str, str]]:
    path = SHARED / "data" / "upl" / "UPL-actueel.csv"
    if path.exists():
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    return [{"UniformeProductnaam": f"product {i}", "Grondslaglabel": "", "Gemeente": "X" if i % 2 else ""}
            for i in range(1121)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def build_directory(target: Path) -> dict[str, int]:
    from routing.directory.loader import load_laws
    from routing.directory.upl import match_law

    demo_partners = yaml.safe_load((DEMO / "partners.yaml").read_text(encoding="utf-8"))["partners"]
    national = [{k: v for k, v in p.items() if k != "handover_by_location"}  # names demo locations
                for p in demo_partners if p["kind"] == "national"]
    national_ids = [p["id"] for p in national]
    names = municipalities()
    teams: dict[str, list[str]] = {team: [] for team in TEAMS}
    partners = list(national)
    for m_index, municipality in enumerate(names):
        for t_index, team in enumerate(TEAMS):
            pid = f"{slug(municipality)}-{team}"
            teams[team].append(pid)
            partners.append({
                "id": pid, "name": f"Gemeente {municipality}, {team.replace('-', ' ')}", "kind": "municipal",
                "municipality": municipality,
                "handover": {"sms": f"+31610{m_index * 3 + t_index:06d}", "email": f"{pid}@example.org"},
            })
    (target / "locations").mkdir(parents=True)
    (target / "partners.yaml").write_text(yaml.safe_dump({"partners": partners}, allow_unicode=True), "utf-8")

    # Curated topics, with the demo's municipal teams widened to every municipality's team of that kind.
    def widen(pids: list[str]) -> list[str]:
        out: list[str] = []
        for pid in pids:
            if pid in national_ids:
                out.append(pid)
            elif "werk-inkomen" in pid or pid == "weener-xl":
                out.extend(teams["werk-inkomen"])
            else:
                out.extend(teams["schuldhulp"])
        return list(dict.fromkeys(out))

    curated = yaml.safe_load((DEMO / "topics.yaml").read_text(encoding="utf-8"))["topics"]
    for topic in curated:
        topic["partners"] = widen(topic.get("partners", []))
    (target / "topics.yaml").write_text(yaml.safe_dump({"topics": curated}, allow_unicode=True), "utf-8")

    # Every UPL row a topic: partners through the law table, else the municipal or a national partner.
    laws = load_laws(DEMO)
    upl = []
    for i, row in enumerate(upl_rows()):
        law = match_law(row.get("Grondslaglabel", ""), laws)
        if law is not None:
            pids = widen(list(law.partners))
        elif row.get("Gemeente") == "X":
            pids = teams["wijkteam"]
        else:
            pids = [national_ids[i % len(national_ids)]]
        name = row.get("UniformeProductnaam") or f"product {i}"
        upl.append({"id": f"upl-{i:04d}", "name_nl": name, "name_en": name, "partners": pids,
                    "upl_uri": row.get("URI") or None})
    (target / "topics-upl.yaml").write_text(yaml.safe_dump({"topics": upl}, allow_unicode=True), "utf-8")
    (target / "laws.yaml").write_text(yaml.safe_dump({"laws": [
        {"law": law.law, "partners": list(law.partners)} for law in laws if set(law.partners) <= set(national_ids)
    ]}, allow_unicode=True), "utf-8")

    hours = {"mon-thu": ["08:00-20:00"], "fri": ["08:00-17:00"]}
    for index in range(LOCATIONS):
        municipality = names[index % len(names)]
        district = index // len(names)
        location_id = f"{slug(municipality)}-{district + 1}"
        lines = {pid: {"number": f"+31880{index:04d}{p:02d}", "hours": {"weekly": hours},
                       "fallback_number": f"+31889{index:04d}{p:02d}"} for p, pid in enumerate(national_ids)}
        for p, team in enumerate(TEAMS, start=len(national_ids)):
            lines[f"{slug(municipality)}-{team}"] = {"number": f"+31880{index:04d}{p:02d}",
                                                      "hours": {"weekly": {"mon-fri": ["09:00-17:00"]}}}
        location = {
            "id": location_id, "name": f"Overheidsloket {municipality} {district + 1}",
            "municipality": municipality, "address": f"Stadhuisplein {index + 1}, {municipality}",
            "walk_in": index % 2 == 0,
            "presence": {"weekly": {"mon-fri" if index % 3 else "tue,thu": ["09:00-12:30", "13:00-17:00"]},
                         "exceptions": [{"date": "2026-12-24", "hours": []}]},
            "on_site": {national_ids[index % len(national_ids)]: "tue"},
            "on_duty": {"sms": f"+31620{index:06d}", "email": f"{location_id}@example.org"},
            "lines": lines,
        }
        (target / "locations" / f"{location_id}.yaml").write_text(yaml.safe_dump(location, allow_unicode=True), "utf-8")
    return {"locations": LOCATIONS, "partners": len(partners), "topics": len(curated) + len(upl),
            "upl_topics": len(upl), "lines_per_location": len(national_ids) + len(TEAMS)}


# ---------------------------------------------------------------- in-process latency

def query_mix(directory, rng: random.Random, count: int) -> list[tuple[str, str]]:
    products = [t.name_nl for t in directory.topics.values() if t.upl_uri]
    locations = sorted(directory.locations)
    mix = []
    for i in range(count):
        if i % 3 == 2:  # a UPL product name, sometimes with a typo or only its start
            q = rng.choice(products)
            if i % 2 and len(q) > 6:
                cut = rng.randrange(1, len(q) - 1)
                q = q[:cut] + q[cut + 1:]
            elif len(q) > 8:
                q = q[: rng.randrange(4, 8)]
        else:
            q = QUERIES[i % len(QUERIES)]
        mix.append((rng.choice(locations), q))
    return mix


def in_process(app, rounds: int) -> dict[str, float]:
    from routing.directory import service

    with app.app_context():
        directory = service.get_directory()
        mix = query_mix(directory, random.Random(7), rounds)
        now = datetime.now(UTC)
        for location_id, q in mix[:200]:  # warm-up
            service.lookup(location_id, q, now)
        wall, cpu = [], []
        deadline = time.monotonic() + 120
        for location_id, q in mix:
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            service.lookup(location_id, q, now)
            cpu.append((time.thread_time_ns() - started_cpu) / 1e6)
            wall.append((time.perf_counter_ns() - started) / 1e6)
            if time.monotonic() > deadline:
                break
    wall.sort()
    cpu.sort()
    p99 = int(len(wall) * 0.99) - 1
    return {"n": len(wall), "p50": statistics.median(wall), "p99": wall[p99], "max": wall[-1],
            "cpu_p50": statistics.median(cpu), "cpu_p99": cpu[p99]}


# ---------------------------------------------------------------- through gunicorn

def bare_app():
    """The baseline: a Flask endpoint that does nothing, served with the same gunicorn settings."""
    from flask import Flask

    app = Flask("bare")
    app.add_url_rule("/bare", "bare", lambda: {"ok": True})
    return app


def start_gunicorn(app_spec: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    env = {**os.environ, **env, "BIND": f"127.0.0.1:{port}"}
    command = [str(Path(sys.executable).parent / "gunicorn"), "--config", str(ROOT / "config" / "gunicorn.conf.py"),
               "--pythonpath", f"{ROOT},{ROOT / 'bench'}", app_spec]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_until_up(url: str, process: subprocess.Popen, log: Path, ready_line: str | None, workers: int,
                  limit: float = 600) -> None:
    """Until the URL answers and, when ``ready_line`` is given, it was logged once per worker (gunicorn
    preloads the app, directory included, before it boots the workers: measure only once all are up)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}:\n{log.read_text()[-2000:]}")
        booted = ready_line is None or log.read_text(errors="replace").count(ready_line) >= workers
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500 and booted:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {limit} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def server_cpu_seconds(master_pid: int) -> float:
    """CPU time used so far by a gunicorn master and its workers (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == master_pid or ppid == master_pid:
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def measure(process: subprocess.Popen, urls: list[str], headers: dict[str, str], seconds: float,
            concurrency: int) -> dict[str, float]:
    """Requests/s, and the server's CPU per request: on a machine shared with other work, the CPU cost
    is the steadier figure (capacity = cores / CPU per request)."""
    before = server_cpu_seconds(process.pid)
    result = hammer(urls, headers, seconds, concurrency)
    result["cpu_ms"] = (server_cpu_seconds(process.pid) - before) * 1000 / max(result["ok"], 1)
    return result


def hammer(urls: list[str], headers: dict[str, str], seconds: float, concurrency: int,
           max_requests: int = 500_000) -> dict[str, float]:
    """``concurrency`` client threads, each a new connection per request (gunicorn's sync workers close
    it anyway), for ``seconds`` or ``max_requests``, whichever comes first."""
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(offset: int) -> None:
        ok = errors = 0
        i = offset
        while time.monotonic() < deadline and ok + errors < max_requests // concurrency:
            parts = urlsplit(urls[i % len(urls)])
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                connection.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path, headers=headers)
                response = connection.getresponse()
                response.read()
                ok, errors = (ok + 1, errors) if response.status == 200 else (ok, errors + 1)
            except OSError:
                errors += 1
            finally:
                connection.close()
            i += concurrency
        with lock:
            counts["ok"] += ok
            counts["errors"] += errors

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"rps": counts["ok"] / elapsed, **counts}


# ---------------------------------------------------------------- report

def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc), {cpu}, Python {platform.python_version()}"


def write_section(text: str) -> None:
    current = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    block = f"{START}\n{text.rstrip()}\n{END}"
    if START in current and END in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1]
        updated = before + block + after
    else:
        updated = current.rstrip() + "\n\n" + block + "\n"
    DOCS.write_text(updated, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per throughput measurement")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5000, help="in-process searches")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()

    import redis

    r = redis.Redis.from_url(REDIS_URL)
    try:
        r.flushdb()  # database 13 belongs to this bench
    except redis.RedisError as error:
        raise SystemExit(f"bench/lookup needs a Redis at {REDIS_URL} (BENCH_LOOKUP_REDIS): {error}") from None
    folder = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    processes: list[subprocess.Popen] = []
    try:
        sizes = build_directory(folder / "directory")
        env = {"DIRECTORY_PATH": str(folder / "directory"), "REDIS_URL": REDIS_URL, "LOKETLIJN_ENV": "development"}
        os.environ.update(env)
        from routing import create_app
        from routing.auth import service as auth_service

        started = time.perf_counter()
        app = create_app({"LOKETLIJN_ENV": "development", "REDIS_URL": REDIS_URL,
                          "DIRECTORY_PATH": env["DIRECTORY_PATH"]})
        load_seconds = time.perf_counter() - started
        state = app.extensions["loketlijn.directory"]
        if state.current.loaded_at is None:
            raise SystemExit("the national directory did not load:\n" + "\n".join(state.problems[:20]))
        latency = in_process(app, args.rounds)
        print(f"directory: {sizes}; app with directory loaded in {load_seconds:.1f} s")
        print(f"in-process lookup ({latency['n']} searches): p50 {latency['p50']:.2f} ms, "
              f"p99 {latency['p99']:.2f} ms, max {latency['max']:.2f} ms (wall); "
              f"CPU p50 {latency['cpu_p50']:.2f} ms, p99 {latency['cpu_p99']:.2f} ms")

        with app.app_context():
            key, _ = auth_service.create_api_key(app.extensions["redis"], "bench", "coordinator", [], None,
                                                  actor="bench")
            directory_ids = sorted(state.current.directory.locations)
        rng = random.Random(11)
        port_search, port_bare = 18431, 18432
        search_urls = [f"http://127.0.0.1:{port_search}/api/v1/search?" + urlencode({"location": rng.choice(directory_ids), "q": q})
                       for q in QUERIES * 10]
        bare_urls = [f"http://127.0.0.1:{port_bare}/bare"]
        processes.append(start_gunicorn("routing:create_app()", port_search, env, folder / "search.log"))
        processes.append(start_gunicorn("lookup:bare_app()", port_bare, env, folder / "bare.log"))
        workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
        wait_until_up(f"http://127.0.0.1:{port_search}/healthz", processes[0], folder / "search.log",
                      "Booting worker with pid", workers)
        wait_until_up(f"http://127.0.0.1:{port_bare}/bare", processes[1], folder / "bare.log", None, workers)
        headers = {"Authorization": f"Bearer {key}"}
        # Warm-up, not counted: first requests in each worker pay one-time costs (imports, caches).
        hammer(bare_urls, {}, 2, args.concurrency)
        hammer(search_urls, headers, 4, args.concurrency)
        health_urls = [f"http://127.0.0.1:{port_search}/healthz"]
        rounds: dict[str, list[dict]] = {"bare": [], "search": [], "healthz": []}
        for _ in range(2):  # alternate, so drift on a shared machine hits all alike
            rounds["bare"].append(measure(processes[1], bare_urls, {}, args.seconds, args.concurrency))
            rounds["search"].append(measure(processes[0], search_urls, headers, args.seconds, args.concurrency))
            # The full app without auth or search: separates the shared request path from the lookup.
            rounds["healthz"].append(measure(processes[0], health_urls, {}, args.seconds, args.concurrency))
        bare = statistics.median(x["rps"] for x in rounds["bare"])
        search = statistics.median(x["rps"] for x in rounds["search"])
        bare_cpu = statistics.median(x["cpu_ms"] for x in rounds["bare"])
        search_cpu = statistics.median(x["cpu_ms"] for x in rounds["search"])
        cpu_ratio = bare_cpu / search_cpu if search_cpu else 0.0
        health = statistics.median(x["rps"] for x in rounds["healthz"])
        health_cpu = statistics.median(x["cpu_ms"] for x in rounds["healthz"])
        errors = sum(x["errors"] for xs in rounds.values() for x in xs)
        ratio = search / bare if bare else 0.0
        print(f"gunicorn ({workers} sync workers, config/gunicorn.conf.py), {args.concurrency} concurrent clients, "
              f"{args.seconds:.0f} s x 2 each: bare {bare:.0f} req/s, search {search:.0f} req/s "
              f"({ratio:.0%} of bare), non-200: {errors}; server CPU per request: bare {bare_cpu:.2f} ms, "
              f"search {search_cpu:.2f} ms (capacity {cpu_ratio:.0%} of bare)")
        print(f"same app's /healthz (whole request path, no auth, no search): {health:.0f} req/s, "
              f"server CPU {health_cpu:.2f} ms/request")
        print(f"machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        p99_ok = latency["p99"] <= 5.0
        ratio_ok = ratio >= 0.60
        print(f"targets: p99 <= 5 ms {'met' if p99_ok else 'MISSED'}; throughput >= 60% of bare "
              f"{'met' if ratio_ok else 'MISSED'}")
        if not args.no_write:
            write_section(f"""## Staff lookup (bench/lookup)

Command: `make bench-lookup` (`.venv/bin/python bench/lookup.py --seconds {args.seconds:g} --concurrency {args.concurrency}`)
Machine: {machine()}. Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

Directory: {sizes['locations']} locations x {sizes['lines_per_location']} partner lines, {sizes['partners']} partners
(9 national, 3 teams per municipality), {sizes['topics']} topics of which {sizes['upl_topics']} from every UPL row;
written as directory files and loaded by the real loader ({load_seconds:.1f} s for the whole app).

| measure | result | target |
|---|---|---|
| in-process `service.lookup`, {latency['n']} searches (issue queries, typos, prefixes, UPL names), wall clock | p50 {latency['p50']:.2f} ms, p99 {latency['p99']:.2f} ms, max {latency['max']:.2f} ms | p99 <= 5 ms: {'met' if p99_ok else 'missed'} |
| same searches, CPU time of the searching thread | p50 {latency['cpu_p50']:.2f} ms, p99 {latency['cpu_p99']:.2f} ms | |
| gunicorn, `GET /api/v1/search` (Bearer key, its owner remembered for AUTH_CACHE_SECONDS; lines shown counted, written to Redis every LOOKUP_COUNT_FLUSH_SECONDS) | {search:.0f} req/s, server CPU {search_cpu:.2f} ms/request | |
| gunicorn, bare Flask endpoint, same settings, same run | {bare:.0f} req/s, server CPU {bare_cpu:.2f} ms/request | |
| gunicorn, the same app's `/healthz` (every middleware, no auth, no search) | {health:.0f} req/s, server CPU {health_cpu:.2f} ms/request | |
| search / bare, measured requests/s | {ratio:.0%} | >= 60 %: {'met' if ratio_ok else 'missed'} |
| search / bare, capacity from server CPU per request | {cpu_ratio:.0%} | |

gunicorn: {workers} sync workers (config/gunicorn.conf.py, as in the Procfile); load from one client
process with {args.concurrency} threads (a new connection per request) on the same machine, {args.seconds:g} s per measurement, bare and search
alternated twice after a warm-up (median shown); non-200 answers: {errors}. Redis: 127.0.0.1:6379 database 13.
Load average at the end of the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (the machine is shared with
other work; wall-clock figures move with it, CPU per request much less).
""")
            print(f"wrote the lookup section of {DOCS.relative_to(ROOT)}")
    finally:
        for process in processes:
            stop(process)
        r.flushdb()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
