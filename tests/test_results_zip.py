"""The ZIP of the winners' originals: built by the worker from storage into storage (a local
folder, and S3 over HTTP), every file byte-identical to its original, the manifest right, a
failure leaving nothing behind, a second run changing nothing; the organizer's page."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import struct
import time
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from contest import create_app
from contest.audit.models import AuditEvent
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.contests.models import CategoryKind
from contest.db import now_utc
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.extensions import db as db_ext
from contest.results import zip_items as zip_module
from contest.results.export_jobs import ExportJob, ExportKind, ExportStatus, new_export_job
from contest.results.prizes import Award, PrizeKind, PrizeSlot
from contest.storage import LocalStorage, S3Storage
from tests.browser import live_server
from tests.support import (
    PASSWORD,
    CeleryWorker,
    category,
    create_user,
    log_in,
    login_id,
    make_test_config,
    migrate,
    real_video_source,
    s3_config,
    wallpaper,
)
from worker.tasks import export_winners_zip

EN = {"Accept-Language": "en"}


@dataclass
class Winners:
    photo: Entry
    series: Entry
    video: Entry
    files: dict[str, Path]  # name in the ZIP -> the original file


def _original(db, storage, entry: Entry, path: Path, *, position: int = 0, mime: str = "image/jpeg") -> None:
    key = f"originals/{entry.code.lower()}/{position}{path.suffix.lower()}"
    with path.open("rb") as stream:
        size = storage.save(key, stream, content_type=mime)
    entry.assets.append(
        MediaAsset(
            kind=AssetKind.original,
            position=position,
            storage_key=key,
            mime_type=mime,
            bytes=size,
            original_filename=f"DSC_{position:04d}{path.suffix.upper()}",
        )
    )
    db.flush()


def _entry(db, contest, author, kind: CategoryKind) -> Entry:
    from datetime import date

    entry = Entry(
        code=contest.next_entry_code(db),
        contest_id=contest.id,
        category_id=category(contest, kind).id,
        author_id=author.id,
        place_id=contest.places[0].id,
        title="Bình minh trên sông Lam",
        taken_on=date(2025, 5, 1),
        status=EntryStatus.approved,
        submitted_at=now_utc(),
        approved_at=now_utc(),
    )
    db.add(entry)
    db.flush()
    return entry


def _slot(db, contest, name_vi: str, name_en: str, kind=PrizeKind.jury, cat=None, position=0) -> PrizeSlot:
    slot = PrizeSlot(
        contest_id=contest.id,
        category_id=cat.id if cat else None,
        kind=kind,
        name_vi=name_vi,
        name_en=name_en,
        count=3,
        position=position,
    )
    db.add(slot)
    db.flush()
    return slot


def _award(db, slot: PrizeSlot, entry: Entry, place: int, organizer) -> None:
    db.add(
        Award(
            slot_id=slot.id,
            kind=slot.kind,
            category_id=slot.category_id,
            place=place,
            entry_id=entry.id,
            proposed_entry_id=entry.id,
            assigned_by_id=organizer.id,
        )
    )
    db.flush()


@pytest.fixture
def winners(db, contest, entrant, organizer, any_storage) -> Winners:
    """A photo, a series of two and a video with the first prize of their category; the photo
    also with the audience prize (contest-wide): five files, real photos and real footage."""
    photo_cat, series_cat, video_cat = (category(contest, k) for k in CategoryKind)
    photo = _entry(db, contest, entrant, CategoryKind.photo)
    _original(db, any_storage, photo, wallpaper("Volna"))
    series = _entry(db, contest, entrant, CategoryKind.photo_series)
    _original(db, any_storage, series, wallpaper("Flow"), position=0)
    _original(db, any_storage, series, wallpaper("Shell"), position=1)
    video = _entry(db, contest, entrant, CategoryKind.video)
    _original(db, any_storage, video, real_video_source(), mime="video/mp4")
    for cat, entry in ((photo_cat, photo), (series_cat, series), (video_cat, video)):
        _award(db, _slot(db, contest, "Giải Nhất", "First prize", cat=cat), entry, 1, organizer)
    audience = _slot(db, contest, "Giải Bình chọn", "Audience prize", PrizeKind.audience, position=5)
    _award(db, audience, photo, 1, organizer)
    db.commit()
    files = {
        f"giai-nhat/anh-don/{photo.code}.jpg": wallpaper("Volna"),
        f"giai-nhat/bo-anh/{series.code}-1.jpg": wallpaper("Flow"),
        f"giai-nhat/bo-anh/{series.code}-2.jpg": wallpaper("Shell"),
        f"giai-nhat/video/{video.code}.mp4": real_video_source(),
        f"giai-binh-chon/anh-don/{photo.code}.jpg": wallpaper("Volna"),
    }
    return Winners(photo, series, video, files)


def _job(db, contest, organizer) -> ExportJob:
    job = new_export_job(db, contest.id, ExportKind.winners_zip, organizer.id)
    db.commit()
    return job


def _run(app, job_id: int) -> None:
    with app.app_context():
        export_winners_zip(job_id)


def _zip_bytes(storage, key: str) -> bytes:
    return b"".join(storage.read_chunks(key))


def _exports_left(storage) -> list[str]:
    """Every object or half-written file under exports/, and S3's unfinished uploads."""
    if isinstance(storage, LocalStorage):
        files = (storage.root / "exports").rglob("*")
        return [p.relative_to(storage.root).as_posix() for p in files if p.is_file()]
    assert isinstance(storage, S3Storage)
    uploads = storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
    return list(storage.keys("exports/")) + [u["Key"] for u in uploads]


