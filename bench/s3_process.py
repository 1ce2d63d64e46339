"""An S3 endpoint on loopback in a process of its own (moto's ThreadedMotoServer), for the benches
where the client's threads and the endpoint must not share one interpreter's lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from bench.upload import free_port

_SERVE = """
import sys, threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
threading.Event().wait()
"""


def _env() -> dict:
    """moto keeps each object in a spooled file that goes to disk over 5 MB: kept in memory here
    (up to 256 MB), as an object store's own disks are not this machine's; the same for both
    ways of sending a file."""
    return {**os.environ, "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(256 * 1024 * 1024)}


@contextmanager
def moto_process(log: Path):
    """Yield (process, endpoint) of a moto S3 server process; stopped afterwards."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(port)], stdout=out, stderr=subprocess.STDOUT, env=_env()
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(endpoint, timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield process, endpoint
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
