"""Moderation takes media down: only approved entries' renditions are at public URLs.

Renditions are stored as the worker stores them (kept under a private key); the organizer's
approval publishes them, and a take-down, a withdrawal or an edit sent back to review deletes
the public copy, so a URL captured while the entry was approved stops serving. Checked on the
local backend through the app's /media/ route, and on S3 over HTTP (moto's server), presigned
and with a public bucket URL (S3_PUBLIC_URL).
"""

from __future__ import annotations

import html
import io
import json
import re
import socket
import urllib.error
import urllib.request
import uuid
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import event, inspect, select

from contest.contests.models import Contest
from contest.db import now_utc
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.extensions import db as app_db
from contest.media import publication
from contest.storage import LocalStorage, S3Storage, Storage, build_storage, new_key, private_copy_key
from tests.support import log_in, s3_config

EN = {"Accept-Language": "en"}
MAX_AGE_S = 120


def s3(app, endpoint: str, bucket: str, *, public_url: bool) -> Storage:
    config = {**app.config, **s3_config(endpoint, bucket), "PUBLIC_MEDIA_MAX_AGE_S": MAX_AGE_S}
    if public_url:
        config["S3_PUBLIC_URL"] = f"{endpoint}/{bucket}"
    return build_storage(config)


def make_public_prefix_readable(storage: S3Storage) -> None:
    """The bucket policy S3_PUBLIC_URL stands for: anyone may read public/*, nothing else."""
    rule = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    rule["Resource"] = f"arn:aws:s3:::{storage.bucket}/public/*"
    policy = {"Version": "2012-10-17", "Statement": [rule]}
    storage.client.put_bucket_policy(Bucket=storage.bucket, Policy=json.dumps(policy))


@pytest.fixture(params=["local", "s3", "s3_public_url"])
def media_storage(request, app, tmp_path, monkeypatch):
    """The app's storage for the test: a local folder, S3 presigned, or S3 with a public URL."""
    monkeypatch.setitem(app.config, "PUBLIC_MEDIA_MAX_AGE_S", MAX_AGE_S)
    if request.param == "local":
        chosen = LocalStorage(tmp_path / "media", app.config["SECRET_KEY"])
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        public_url = request.param == "s3_public_url"
        chosen = s3(app, endpoint, f"test-{uuid.uuid4().hex[:10]}", public_url=public_url)
        chosen.ensure_bucket()
        if public_url:
            make_public_prefix_readable(chosen)
    monkeypatch.setitem(app.extensions, "storage", chosen)  # the app's for this test only
    return chosen


def get(client, url: str) -> tuple[int, bytes, str | None]:
    """Status, body and Cache-Control of a media URL: the app's route, or S3 over HTTP."""
    if url.startswith("/"):
        response = client.get(url)
        return response.status_code, response.data, response.headers.get("Cache-Control")
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read(), answer.headers.get("Cache-Control")
    except urllib.error.HTTPError as error:
        return error.code, b"", None


def jpeg(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), color).save(out, format="JPEG")
    return out.getvalue()


def entry_with_renditions(
    db, contest: Contest, author, storage: Storage
) -> tuple[Entry, dict[AssetKind, bytes]]:
    """An entry awaiting review whose thumbnail and display image are stored as the worker does."""
    entry = Entry(
        code=contest.next_entry_code(db),
        contest_id=contest.id,
        category_id=contest.categories[0].id,
        author_id=author.id,
        place_id=contest.places[0].id,
        title="Đồi chè Thanh Chương",
        taken_on=date(2024, 5, 1),
        status=EntryStatus.pending_review,
        submitted_at=now_utc(),
    )
    db.add(entry)
    db.flush()
    data = {AssetKind.thumb_jpeg: jpeg((10, 120, 60)), AssetKind.display_jpeg: jpeg((200, 40, 40))}
    for kind, content in data.items():
        key = new_key("public/r", f"/{kind.value}.jpg")
        storage.save(private_copy_key(key), io.BytesIO(content), content_type="image/jpeg")
        db.add(
            MediaAsset(
                entry_id=entry.id,
                kind=kind,
                storage_key=key,
                mime_type="image/jpeg",
                bytes=len(content),
                width=400,
                height=300,
            )
        )
    db.commit()
    return entry, data


def shown_image(client, code: str) -> str:
    """The URL of the entry page's image (its src: the thumbnail), as a browser reads it."""
    page = client.get(f"/e/{code}", headers=EN)
    assert page.status_code == 200
    [src] = re.findall(r'<img src="([^"]+)"', page.get_data(as_text=True))[:1]
    return html.unescape(src)


def public_urls(app, entry: Entry) -> list[str]:
    with app.test_request_context():
        storage = app.extensions["storage"]
        return [storage.url(a.storage_key) for a in entry.assets if a.is_public]


def approve(client, organizer, entry: Entry) -> None:
    log_in(client, organizer)
    assert client.post(f"/admin/entries/{entry.id}/approve").status_code == 302


def take_down(client, organizer, entry: Entry, contest: Contest, entrant) -> None:
    log_in(client, organizer)
    assert (
        client.post(f"/admin/entries/{entry.id}/reject", data={"reason": "Not in Nghệ An"}).status_code == 302
    )


def withdraw(client, organizer, entry: Entry, contest: Contest, entrant) -> None:
    log_in(client, entrant)
    assert client.post(f"/entries/{entry.code}/withdraw").status_code == 302


def edit(client, organizer, entry: Entry, contest: Contest, entrant) -> None:
    log_in(client, entrant)
    form = {"title": "Đồi chè", "place": str(contest.places[0].id), "taken_on": "2024-05-01"}
    assert client.post(f"/entries/{entry.code}/edit", data=form).status_code == 302