# --- the archive -------------------------------------------------------------------------
def test_the_zip_holds_every_winners_original_byte_for_byte(
    app, db, contest, organizer, winners, any_storage
):
    job = _job(db, contest, organizer)
    _run(app, job.id)
    db.expire_all()
    job = db.get(ExportJob, job.id)
    assert (job.status, job.error) == (ExportStatus.done, None)
    data = _zip_bytes(any_storage, job.storage_key)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None  # every CRC right
    assert archive.namelist() == [*winners.files, "MANIFEST.csv"]
    for name, path in winners.files.items():
        assert archive.read(name) == path.read_bytes(), name
    for info in archive.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        assert info.flag_bits & 0x08, "a data descriptor: the output was not seekable"
    manifest = list(csv.DictReader(io.StringIO(archive.read("MANIFEST.csv").decode())))
    assert [row["file"] for row in manifest] == list(winners.files)
    for row in manifest:
        original = winners.files[row["file"]].read_bytes()
        assert row["sha256"] == hashlib.sha256(original).hexdigest()
        assert int(row["bytes"]) == len(original)
        assert row["file"].rsplit("/", 1)[1].startswith(row["code"])
    total = sum(p.stat().st_size for p in winners.files.values())
    assert (job.files_done, job.files_total, job.bytes_done, job.bytes_total) == (5, 5, total, total)
    assert job.result_bytes == len(data)
    assert _exports_left(any_storage) == [job.storage_key]


def test_a_missing_original_fails_the_job_and_leaves_no_half_zip(
    app, db, contest, organizer, winners, any_storage, monkeypatch
):
    """The series' second photo is gone: parts already uploaded (5 MiB parts here) are dropped
    with the multipart upload, the job is failed with a message naming the entry."""
    monkeypatch.setattr("contest.storage_stream.PART_BYTES", 5 * 1024 * 1024)
    any_storage.delete(winners.series.originals()[1].storage_key)
    job = _job(db, contest, organizer)
    _run(app, job.id)
    db.expire_all()
    job = db.get(ExportJob, job.id)
    assert job.status is ExportStatus.failed
    assert winners.series.code in job.error and "ObjectMissing" in job.error
    assert job.finished_at is not None and job.result_bytes is None
    assert job.files_done >= 1  # it failed on its way, after whole parts were sent
    assert _exports_left(any_storage) == []


