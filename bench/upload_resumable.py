"""``upload_resumable_ratio`` and ``upload_web_rss_growth_mb``: a 200 MB video sent the resumable way.

The web application runs in gunicorn (one sync worker) on a loopback port, on a migrated SQLite
database, with its storage on S3: moto's ThreadedMotoServer in a process of its own, over HTTP.
A verified entrant logs in through the login form, then does with ``requests`` exactly what the
entry form's script (static/js/entry-upload.js, Uppy's AwsS3 plugin) does: POST /uploads with the
file's name, type and size; for each part, GET /uploads/<id>/parts/<n> and PUT the part's bytes to
the presigned URL it returns, 4 parts at a time (the script's ``limit``); POST .../complete with
the parts' ETags. The file is bench.upload's: a real MP4 padded to 200,000,000 bytes with a
``free`` box (sparse on disk); each part is read from disk when it is sent.

The denominator is one plain PUT of the same file to the same endpoint (a presigned put_object
URL, the body streamed from disk by ``requests``). The two are measured in alternate rounds and
the ratio is the median round's: resumable throughput / plain throughput.

While the resumable uploads run, the gunicorn worker's VmRSS is sampled every 50 ms and its VmHWM
read before and after (bench.upload.RssSampler): the growth is the peak over the RSS just before.

``python -m bench.upload_resumable`` runs it alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import requests

from bench.s3_process import moto_process
from bench.upload import (
    SOURCE_VIDEO,
    RssSampler,
    csrf_token,
    free_port,
    log_in,
    make_video,
    prepare_database,
    start_server,
    status_kb,
    stop_server,
    worker_pid,
)

ROUNDS = 3
CONCURRENT_PARTS = 4  # static/js/entry-upload.js: AwsS3's limit
REPORT = (
    "Resumable upload (bench/upload_resumable.py): a 200,000,000-byte MP4 sent as the entry form's\n"
    f"script sends it (POST /uploads, a presigned URL per part, {CONCURRENT_PARTS} parts at a time, complete) to\n"
    "S3 (moto in its own process, loopback) through gunicorn (one sync worker, SQLite);\n"
    "upload_resumable_ratio: its throughput over one plain PUT of the same file to the same\n"
    f"endpoint (median of {ROUNDS} alternate rounds); upload_resumable_parts_ratio: the same until the last\n"
    "part is stored (upload_resumable_complete_s: the completion request, where moto joins the parts\n"
    "in memory); upload_web_rss_growth_mb: the web worker's peak RSS\n"
    "(VmRSS every 50 ms, VmHWM) over its RSS just before, the largest of the rounds.\n"
)


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Entrant:
    """The entry form's script, driven from Python: the app's upload API, parts PUT to storage."""

    def __init__(self, base: str, browser: requests.Session, category_id: int) -> None:
        self.base, self.browser, self.category_id = base, browser, category_id
        token = csrf_token(browser.get(f"{base}/entries/new").text)
        self.headers = {"X-CSRFToken": token, "Accept": "application/json", "Referer": f"{base}/entries/new"}

    def api(self, method: str, path: str, **kwargs) -> dict:
        response = self.browser.request(method, self.base + path, headers=self.headers, timeout=120, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def send(
        self,
        path: Path,
        filename: str = "VID_20240501_063000.mp4",
        field: str = "video",
        type_: str = "video/mp4",
    ) -> dict:
        size = path.stat().st_size
        body = {"category_id": self.category_id, "field": field, "filename": filename, "type": type_}
        upload = self.api("POST", "/uploads", json={**body, "size": size})
        numbers = range(1, upload["partCount"] + 1)

        def put(number: int) -> dict:
            target = self.api("GET", f"/uploads/{upload['id']}/parts/{number}")
            with path.open("rb") as f:
                f.seek((number - 1) * upload["partSize"])
                data = f.read(upload["partSize"])
            response = requests.put(
                target["url"], data=data, headers=target.get("headers") or {}, timeout=300
            )
            response.raise_for_status()
            return {"PartNumber": number, "ETag": response.headers["ETag"]}

        with ThreadPoolExecutor(CONCURRENT_PARTS) as pool:
            parts = list(pool.map(put, numbers))
        self.parts_done_at = time.perf_counter()  # the completion's own time is told apart
        return self.api("POST", f"/uploads/{upload['id']}/complete", json={"parts": parts})


def plain_put(client, bucket: str, path: Path) -> float:
    """Seconds for one PUT of the whole file to a presigned put_object URL."""
    key = f"bench/plain-{uuid.uuid4().hex}.mp4"
    url = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
    started = time.perf_counter()
    with path.open("rb") as f:
        response = requests.put(url, data=f, timeout=600)
    took = time.perf_counter() - started
    response.raise_for_status()
    client.delete_object(Bucket=bucket, Key=key)
    return took


def resumable(entrant: Entrant, path: Path, pid: int) -> tuple[float, float, float]:
    """(seconds, seconds until the last part was stored, web worker RSS growth in MB) of one
    resumable upload of ``path``."""
    before_kb, hwm_before_kb = status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")
    sampler = RssSampler(pid)
    sampler.start()
    started = time.perf_counter()
    try:
        done = entrant.send(path)
    finally:
        took = time.perf_counter() - started
        sampler.stop()
    if done.get("state") != "stored" or done.get("size") != path.stat().st_size:
        raise RuntimeError(f"the upload did not end stored: {done}")
    hwm_after_kb = status_kb(pid, "VmHWM")
    peak_kb = max(sampler.peak_kb, hwm_after_kb if hwm_after_kb > hwm_before_kb else 0)
    return took, entrant.parts_done_at - started, (peak_kb - before_kb) / 1024


def measure(tmp: Path) -> dict:
    video = make_video(tmp / "video-200mb.mp4")
    url = f"sqlite:///{tmp / 'upload.sqlite'}"
    email, category_id, _place_id = prepare_database(url)
    with moto_process(tmp / "moto.log") as (_moto, endpoint):
        bucket = f"bench-resumable-{uuid.uuid4().hex[:8]}"
        from contest.storage import build_storage
        from tests.support import s3_config

        s3 = s3_config(endpoint, bucket)
        secret = "bench-resumable-" + "x" * 32
        build_storage({"MEDIA_URL_EXPIRES_S": 3600, "SECRET_KEY": secret, **s3}).ensure_bucket()
        env = {
            **os.environ,
            **{k: v for k, v in s3.items() if v},
            "CONTEST_ENV": "development",
            "CONTEST_INSTANCE": str(tmp),
            "DATABASE_URL": url,
            "SECRET_KEY": secret,
            "JOB_DISPATCH": "off",
            "RATELIMIT_ENABLED": "false",
        }
        port = free_port()
        server = start_server(env, port, tmp / "gunicorn.log")
        try:
            base = f"http://127.0.0.1:{port}"
            pid = worker_pid(server)
            entrant = Entrant(base, log_in(base, email), category_id)
            warm_up = tmp / "warm-up.mp4"
            shutil.copyfile(SOURCE_VIDEO, warm_up)
            entrant.send(warm_up)  # loads every module of the upload path
            client = s3_client(endpoint)
            rounds = []
            for _ in range(ROUNDS):
                plain_s = plain_put(client, bucket, video)
                resumable_s, parts_s, growth_mb = resumable(entrant, video, pid)
                rounds.append((plain_s / resumable_s, plain_s, resumable_s, growth_mb, plain_s / parts_s))
        finally:
            stop_server(server)
    size_mb = video.stat().st_size / 1e6
    ratio, plain_s, resumable_s, _, parts_ratio = sorted(rounds)[len(rounds) // 2]
    return {
        "upload_resumable_ratio": ratio,
        "upload_web_rss_growth_mb": max(r[3] for r in rounds),
        "upload_resumable_mb_s": size_mb / resumable_s,
        "upload_plain_put_mb_s": size_mb / plain_s,
        "upload_resumable_ratio_min": min(r[0] for r in rounds),
        # Until the last part is stored: the rest is the completion, where moto joins the
        # parts in its own memory (a bytearray, a CRC, a copy), which S3 does not make the client wait for.
        "upload_resumable_parts_ratio": parts_ratio,
        "upload_resumable_complete_s": resumable_s - plain_s / parts_ratio,
        "upload_resumable_rss_growth_mb_median": statistics.median(r[3] for r in rounds),
    }


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(Path(tmp))
    for name, value in figures.items():
        print(f"{name}={value:.3f}" if isinstance(value, float) else f"{name}={value}")


if __name__ == "__main__":
    main()