# --- the tests ---------------------------------------------------------------------------------
@pytest.mark.parametrize("leave", [take_down, withdraw, edit], ids=["take_down", "withdraw", "edit"])
def test_an_entry_leaving_the_gallery_takes_its_renditions_down(
    app, client, db, contest, organizer, entrant, media_storage, leave
):
    entry, data = entry_with_renditions(db, contest, entrant, media_storage)
    approve(client, organizer, entry)
    visitor = app.test_client()
    url = shown_image(visitor, entry.code)
    status, body, cache_control = get(visitor, url)
    assert (status, body) == (200, data[AssetKind.thumb_jpeg])
    assert cache_control == f"public, max-age={MAX_AGE_S}"

    leave(client, organizer, entry, contest, entrant)

    db.expire_all()
    assert entry.status is not EntryStatus.approved and entry.media_published is False
    assert get(visitor, url)[0] in (403, 404)
    assert all(get(visitor, u)[0] in (403, 404) for u in public_urls(app, entry))
    assert not any(media_storage.exists(a.storage_key) for a in entry.assets)
    if entry.status is not EntryStatus.withdrawn:  # the worker deletes a withdrawn entry's files
        assert all(media_storage.exists(private_copy_key(a.storage_key)) for a in entry.assets)


def test_a_taken_down_entry_approved_again_is_public_again(
    app, client, db, contest, organizer, entrant, storage
):
    entry, data = entry_with_renditions(db, contest, entrant, storage)
    approve(client, organizer, entry)
    url = shown_image(app.test_client(), entry.code)
    take_down(client, organizer, entry, contest, entrant)
    assert client.get(url).status_code == 404

    approve(client, organizer, entry)

    assert client.get(url).data == data[AssetKind.thumb_jpeg]


def test_an_entry_awaiting_review_has_nothing_at_a_public_url(
    app, client, db, contest, organizer, entrant, media_storage
):
    entry, data = entry_with_renditions(db, contest, entrant, media_storage)
    visitor = app.test_client()
    assert visitor.get(f"/e/{entry.code}", headers=EN).status_code == 404
    assert all(get(visitor, u)[0] in (403, 404) for u in public_urls(app, entry))
    assert not any(media_storage.exists(a.storage_key) for a in entry.assets)

    # Its author's preview shows the private copies, signed and never kept by a shared cache.
    log_in(client, entrant)
    url = shown_image(client, entry.code)
    assert "/private/r/" in url and "public/" not in url
    status, body, cache_control = get(client, url)
    assert (status, body) == (200, data[AssetKind.thumb_jpeg])
    if url.startswith("/"):  # the browser alone keeps it, while its URL is valid
        assert re.fullmatch(r"private, max-age=\d+", cache_control)
        assert int(cache_control.rsplit("=", 1)[1]) <= app.config["MEDIA_URL_EXPIRES_S"]


def test_a_public_media_file_is_kept_by_caches_for_the_configured_time(
    app, client, db, contest, organizer, entrant, storage, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_MEDIA_MAX_AGE_S", 45)
    entry, _ = entry_with_renditions(db, contest, entrant, storage)
    approve(client, organizer, entry)
    response = app.test_client().get(shown_image(app.test_client(), entry.code))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=45"


def test_a_take_down_while_storage_is_unreachable_is_finished_by_the_sweep(
    app, client, db, contest, organizer, entrant, s3_endpoint, monkeypatch
):
    bucket = f"test-{uuid.uuid4().hex[:10]}"
    live = s3(app, s3_endpoint, bucket, public_url=True)
    live.ensure_bucket()
    make_public_prefix_readable(live)
    with socket.socket() as probe:  # a port where nothing listens: every request is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.extensions, "storage", live)
    entry, _ = entry_with_renditions(db, contest, entrant, live)
    approve(client, organizer, entry)
    url = shown_image(app.test_client(), entry.code)
    assert get(client, url)[0] == 200
    app.extensions["storage"] = s3(app, f"http://127.0.0.1:{port}", bucket, public_url=True)
    take_down(client, organizer, entry, contest, entrant)

    db.expire_all()
    # The decision stands; the copy left behind is what the sweep looks for.
    assert (entry.status, entry.media_published) == (EntryStatus.rejected, True)
    assert get(client, url)[0] == 200
    app.extensions["storage"] = live
    with app.app_context():
        swept = publication.sweep(app_db.session)
    assert [(s.code, s.ok) for s in swept] == [(entry.code, True)]
    assert get(client, url)[0] in (403, 404)
    db.expire_all()
    assert db.scalar(select(Entry.media_published).where(Entry.id == entry.id)) is False


def test_an_approval_whose_commit_fails_leaves_nothing_public(app, db, contest, entrant, storage):
    entry, _ = entry_with_renditions(db, contest, entrant, storage)
    keys = [a.storage_key for a in entry.assets]

    def fail_when_recorded(session, _context):  # the commit's last flush: after the publication
        if inspect(entry).attrs.media_published.history.has_changes():
            raise RuntimeError("the database went away")

    event.listen(db, "after_flush", fail_when_recorded)
    with app.app_context(), pytest.raises(RuntimeError):
        entry.transition(EntryStatus.approved)
        db.commit()
    event.remove(db, "after_flush", fail_when_recorded)

    with app.app_context():
        db.rollback()
    assert not any(storage.exists(key) for key in keys)
    assert all(storage.exists(private_copy_key(key)) for key in keys)
    assert db.get(Entry, entry.id).status is EntryStatus.pending_review
