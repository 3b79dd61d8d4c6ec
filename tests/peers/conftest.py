"""Real peers for the notice channels: Prism serving Twilio's own OpenAPI description."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("LOKETLIJN_SHARED", ROOT / ".." / "shared")).resolve()
TWILIO_SPEC = SHARED / "peers" / "twilio" / "twilio_api_v2010.json"
PRISM = ROOT / "node_modules" / ".bin" / "prism"
START_LIMIT_SECONDS = 120


@pytest.fixture(scope="session")
def prism_url() -> Iterator[str]:
    """Prism mocking Twilio's API from ../shared/peers/twilio; skipped when the spec or Prism is absent."""
    if not TWILIO_SPEC.is_file():
        pytest.skip(f"{TWILIO_SPEC} is not present")
    if not (PRISM.exists() and shutil.which("node")):
        pytest.skip("Prism is not installed (`make node` installs it into ./node_modules)")
    port = free_port()
    process = subprocess.Popen([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(TWILIO_SPEC)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + START_LIMIT_SECONDS
    while True:  # wait on the condition (Prism accepting connections), bounded
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("Prism did not start")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
