"""The upload API (contest.uploads): a file sent straight to storage in parts, on the local
backend (the app takes the parts) and on S3 over HTTP (moto; the parts go to presigned URLs)."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from contest.contests.models import CategoryKind
from contest.db import now_utc
from contest.storage import S3Storage
from contest.uploads.models import Upload, UploadState
from contest.uploads.services import stored_upload
from contest.uploads.sweep import sweep_uploads
from tests.support import category, create_user, log_in

EN = {"Accept-Language": "en"}
MIB = 1024 * 1024


@pytest.fixture
def entrant_client(client, entrant):
    log_in(client, entrant)
    return client


def start(
    client, contest, *, kind=CategoryKind.video, field="video", filename="clip.mp4", type_="video/mp4", size
):
    body = {
        "category_id": category(contest, kind).id,
        "field": field,
        "filename": filename,
        "type": type_,
        "size": size,
    }
    return client.post("/uploads", json=body, headers=EN)


def put_part(client, upload_id: str, number: int, data: bytes) -> str:
    """Send one part where the app says (S3's presigned URL or the app's own); its ETag."""
    target = client.get(f"/uploads/{upload_id}/parts/{number}", headers=EN)
    assert target.status_code == 200, target.get_json()
    url = target.get_json()["url"]
    if url.startswith("http"):
        response = requests.put(url, data=data, timeout=30)
        assert response.status_code == 200, response.text
    else:
        response = client.put(url, data=data)
        assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


def send_all(client, upload: dict, data: bytes, numbers=None) -> list[dict]:
    size = upload["partSize"]
    numbers = numbers or range(1, upload["partCount"] + 1)
    return [
        {"PartNumber": n, "ETag": put_part(client, upload["id"], n, data[(n - 1) * size : n * size])}
        for n in numbers
    ]


def object_keys(storage) -> list[str]:
    return list(storage.keys("originals/"))


def open_multipart_uploads(storage) -> list:
    if isinstance(storage, S3Storage):
        return storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
    return []


# --- the whole path, both backends ------------------------------------------------------------
def test_create_send_parts_complete(any_storage, db, contest, entrant, entrant_client, app):
    data = os.urandom(10 * MIB + 12345)
    created = start(entrant_client, contest, size=len(data))
    assert created.status_code == 201, created.get_json()
    upload = created.get_json()
    assert (upload["partSize"], upload["partCount"]) == (8 * MIB, 2)
    parts = send_all(entrant_client, upload, data)
    assert parts[0]["ETag"].strip('"') == hashlib.md5(data[: 8 * MIB]).hexdigest()

    done = entrant_client.post(f"/uploads/{upload['id']}/complete", json={"parts": parts}, headers=EN)
    assert done.status_code == 200, done.get_json()
    assert done.get_json() == {
        "id": upload["id"],
        "state": "stored",
        "filename": "clip.mp4",
        "size": len(data),
    }
    assert b"".join(any_storage.read_chunks(upload["key"])) == data
    assert open_multipart_uploads(any_storage) == []
    db.expire_all()
    video = category(contest, CategoryKind.video)
    found = stored_upload(db, entrant, upload["id"], video, "video")
    assert found is not None and found.state is UploadState.stored and found.completed_at is not None
    assert stored_upload(db, entrant, upload["id"], video, "photo") is None
    assert stored_upload(db, create_user(db, "x@example.com"), upload["id"], video, "video") is None
    # Completing again (the answer was lost) says the same and changes nothing.
    again = entrant_client.post(f"/uploads/{upload['id']}/complete", json={"parts": parts}, headers=EN)
    assert again.status_code == 200 and again.get_json()["state"] == "stored"


def test_resume_lists_the_parts_already_stored(any_storage, db, contest, entrant_client):
    data = os.urandom(17 * MIB)
    upload = start(entrant_client, contest, size=len(data)).get_json()
    assert upload["partCount"] == 3
    first = send_all(entrant_client, upload, data, numbers=[1, 3])
    listed = entrant_client.get(f"/uploads/{upload['id']}/parts", headers=EN).get_json()
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [
        (1, 8 * MIB, first[0]["ETag"]),
        (3, 1 * MIB, first[1]["ETag"]),
    ]
    # The tab comes back: only the missing part is sent, then the upload completes.
    rest = send_all(entrant_client, upload, data, numbers=[2])
    parts = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed] + rest
    done = entrant_client.post(f"/uploads/{upload['id']}/complete", json={"parts": parts}, headers=EN)
    assert done.status_code == 200, done.get_json()
    assert b"".join(any_storage.read_chunks(upload["key"])) == data


# --- refused before a byte is stored -----------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"size": 201 * 1000 * 1000}, "accepts files of at most 200 MB"),
        (
            {"filename": "notes.txt", "type": "text/plain"},
            "is not a file this category accepts: it takes MP4, MOV",
        ),
        ({"filename": "clip.mp4", "type": "image/jpeg"}, "is not a file this category accepts"),
        ({"field": "photo"}, "does not belong to the chosen category"),
        ({"size": 0}, "The file is empty."),
    ],
)
def test_refused_before_any_object_exists(any_storage, db, contest, entrant_client, overrides, message):
    kwargs = {"field": "video", "filename": "clip.mp4", "type_": "video/mp4", "size": 5 * MIB}
    kwargs.update({("type_" if k == "type" else k): v for k, v in overrides.items()})
    size = kwargs.pop("size")
    response = start(entrant_client, contest, size=size, **kwargs)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert object_keys(any_storage) == [] and open_multipart_uploads(any_storage) == []
    assert db.scalar(select(Upload)) is None


def test_a_photo_under_its_minimum_is_refused(storage, contest, entrant_client):
    response = start(
        entrant_client,
        contest,
        kind=CategoryKind.photo,
        field="photo",
        filename="a.jpg",
        type_="image/jpeg",
        size=1000,
    )
    assert response.status_code == 400
    assert "needs files of at least 3 MB" in response.get_json()["error"]


def test_refusals_are_in_the_users_language(storage, contest, entrant_client):
    with entrant_client.session_transaction() as session:
        session["lang"] = "vi"
    body = {"category_id": category(contest, CategoryKind.video).id, "field": "video"}
    body.update(filename="a.txt", type="text/plain", size=10)
    response = entrant_client.post("/uploads", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == (
        "“a.txt” không phải là loại tệp mà thể loại này chấp nhận: thể loại này nhận MP4, MOV."
    )
    body.update(filename="a.mov", type="video/quicktime", size=300 * 1000 * 1000)
    error = entrant_client.post("/uploads", json=body).get_json()["error"]
    assert error.startswith("Tệp có dung lượng 300") and "tối đa 200" in error


def test_submission_closed_is_refused(storage, db, contest, entrant_client):
    contest.submission_closes_at = now_utc() - timedelta(minutes=1)
    db.commit()
    response = start(entrant_client, contest, size=5 * MIB)
    assert response.status_code == 403
    assert "are closed" in response.get_json()["error"]


def test_too_many_open_uploads(storage, app, db, contest, entrant_client, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_OPEN", 2)
    assert [start(entrant_client, contest, size=MIB).status_code for _ in range(3)] == [201, 201, 429]
    assert "too many uploads in progress" in start(entrant_client, contest, size=MIB).get_json()["error"]


# --- completion checks the size ------------------------------------------------------------------
def test_size_mismatch_at_completion_leaves_no_object(any_storage, db, contest, entrant_client):
    upload = start(entrant_client, contest, size=6 * MIB).get_json()
    parts = send_all(entrant_client, upload, os.urandom(5 * MIB))  # one part, a mebibyte short
    done = entrant_client.post(f"/uploads/{upload['id']}/complete", json={"parts": parts}, headers=EN)
    assert done.status_code == 400
    assert "does not match the file announced" in done.get_json()["error"]
    assert object_keys(any_storage) == [] and open_multipart_uploads(any_storage) == []
    db.expire_all()
    assert db.get(Upload, upload["id"]).state is UploadState.aborted
    # Nothing more can be sent for it.
    assert entrant_client.get(f"/uploads/{upload['id']}/parts/1", headers=EN).status_code == 409


def test_a_part_not_stored_cannot_be_named(any_storage, contest, entrant_client):
    data = os.urandom(MIB)
    upload = start(entrant_client, contest, size=len(data)).get_json()
    send_all(entrant_client, upload, data)
    wrong = [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}]
    done = entrant_client.post(f"/uploads/{upload['id']}/complete", json={"parts": wrong}, headers=EN)
    assert done.status_code == 400 and "did not arrive" in done.get_json()["error"]
    assert object_keys(any_storage) == []


def test_malformed_bodies_are_400_not_500(storage, contest, entrant_client):
    assert entrant_client.post("/uploads", data="nonsense", headers=EN).status_code == 400
    assert entrant_client.post("/uploads", json={"category_id": "x"}, headers=EN).status_code == 400
    upload = start(entrant_client, contest, size=MIB).get_json()
    for body in (None, {}, {"parts": "x"}, {"parts": [{"PartNumber": "1", "ETag": 3}]}):
        response = entrant_client.post(f"/uploads/{upload['id']}/complete", json=body, headers=EN)
        assert response.status_code == 400 and "error" in response.get_json()
    assert entrant_client.get(f"/uploads/{upload['id']}/parts/2", headers=EN).status_code == 400
    assert entrant_client.get(f"/uploads/{upload['id']}/parts/0", headers=EN).status_code == 400


# --- part URLs belong to their upload and account -------------------------------------------------
def test_part_url_refused_for_another_account(any_storage, db, contest, client, entrant):
    log_in(client, entrant)
    upload = start(client, contest, size=MIB).get_json()
    url = client.get(f"/uploads/{upload['id']}/parts/1", headers=EN).get_json()["url"]
    log_in(client, create_user(db, "other@example.com"))
    for path in (f"/uploads/{upload['id']}/parts/1", f"/uploads/{upload['id']}/parts"):
        response = client.get(path, headers=EN)
        assert response.status_code == 404 and "not yours" in response.get_json()["error"]
    assert client.delete(f"/uploads/{upload['id']}", headers=EN).status_code == 404
    if not url.startswith("http"):  # the local backend's own part URL, used by another account
        response = client.put(url, data=b"x" * 10, headers=EN)
        assert response.status_code == 403
        assert "not valid for your account" in response.get_json()["error"]
    assert object_keys(any_storage) == []


def test_s3_part_urls_sign_the_parts_length(s3_storage, app, db, contest, entrant_client, monkeypatch):
    """S3 itself refuses a part of another size than the one signed (moto does not check
    signatures, so this checks what is signed)."""
    from urllib.parse import parse_qs, urlsplit

    monkeypatch.setitem(app.extensions, "storage", s3_storage)
    upload = start(entrant_client, contest, size=10 * MIB + 7).get_json()
    for number, length in ((1, 8 * MIB), (2, 2 * MIB + 7)):
        url = entrant_client.get(f"/uploads/{upload['id']}/parts/{number}", headers=EN).get_json()["url"]
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-SignedHeaders"] == ["content-length;host"]
        assert query["partNumber"] == [str(number)] and query["uploadId"] == [upload["uploadId"]]
        response = requests.put(url, data=b"x" * length, timeout=30)
        assert response.status_code == 200


def test_local_part_url_refused_for_another_upload_or_part(storage, db, contest, entrant_client):
    first = start(entrant_client, contest, size=MIB).get_json()
    second = start(entrant_client, contest, size=MIB).get_json()
    url = entrant_client.get(f"/uploads/{first['id']}/parts/1", headers=EN).get_json()["url"]
    assert entrant_client.put(url.replace(first["id"], second["id"]), data=b"x").status_code == 403
    assert entrant_client.put(url.replace("/parts/1/", "/parts/2/"), data=b"x").status_code == 403
    expired = url.split("exp=")[0] + "exp=1&" + url.split("&", 1)[1]
    assert entrant_client.put(expired, data=b"x").status_code == 403
    assert entrant_client.get(f"/uploads/{second['id']}/parts", headers=EN).get_json() == []


def test_local_part_larger_than_its_size_is_refused(storage, app, db, contest, entrant_client, monkeypatch):
    upload = start(entrant_client, contest, size=MIB).get_json()
    assert upload["partSize"] == 8 * MIB
    url = entrant_client.get(f"/uploads/{upload['id']}/parts/1", headers=EN).get_json()["url"]
    response = entrant_client.put(url, data=b"x" * (8 * MIB + 1))
    assert response.status_code == 413
    assert entrant_client.get(f"/uploads/{upload['id']}/parts", headers=EN).get_json() == []


def test_abort_deletes_the_parts(any_storage, db, contest, entrant_client):
    data = os.urandom(MIB)
    upload = start(entrant_client, contest, size=len(data)).get_json()
    send_all(entrant_client, upload, data)
    response = entrant_client.delete(f"/uploads/{upload['id']}", headers=EN)
    assert response.status_code == 200 and response.get_json()["state"] == "aborted"
    assert open_multipart_uploads(any_storage) == [] and object_keys(any_storage) == []
    assert entrant_client.get(f"/uploads/{upload['id']}/parts", headers=EN).get_json() == []


# --- the sweep ------------------------------------------------------------------------------------
def test_sweep_aborts_abandoned_and_deletes_unattached(any_storage, app, db, contest, entrant_client):
    data = os.urandom(MIB)
    abandoned = start(entrant_client, contest, size=len(data)).get_json()
    send_all(entrant_client, abandoned, data)
    unattached = start(entrant_client, contest, size=len(data)).get_json()
    parts = send_all(entrant_client, unattached, data)
    entrant_client.post(f"/uploads/{unattached['id']}/complete", json={"parts": parts}, headers=EN)
    fresh = start(entrant_client, contest, size=len(data)).get_json()
    if isinstance(any_storage, S3Storage):
        assert len(open_multipart_uploads(any_storage)) == 2
    assert object_keys(any_storage) == [unattached["key"]]

    limit = app.config["UPLOAD_ABANDON_AFTER_S"]
    with app.app_context():
        assert sweep_uploads(db, now_utc(), limit) == []  # nothing is old enough yet
        swept = sweep_uploads(db, now_utc() + timedelta(seconds=limit + 60), limit)
    assert sorted(swept) == sorted([abandoned["id"], unattached["id"], fresh["id"]])
    assert open_multipart_uploads(any_storage) == [] and object_keys(any_storage) == []
    db.expire_all()
    assert {db.get(Upload, i).state for i in swept} == {UploadState.aborted}


# --- who may call what ----------------------------------------------------------------------------
ROLES = ["anonymous", "owner", "other_entrant", "unverified", "judge", "organizer"]
ACCESS = {
    ("POST", "/uploads"): (401, 201, 201, 403, 403, 403),
    ("GET", "/uploads/{id}/parts/1"): (401, 200, 404, 403, 403, 403),
    ("PUT", "/uploads/{id}/parts/1/data"): (401, 200, 403, 403, 403, 403),
    ("GET", "/uploads/{id}/parts"): (401, 200, 404, 403, 403, 403),
    ("POST", "/uploads/{id}/complete"): (401, 200, 404, 403, 403, 403),
    ("DELETE", "/uploads/{id}"): (401, 200, 404, 403, 403, 403),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "route"), list(ACCESS))
def test_access_matrix(method, route, role, storage, db, contest, entrant, judge, organizer, client):
    from contest.auth.models import Role

    log_in(client, entrant)
    upload = start(client, contest, size=10).get_json()
    part_url = client.get(f"/uploads/{upload['id']}/parts/1").get_json()["url"]
    etag = client.put(part_url, data=b"0123456789").headers["ETag"] if method == "POST" else None
    with client.session_transaction() as session:
        session.clear()
    users = {
        "owner": entrant,
        "judge": judge,
        "organizer": organizer,
        "other_entrant": create_user(db, "other@example.com"),
        "unverified": create_user(db, "new@example.com", verified=False),
    }
    assert users["judge"].role is Role.judge
    if role != "anonymous":
        log_in(client, users[role])
    path = part_url if method == "PUT" else route.format(id=upload["id"])
    body = {"parts": [{"PartNumber": 1, "ETag": etag}]} if "complete" in route else None
    if route == "/uploads":
        body = {"category_id": category(contest, CategoryKind.video).id, "field": "video"}
        body.update(filename="v.mp4", type="video/mp4", size=10)
    payload = {"data": b"0123456789"} if method == "PUT" else {"json": body}
    response = client.open(path, method=method, **payload)
    assert response.status_code == ACCESS[(method, route)][ROLES.index(role)], response.get_json()
    assert response.is_json
    if response.status_code >= 400:
        assert response.get_json()["error"]


def test_the_beat_task_runs_the_sweep(storage, app, db, contest, entrant_client, monkeypatch):
    from worker.celery_app import celery
    from worker.uploads import sweep_abandoned_uploads

    upload = start(entrant_client, contest, size=MIB).get_json()
    assert celery.conf.beat_schedule["sweep-uploads"]["task"] == sweep_abandoned_uploads.name
    monkeypatch.setitem(app.config, "UPLOAD_ABANDON_AFTER_S", -1)
    with app.app_context():
        sweep_abandoned_uploads()
    db.expire_all()
    assert db.get(Upload, upload["id"]).state is UploadState.aborted
    assert not (Path(app.config["UPLOAD_PARTS_DIR"]) / upload["uploadId"]).exists()


def test_storage_init_lets_the_site_upload_parts_to_the_bucket(app, s3_storage, monkeypatch):
    from contest.cli import contest_cli

    monkeypatch.setitem(app.extensions, "storage", s3_storage)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://anh.example.vn/some/path")
    result = app.test_cli_runner().invoke(contest_cli, ["storage-init"])
    assert result.exit_code == 0 and "storage ready" in result.output
    rules = s3_storage.client.get_bucket_cors(Bucket=s3_storage.bucket)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["https://anh.example.vn"]
    assert "PUT" in rules[0]["AllowedMethods"] and rules[0]["ExposeHeaders"] == ["ETag"]
    lifecycle = s3_storage.client.get_bucket_lifecycle_configuration(Bucket=s3_storage.bucket)["Rules"]
    assert lifecycle[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_starting_uploads_is_rate_limited_per_account(tmp_path):
    from contest import create_app
    from contest.contests.demo import build_demo_contest
    from contest.extensions import db as db_ext
    from tests.support import make_test_config, migrate

    config = make_test_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        RATELIMIT_ENABLED=True,
        UPLOAD_RATE_LIMIT="2 per hour",
    )
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        contest, _ = build_demo_contest(db_ext.session)
        db_ext.session.commit()
        user = create_user(db_ext.session, "limited@example.com")
        body = {"category_id": category(contest, CategoryKind.video).id, "field": "video"}
    body.update(filename="v.mp4", type="video/mp4", size=MIB)
    client = app.test_client()
    log_in(client, user)
    answers = [client.post("/uploads", json=body, headers=EN) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert "tried too many times" in answers[2].get_json()["error"]
    app.extensions["db"].dispose()


def test_the_sweep_passes_by_an_upload_an_entry_is_taking(tmp_path):
    """PostgreSQL, real commits: stored_upload locks the row until the entry's commit, and the
    sweep skips a locked row instead of deleting the file under the entry."""
    import io

    from sqlalchemy.orm import Session

    from contest.contests.demo import build_demo_contest
    from contest.extensions import db as db_ext
    from contest.storage import get_storage
    from tests.support import app_on_own_database

    with app_on_own_database(tmp_path) as (app, _url), app.app_context():
        contest, _ = build_demo_contest(db_ext.session)
        user = create_user(db_ext.session, "sweep@example.com")
        video = category(contest, CategoryKind.video)
        upload = Upload(
            user_id=user.id, contest_id=contest.id, category_id=video.id, field="video", filename="v.mp4",
            content_type="video/mp4", size=3, part_size=3, part_count=1, storage_key="originals/t/v.mp4",
            state=UploadState.stored, completed_at=now_utc(),
        )  # fmt: skip
        db_ext.session.add(upload)
        db_ext.session.commit()
        get_storage().save(upload.storage_key, io.BytesIO(b"abc"), content_type="video/mp4")
        later = now_utc() + timedelta(days=2)
        with Session(db_ext.engine) as entry_side:
            taken = stored_upload(entry_side, user, upload.id, video, "video")
            assert taken is not None
            assert sweep_uploads(db_ext.session, later, 3600) == []  # locked: passed by
            taken.move_to(UploadState.attached)
            entry_side.commit()
        assert sweep_uploads(db_ext.session, later, 3600) == []  # attached: never swept
        assert get_storage().exists(upload.storage_key)


def test_the_sweep_drops_local_part_folders_no_upload_names(storage, app, db, contest, entrant_client):
    from contest.uploads.services import multipart

    upload = start(entrant_client, contest, size=MIB).get_json()
    with app.app_context():
        orphan = multipart().start("originals/t/orphan.mp4", content_type="video/mp4")
        parts = Path(app.config["UPLOAD_PARTS_DIR"])
        later = now_utc() + timedelta(seconds=120)
        assert sweep_uploads(db, later, 3600) == []  # neither is old enough
        assert (parts / orphan).is_dir()
        db.execute(Upload.__table__.update().values(created_at=now_utc() + timedelta(hours=2)))
        assert sweep_uploads(db, later, 60) == []  # the upload's row is recent; the orphan's folder is not
    assert not (parts / orphan).exists() and (parts / upload["uploadId"]).is_dir()