def test_run_twice_gives_one_result(app, db, contest, organizer, winners, any_storage):
    job = _job(db, contest, organizer)
    _run(app, job.id)
    first = _zip_bytes(any_storage, job.storage_key)
    _run(app, job.id)  # the task delivered a second time
    db.expire_all()
    job = db.get(ExportJob, job.id)
    assert (job.status, job.attempts) == (ExportStatus.done, 1)
    assert _zip_bytes(any_storage, job.storage_key) == first
    assert len(list(any_storage.keys("exports/"))) == 1


def test_a_newer_zip_replaces_the_older_one(app, client, db, contest, organizer, winners, any_storage):
    """The originals are personal data: once a newer ZIP of the contest is done, the older
    file is deleted and its row says so; its download is gone."""
    first = _job(db, contest, organizer)
    _run(app, first.id)
    second = _job(db, contest, organizer)
    _run(app, second.id)
    db.expire_all()
    assert db.get(ExportJob, first.id).status is ExportStatus.superseded
    assert db.get(ExportJob, second.id).status is ExportStatus.done
    assert _exports_left(any_storage) == [second.storage_key]
    log_in(client, organizer)
    status = client.get(f"/admin/results/exports/zip/jobs/{first.id}.json", headers=EN).json
    assert status["label"] == "Replaced by a newer ZIP, and deleted" and status["download_url"] is None
    assert client.get(f"/admin/results/exports/zip/jobs/{first.id}/download").status_code == 404


def test_a_silent_attempt_is_taken_over_and_a_held_one_left_alone(
    app, db, contest, organizer, winners, any_storage
):
    """A worker that died mid-way left half a ZIP (an unfinished upload, a temporary file):
    the attempt that takes its job over drops it and starts clean."""
    from datetime import timedelta

    job = _job(db, contest, organizer)
    job.status, job.attempts, job.files_total, job.files_done = ExportStatus.running, 1, 5, 1
    job.heartbeat_at = now_utc()
    db.commit()
    dead = any_storage.open_writer(job.storage_key, content_type="application/zip")
    dead.write(b"PK\x03\x04" + bytes(1000))  # never committed nor aborted
    assert _exports_left(any_storage)
    _run(app, job.id)  # another worker holds it: nothing done
    db.expire_all()
    assert db.get(ExportJob, job.id).attempts == 1
    assert list(any_storage.keys("exports/")) == []
    job.heartbeat_at = now_utc() - timedelta(hours=1)
    db.commit()
    _run(app, job.id)  # that worker died: this one starts clean
    db.expire_all()
    job = db.get(ExportJob, job.id)
    assert (job.status, job.attempts, job.files_done) == (ExportStatus.done, 2, 5)
    assert len(zipfile.ZipFile(io.BytesIO(_zip_bytes(any_storage, job.storage_key))).namelist()) == 6
    assert _exports_left(any_storage) == [job.storage_key]


def test_zip64_members_open_too(app, db, contest, organizer, winners, any_storage, monkeypatch):
    """Members written with ZIP64 sizes (as any above 2 GiB are) are read back intact."""
    monkeypatch.setattr("worker.jobs.export_zip.FORCE_ZIP64_BYTES", 1)
    job = _job(db, contest, organizer)
    _run(app, job.id)
    data = _zip_bytes(any_storage, job.storage_key)
    archive = zipfile.ZipFile(io.BytesIO(data))
    name = f"giai-nhat/video/{winners.video.code}.mp4"
    assert archive.read(name) == real_video_source().read_bytes()
    offset = archive.getinfo(name).header_offset
    name_length, extra_length = struct.unpack("<HH", data[offset + 26 : offset + 30])
    extra_at = offset + 30 + name_length
    assert extra_length and data[extra_at : extra_at + 2] == b"\x01\x00"  # the local header's ZIP64 field


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Giải Nhất", "giai-nhat"),
        ("Giải Khuyến khích", "giai-khuyen-khich"),
        ("Đặc biệt: Ảnh đơn", "dac-biet-anh-don"),
        ("Bộ ảnh", "bo-anh"),
        ("★★", ""),
    ],
)
def test_folder_names_are_ascii(text, expected):
    assert zip_module.slug(text) == expected


