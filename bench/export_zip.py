"""The ZIP of the winners' originals at 1 GB: ``export_zip_rss_growth_mb`` and ``export_zip_ratio``.

S3 over HTTP is moto's server in a process of its own (it keeps objects in its memory: the
figures are the worker's, not moto's). 50 winners' originals of 20 MiB (random bytes, so
incompressible as JPEGs are; generated once, each made distinct by its first bytes) are put
there, with a migrated SQLite database holding their entries and awards. A second process,
the worker's stand-in, builds the ZIP through worker.jobs.export_zip back into the same
store; it reports its own RSS growth (peak during the build over the resident size before,
the peak reset through /proc/self/clear_refs first) and the build's time, then reads the
same objects in one plain loop (get_object, 1 MiB chunks), twice, the faster counting.

``python -m bench.export_zip`` runs it alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPORT = (
    "Winners' ZIP: 50 originals of 20 MiB (1 GiB) from S3 over HTTP (moto in its own process)\n"
    "back into S3 by the worker's job in a process of its own; export_zip_rss_growth_mb is that\n"
    "process's peak RSS during the build minus its RSS before; export_zip_ratio the build's\n"
    "throughput over a plain loop reading the same objects (get_object, 1 MiB chunks, best of 2).\n"
    "The build waits on moto: export_zip_store_assembly_s is moto's complete_multipart_upload\n"
    "(it joins the parts in Python), export_zip_waiting_for_parts_s the time the job waited for a\n"
    "part buffer while moto took in the parts; export_zip_ratio_without_assembly leaves the first out.\n"
    "The *_cpu_s lines: the worker process's own CPU time for the build and for the plain read;\n"
    "export_zip_ratio_null_sink: the same ZIP built into nothing (reading, CRC and SHA-256 only).\n"
)
OBJECTS, OBJECT_MIB = 50, 20
MIB = 1024 * 1024
CHILD_FLAG = "--build-job"


def measure() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        moto = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_listening(port)
            config = _config(Path(tmp), f"http://127.0.0.1:{port}")
            job_id = _load(config)
            return _build_in_child(config, job_id)
        finally:
            moto.terminate()
            moto.wait(timeout=30)


def _config(tmp: Path, endpoint: str) -> dict:
    from tests.support import make_test_config, migrate, s3_config

    url = f"sqlite:///{tmp / 'bench.sqlite'}"
    migrate(url)
    return make_test_config(tmp, url, **s3_config(endpoint, f"bench-zip-{uuid.uuid4().hex[:8]}"))


def _load(config: dict) -> int:
    """The objects in the store; the contest, its 50 winners and a queued job in the database."""
    from contest import create_app
    from contest.extensions import db
    from contest.storage import get_storage

    app = create_app(config)
    with app.app_context():
        storage = get_storage()
        storage.ensure_bucket()
        keys = _put_objects(storage)
        job_id = _winners_and_job(db.session, keys)
    app.extensions["db"].dispose()
    return job_id


def _put_objects(storage) -> list[str]:
    body = bytearray(os.urandom(OBJECT_MIB * MIB))
    keys = []
    for index in range(OBJECTS):
        body[:8] = index.to_bytes(8, "big")
        key = f"originals/bench-{index:03d}/DSC_{index:04d}.jpg"
        storage.client.put_object(Bucket=storage.bucket, Key=key, Body=bytes(body), ContentType="image/jpeg")
        keys.append(key)
    return keys


def _winners_and_job(session, keys: list[str]) -> int:
    """The demo contest, one consolation prize per object's entry, and a queued job."""
    from contest.auth.models import Role
    from contest.contests.demo import build_demo_contest
    from contest.results.export_jobs import ExportKind, new_export_job
    from tests.support import create_user

    contest, _ = build_demo_contest(session)
    author = create_user(session, "tac.gia@example.com")
    organizer = create_user(session, "btc@example.com", role=Role.organizer, birth_year=None)
    _winners(session, contest, author, organizer, keys)
    job = new_export_job(session, contest.id, ExportKind.winners_zip, organizer.id)
    session.commit()
    return job.id


def _winners(session, contest, author, organizer, keys: list[str]) -> None:
    from contest.contests.models import CategoryKind
    from contest.entries.models import AssetKind, MediaAsset
    from contest.results.prizes import Award, PrizeKind, PrizeSlot
    from tests.support import category, make_entry

    photo = category(contest, CategoryKind.photo)
    slot = PrizeSlot(
        contest_id=contest.id,
        category_id=photo.id,
        kind=PrizeKind.jury,
        name_vi="Giải Khuyến khích",
        name_en="Consolation prize",
        count=OBJECTS,
    )
    session.add(slot)
    session.flush()
    for place, key in enumerate(keys, start=1):
        entry = make_entry(session, contest, author, title=f"Ảnh {place}")
        entry.assets.append(
            MediaAsset(
                kind=AssetKind.original, storage_key=key, mime_type="image/jpeg", bytes=OBJECT_MIB * MIB
            )
        )
        session.add(
            Award(
                slot_id=slot.id,
                kind=slot.kind,
                category_id=photo.id,
                place=place,
                entry_id=entry.id,
                proposed_entry_id=entry.id,
                assigned_by_id=organizer.id,
            )
        )


