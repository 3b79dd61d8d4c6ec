"""bench/handover: what one warm handover costs, in-process (the Flask app through its WSGI test client).

Three steps, --count each (default 300), one after the other:

1. `POST /api/v1/handovers` with a staff key (validation, phone and BSN checks, one handover, a partner
   link token, the audit record, the notice stored and queued);
2. `POST /o/<token>` by the partner (the button on the link's page: token used up, status opened) and the
   handover page it redirects to (personal fields decrypted, audit record, page rendered);
3. `POST /overdrachten/<ref>/uitkomst` by the partner, in the session the link started.

For each: wall-clock p50/p99 and this process's CPU time per request (CPU time depends far less on the
other work on a shared machine than wall-clock time does); plus Redis memory per handover (MEMORY USAGE of
every key it leaves: record, personal fields, attempts, token, notice, audit record; index entries are not
counted). No target is set by the issue; the figures are for comparison between changes. Prints them and
rewrites its own section of docs/benchmarks.md. Redis: 127.0.0.1:6379 database 12 (owned by this bench,
flushed before and after).

Run: make bench-handover   (or .venv/bin/python bench/handover.py [--count 300])
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REDIS_URL = os.environ.get("BENCH_HANDOVER_REDIS", "redis://127.0.0.1:6379/12")
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:handover -->", "<!-- /bench:handover -->"
LINK = re.compile(r"/o/([A-Za-z0-9_-]{43})")


def timed(count: int, request) -> dict[str, float]:
    walls = []
    cpu_start = time.process_time()
    for index in range(count):
        started = time.perf_counter()
        request(index)
        walls.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_start) * 1000 / count
    walls.sort()
    return {"p50": statistics.median(walls), "p99": walls[min(len(walls) - 1, int(len(walls) * 0.99))],
            "cpu": cpu_ms, "rps": 1000 / statistics.fmean(walls)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    count = parser.parse_args().count
    logging.disable(logging.INFO)  # one request log line per request would drown the figures

    from routing import create_app
    from routing.auth import service as accounts
    from routing.extensions import get_redis
    from routing.store import audit as audit_store
    from routing.store import handovers as store

    app = create_app({"LOKETLIJN_ENV": "testing", "REDIS_URL": REDIS_URL, "PUBLIC_BASE_URL": "http://localhost"})
    with app.app_context():
        r = get_redis()
        r.flushdb()
        key, _ = accounts.create_api_key(r, "bench", "staff", ["amsterdam-centrum"], None, actor="bench")
        staff = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        body = {"location": "amsterdam-centrum", "partner": "uwv", "phone": "06 12345678", "name": "mevrouw Jansen",
                "note": "Vraag over de WW-uitkering", "urgency": "normal", "consent": True}
        made: list[str] = []

        def create(_index: int) -> None:
            response = staff.post("/api/v1/handovers", json=body, headers=headers)
            assert response.status_code == 201, response.json
            made.append(response.json["reference"])

        created = timed(count, create)
        # The links, as the partner receives them: from the stored notices (the bench's only peek behind the API).
        links = [m.group(1) for k in r.scan_iter("ll:notice:*") if (m := LINK.search(str(r.hgetall(k))))]
        assert len(links) == count, (len(links), count)
        partners = [app.test_client() for _ in range(count)]

        def open_link(index: int) -> None:
            assert partners[index].post(f"/o/{links[index]}", follow_redirects=True).status_code == 200

        opened = timed(count, open_link)
        references = {}
        for index, client in enumerate(partners):
            with client.session_transaction() as session:
                references[index] = next(iter(session["handover_scope"]))

        def finish(index: int) -> None:
            response = partners[index].post(f"/overdrachten/{references[index]}/uitkomst", data={"outcome": "solved"})
            assert response.status_code == 302

        finished = timed(count, finish)

        def usage(pattern: str) -> int:
            return sum(r.memory_usage(k) or 0 for k in r.scan_iter(pattern))

        per = {
            "handover record, attempts": sum(r.memory_usage(k) or 0 for ref in made
                                             for k in (store.HANDOVER.format(ref=ref), store.ATTEMPTS.format(ref=ref))),
            "personal fields (encrypted)": sum(r.memory_usage(store.PERSONAL.format(ref=ref)) or 0 for ref in made),
            "partner link token (hash)": usage("ll:tok:*"),
            "notice": usage("ll:notice:*"),
            "audit records (create, view, outcome)": r.memory_usage(audit_store.STREAM) or 0,
        }
        per = {name: value / count for name, value in per.items()}
        r.flushdb()

    load = os.getloadavg()[0]
    rows = [("create (API POST)", created), ("partner opens the link (button POST + page)", opened),
            ("partner records the outcome", finished)]
    lines = [
        START,
        "## Warm handover (bench/handover)",
        "",
        f"Command: `make bench-handover` (`.venv/bin/python bench/handover.py --count {count}`)  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; in-process "
        f"(Flask test client, no HTTP server), Redis on 127.0.0.1 (db 12); load average at the end {load:.1f}. "
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {count} handovers.",
        "",
        "| step | p50 ms | p99 ms | CPU ms/request | requests/s (one client) |",
        "|---|---|---|---|---|",
        *[f"| {name} | {f['p50']:.1f} | {f['p99']:.1f} | {f['cpu']:.2f} | {f['rps']:.0f} |" for name, f in rows],
        "",
        "Redis memory per handover: " + "; ".join(f"{name} {value:.0f} B" for name, value in per.items())
        + f" (total {sum(per.values()):.0f} B).",
        "",
        "No target in the issue; the figures are for comparing changes. CPU ms/request is this process's own CPU "
        "time and the steadiest figure on a shared machine.",
        END,
    ]
    section = "\n".join(lines)
    print(section)
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if START in text and END in text:
        text = text[:text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.write_text(text)


if __name__ == "__main__":
    main()