# --- the organizer's page ----------------------------------------------------------------
ROUTES = [
    ("get", "/admin/results/exports/zip/"),
    ("post", "/admin/results/exports/zip/contests/{contest}"),
    ("get", "/admin/results/exports/zip/jobs/{job}.json"),
    ("get", "/admin/results/exports/zip/jobs/{job}/download"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("entrant", 403), ("judge", 403), ("organizer", None)]
)
def test_access_matrix(request, client, db, contest, organizer, method, route, role, expected):
    job = _job(db, contest, organizer)
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = getattr(client, method)(route.format(contest=contest.id, job=job.id), headers=EN)
    # The organizer: the page, a redirect back after the build, the status, and no download
    # of a job not done yet.
    organizer_status = {"/admin/results/exports/zip/": 200, "{job}.json": 200, "download": 404}
    wanted = expected or next((s for k, s in organizer_status.items() if route.endswith(k)), 302)
    assert response.status_code == wanted
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")


def test_the_organizer_builds_follows_and_downloads_the_zip(
    app, client, db, contest, organizer, winners, any_storage
):
    log_in(client, organizer)
    response = client.post(
        f"/admin/results/exports/zip/contests/{contest.id}", headers=EN, follow_redirects=True
    )
    assert "The ZIP is being built." in response.get_data(as_text=True)
    job = db.scalars(select(ExportJob)).one()
    assert client.get(f"/admin/results/exports/zip/jobs/{job.id}.json").json["status"] == "queued"
    again = client.post(
        f"/admin/results/exports/zip/contests/{contest.id}", headers=EN, follow_redirects=True
    )
    assert "already being built" in again.get_data(as_text=True)
    assert db.scalars(select(ExportJob)).all() == [job]
    _run(app, job.id)
    status = client.get(f"/admin/results/exports/zip/jobs/{job.id}.json", headers=EN).json
    assert (status["status"], status["percent"], status["files_done"]) == ("done", 100, 5)
    assert status["label"] == "Ready: 5 files"
    download = client.get(status["download_url"])
    assert download.status_code == 302
    link = download.headers["Location"]
    assert f"{contest.slug}-winners-originals-{job.id}.zip" in link
    if isinstance(any_storage, LocalStorage):  # the signed local link serves the ZIP itself
        served = client.get(link)
        assert served.status_code == 200 and served.data == _zip_bytes(any_storage, job.storage_key)
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "export_job")).all()
    assert sorted(actions) == ["export.winners_zip_downloaded", "export.winners_zip_requested"]
    page = client.get("/admin/results/exports/zip/", headers=EN).get_data(as_text=True)
    assert "Download the ZIP" in page and status["download_url"] in page


def test_no_zip_without_winners(client, db, contest, organizer):
    log_in(client, organizer)
    response = client.post(
        f"/admin/results/exports/zip/contests/{contest.id}", headers=EN, follow_redirects=True
    )
    assert "No prize has been awarded yet" in response.get_data(as_text=True)
    assert db.scalars(select(ExportJob)).all() == []


def test_a_failed_build_says_why_on_the_page(app, client, db, contest, organizer, winners, any_storage):
    any_storage.delete(winners.video.originals()[0].storage_key)
    job = _job(db, contest, organizer)
    _run(app, job.id)
    log_in(client, organizer)
    status = client.get(f"/admin/results/exports/zip/jobs/{job.id}.json", headers=EN).json
    assert status["status"] == "failed" and winners.video.code in status["label"]
    assert status["download_url"] is None
    assert client.get(f"/admin/results/exports/zip/jobs/{job.id}/download").status_code == 404