def _build_in_child(config: dict, job_id: int) -> dict:
    env = {**os.environ, "BENCH_ZIP_CONFIG": json.dumps(config)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.export_zip", CHILD_FLAG, str(job_id)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the ZIP build failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the worker's stand-in (a process of its own) ----------------------------------------
def build_job(job_id: int) -> dict:
    from contest import create_app
    from contest.extensions import db
    from contest.results.export_jobs import ExportJob, ExportStatus
    from contest.results.zip_items import zip_items
    from contest.storage import get_storage
    from worker.jobs.export_zip import run_export_zip

    app = create_app(json.loads(os.environ["BENCH_ZIP_CONFIG"]))
    with app.app_context():
        storage = get_storage()
        contest_id = db.session.get(ExportJob, job_id).contest_id
        keys = [item.storage_key for item in zip_items(db.session, contest_id)]
        db.session.rollback()
        _plain_read(storage, keys[:1])  # connections and code paths warm
        writers = _keep_writers(storage)
        rss_before = _reset_peak_and_rss()
        started, cpu = time.perf_counter(), time.process_time()
        run_export_zip(db.session, job_id, storage, stale_after_s=600)
        build_s, build_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        peak = _status_mb("VmHWM")
        job = db.session.get(ExportJob, job_id, populate_existing=True)
        if job.status is not ExportStatus.done:
            raise SystemExit(f"the job ended {job.status}: {job.error}")
        read_s, read_cpu_s = min(_plain_read(storage, keys) for _ in range(2))
        null_s = _null_sink_s(storage, zip_items(db.session, contest_id))
        total_mib = job.bytes_total / MIB
    assembly_s, waited_s = writers[0].complete_s, writers[0].waited_s
    return {
        "export_zip_rss_growth_mb": peak - rss_before,
        "export_zip_ratio": read_s / build_s,
        "export_zip_mb_s": total_mib / build_s,
        "export_zip_plain_read_mb_s": total_mib / read_s,
        "export_zip_build_s": build_s,
        "export_zip_build_cpu_s": build_cpu_s,
        "export_zip_plain_read_cpu_s": read_cpu_s,
        "export_zip_waiting_for_parts_s": waited_s,
        "export_zip_store_assembly_s": assembly_s,
        "export_zip_ratio_without_assembly": read_s / (build_s - assembly_s),
        "export_zip_ratio_null_sink": read_s / null_s,
        "export_zip_result_mb": job.result_bytes / MIB,
    }


def _keep_writers(storage) -> list:
    """The writers the job opens, kept for their timings (waiting for parts, the assembly)."""
    writers, open_writer = [], storage.open_writer

    def opened(*args, **kwargs):
        writers.append(open_writer(*args, **kwargs))
        return writers[-1]

    storage.open_writer = opened
    return writers


def _null_sink_s(storage, items) -> float:
    """Seconds to build the same ZIP into nothing: the job's own part (read, CRC, SHA-256)."""
    from contest.storage_stream import ObjectWriter
    from worker.jobs.export_zip import write_zip

    class NullWriter(ObjectWriter):
        def write(self, data: bytes) -> int:
            self.size += len(data)
            return len(data)

        def commit(self) -> int:
            self.closed = True
            return self.size

        def abort(self) -> None:
            self.closed = True

    class NullSink:
        read_chunks = storage.read_chunks

        @staticmethod
        def open_writer(key: str, *, content_type: str) -> ObjectWriter:
            return NullWriter()

    started = time.perf_counter()
    write_zip(NullSink(), items, "exports/bench/null.zip", lambda _n: None, lambda: None)
    return time.perf_counter() - started


def _plain_read(storage, keys: list[str]) -> tuple[float, float]:
    """Seconds (wall, then CPU) to read ``keys`` in one loop: get_object, its body in 1 MiB chunks."""
    started, cpu = time.perf_counter(), time.process_time()
    for key in keys:
        body = storage.client.get_object(Bucket=storage.bucket, Key=key)["Body"]
        for _chunk in body.iter_chunks(MIB):
            pass
        body.close()
    return time.perf_counter() - started, time.process_time() - cpu


def _reset_peak_and_rss() -> float:
    """The resident size now, the peak (VmHWM) reset to it where the kernel allows."""
    with contextlib.suppress(OSError):  # else the peak also covers the start-up: an overestimate
        Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"moto did not listen on port {port}")


if __name__ == "__main__":
    os.environ.setdefault("CONTEST_ENV", "testing")
    if len(sys.argv) == 3 and sys.argv[1] == CHILD_FLAG:
        print(json.dumps(build_job(int(sys.argv[2]))))
    else:
        for name, value in measure().items():
            print(f"{name}={value:.3f}")