@pytest.mark.browser
def test_the_page_follows_the_build_on_a_phone(tmp_path, browser_page):
    """390 px wide in headless Chromium: the page fits, its script follows a queued job until
    the download link shows, with no policy violation."""
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        session = db_ext.session
        contest, _ = build_demo_contest(session)
        organizer = create_user(session, "btc@example.com", role=Role.organizer, birth_year=None, locale="en")
        entry = _entry(session, contest, create_user(session, "tac.gia@example.com"), CategoryKind.photo)
        _original(session, app.extensions["storage"], entry, wallpaper("Volna"))
        slot = _slot(session, contest, "Giải Nhất", "First prize", cat=category(contest, CategoryKind.photo))
        _award(session, slot, entry, 1, organizer)
        job_id = _job(session, contest, organizer).id
    page = browser_page.page
    try:
        with live_server(app) as url:
            page.goto(f"{url}/account/login", wait_until="load")
            page.fill("input[name=email]", "btc@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form [type=submit]").last.click()
            page.wait_for_load_state("load")
            page.goto(f"{url}/admin/results/exports/zip/", wait_until="load")
            assert "Waiting for the worker" in page.content()
            assert page.get_by_role("button", name="Build the ZIP of the winners' originals").is_disabled()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            _run(app, job_id)  # the worker, while the page is open
            page.get_by_role("link", name="Download the ZIP").wait_for(state="visible", timeout=15_000)
            assert "Ready: 1 file" in page.content()
            assert page.get_by_role("button", name="Build the ZIP of the winners' originals").is_enabled()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()


def test_the_sweep_sends_again_the_jobs_the_broker_or_a_worker_lost(app, db, contest, organizer, monkeypatch):
    """Queued a minute ago and still waiting, or running with a silent worker: sent again,
    after the commit; a fresh one, a held one and a finished one are left alone."""
    from datetime import timedelta

    from contest.processing import dispatch
    from worker.tasks import sweep_jobs

    sent = []
    monkeypatch.setattr(dispatch, "send_now", lambda task, *args: sent.append((task, *args)))
    long_ago = now_utc() - timedelta(hours=1)
    jobs = [_job(db, contest, organizer) for _ in range(5)]
    lost, _fresh, orphaned, held, done = jobs
    lost.created_at = long_ago
    orphaned.status, orphaned.heartbeat_at = ExportStatus.running, long_ago
    held.status, held.heartbeat_at, held.created_at = ExportStatus.running, now_utc(), long_ago
    done.status, done.created_at, done.result_bytes = ExportStatus.done, long_ago, 1
    done.finished_at = long_ago
    db.commit()
    with app.app_context():
        sweep_jobs()
    exports = [args for task, *args in sent if task == "worker.export_winners_zip"]
    assert exports == [[lost.id], [orphaned.id]]


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["contest", "export-zip", *map(str, args)])


def test_the_zip_from_the_command_line(app, db, contest, organizer, winners, any_storage, tmp_path):
    """Asked for (audited, as the operator), built by the worker, followed with a progress bar
    and copied into a file, byte for byte the stored ZIP."""
    asked = _cli(app, "--contest", contest.slug, "--no-wait")
    assert asked.exit_code == 0, asked.output
    job = db.scalars(select(ExportJob)).one()
    assert f"export job {job.id} queued" in asked.output and job.requested_by_id is None
    _run(app, job.id)  # the worker
    out = tmp_path / "giai-thuong.zip"
    followed = _cli(app, "--follow", job.id, "--out", out)
    assert followed.exit_code == 0, followed.output
    assert followed.output.splitlines()[0] == f"export job {job.id}"  # the bar's label (no terminal)
    assert out.read_bytes() == _zip_bytes(any_storage, job.storage_key)
    assert not (tmp_path / "giai-thuong.zip.part").exists()
    events = db.scalars(select(AuditEvent).where(AuditEvent.subject_type == "export_job")).all()
    assert sorted(e.action for e in events) == [
        "export.winners_zip_downloaded",
        "export.winners_zip_requested",
    ]
    assert all(e.actor_id is None and e.details["via"] == "cli" for e in events)


def test_the_command_line_says_what_went_wrong(app, db, contest, organizer, winners, any_storage):
    any_storage.delete(winners.photo.originals()[0].storage_key)
    job = _job(db, contest, organizer)
    _run(app, job.id)
    failed = _cli(app, "--follow", job.id)
    assert failed.exit_code == 1 and "failed" in failed.output and winners.photo.code in failed.output
    assert _cli(app, "--follow", 999999).output.strip().endswith("there is no export job 999999")
    waiting = _job(db, contest, organizer)  # no worker takes it: the wait ends at the timeout
    timed_out = _cli(app, "--follow", waiting.id, "--timeout", 0)
    assert timed_out.exit_code == 1 and f"export job {waiting.id} queued" in timed_out.output
    assert "there is no contest 'nope'" in _cli(app, "--contest", "nope").output


@pytest.mark.e2e
def test_a_real_worker_builds_the_zip_an_organizer_asks_for(tmp_path, s3_endpoint):
    """Nothing eager: the page's button commits the job and sends its task to the broker, a
    ``celery worker`` process builds the ZIP from S3 over HTTP back into S3, and the signed
    link downloads it from the store under the contest's name."""
    url = f"sqlite:///{tmp_path / 'site.sqlite'}"
    migrate(url)
    s3, broker = (
        s3_config(s3_endpoint, f"zip-{uuid.uuid4().hex[:10]}"),
        f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
    )
    secret = "zip-e2e-secret-" + "x" * 32
    config = make_test_config(
        tmp_path / "web", url, SECRET_KEY=secret, JOB_DISPATCH="celery", BROKER_URL=broker, **s3
    )
    app = create_app(config)
    storage = app.extensions["storage"]
    storage.ensure_bucket()
    with app.app_context():
        session = db_ext.session
        contest, _ = build_demo_contest(session)
        organizer = create_user(session, "btc@example.com", role=Role.organizer, birth_year=None)
        entry = _entry(session, contest, create_user(session, "tac.gia@example.com"), CategoryKind.video)
        _original(session, storage, entry, real_video_source(), mime="video/mp4")
        slot = _slot(session, contest, "Giải Nhì", "Second prize", cat=category(contest, CategoryKind.video))
        _award(session, slot, entry, 1, organizer)
        session.commit()
        contest_id, slug, code, organizer_id = contest.id, contest.slug, entry.code, login_id(app, organizer)
    env = {
        **os.environ,
        **{k: v for k, v in s3.items() if v is not None},
        "CONTEST_INSTANCE": str(tmp_path / "worker"),
        "DATABASE_URL": url,
        "BROKER_URL": broker,
        "SECRET_KEY": secret,
        "JOB_DISPATCH": "celery",
    }
    worker = CeleryWorker("zip", tmp_path, env, beat=False)
    try:
        worker.wait_ready()
        client = app.test_client()
        with client.session_transaction() as s:
            s["_user_id"], s["_fresh"] = organizer_id, True
        assert client.post(f"/admin/results/exports/zip/contests/{contest_id}").status_code == 302
        with app.app_context():
            job_id = db_ext.session.scalars(select(ExportJob.id)).one()
        status = _wait_finished(client, job_id)
        assert status["status"] == "done", (status, worker.text())
        link = client.get(status["download_url"]).headers["Location"]
        with urllib.request.urlopen(link) as answer:  # the store itself, over HTTP
            assert f"{slug}-winners-originals-{job_id}.zip" in answer.headers["Content-Disposition"]
            archive = zipfile.ZipFile(io.BytesIO(answer.read()))
        assert archive.read(f"giai-nhi/video/{code}.mp4") == real_video_source().read_bytes()
    finally:
        worker.stop()
        print(f"----- worker log -----\n{worker.text()}")
        app.extensions["celery_client"].close()
        app.extensions["db"].dispose()


def _wait_finished(client, job_id: int, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(f"/admin/results/exports/zip/jobs/{job_id}.json").json
        if status["finished"]:
            return status
        time.sleep(0.2)
    return status
