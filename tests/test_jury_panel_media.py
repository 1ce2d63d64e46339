"""What the judge's panel shows of a series and a video, and how an original downloads: under
the entry's code, from the local folder and from S3 over HTTP."""

from __future__ import annotations

import io
import re
import urllib.request
from datetime import timedelta

from sqlalchemy import select

from contest.contests.models import CategoryKind
from contest.db import now_utc
from contest.entries.models import AssetKind, MediaAsset
from contest.jury.models import Assignment, RoundKind
from contest.jury.rounds import RoundSpec, create_round, open_round
from contest.storage import LocalStorage, new_key
from tests.jury_support import build_jury
from tests.support import category, log_in, make_entry
from tests.test_jury_panel import add_media


def judged_page(db, client, jury, entry, kind: CategoryKind):
    """The panel's page of ``entry`` for the first judge, in an open yes/no round of its category."""
    now = now_utc()
    spec = RoundSpec(
        "Vòng",
        "Round",
        RoundKind.yes_no,
        now - timedelta(days=1),
        now + timedelta(days=7),
        (category(jury.contest, kind),),
    )
    round_ = create_round(db, jury.contest, spec, actor_id=jury.organizer.id)
    open_round(db, round_, actor_id=None)
    db.commit()
    judge = jury.judges[0]
    assignment = db.scalar(
        select(Assignment.id).where(Assignment.round_id == round_.id, Assignment.entry_id == entry.id)
    )
    log_in(client, judge)
    return client.get(f"/jury/rounds/{round_.id}/entries/{assignment}").text


def fetch(client, url: str):
    """(status, Content-Disposition) of a media URL: the app's own, or S3's over HTTP."""
    if url.startswith("/"):
        response = client.get(url)
        return response.status_code, response.headers.get("Content-Disposition")
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Disposition")


def downloads(page: str) -> list[str]:
    return [u.replace("&amp;", "&") for u in re.findall(r'href="([^"]+)" download', page)]


def test_a_series_shows_as_a_strip_and_each_original_downloads_under_the_code(
    db, client, contest, any_storage
):
    jury = build_jury(db, contest, judges=1, entries_each=0)
    entry = make_entry(db, contest, jury.entrants[0], kind=CategoryKind.photo_series)
    for position in range(3):
        add_media(db, any_storage, entry, uploaded_as=f"IMG_{position}.JPG", position=position)
    db.commit()
    page = judged_page(db, client, jury, entry, CategoryKind.photo_series)
    assert page.count('class="jury-shot"') == 3 and "jury-strip-series" in page
    links = downloads(page)
    assert len(links) == 3
    for n, link in enumerate(links, start=1):
        status, disposition = fetch(client, link)
        assert status == 200
        assert f"{entry.code}-{n}.jpg" in disposition and disposition.startswith("attachment")
        assert "IMG_" not in disposition


def test_a_video_plays_its_best_rendition_first(db, client, contest, storage):
    jury = build_jury(db, contest, judges=1, entries_each=0)
    entry = make_entry(db, contest, jury.entrants[0], kind=CategoryKind.video)
    made = [
        (AssetKind.original, "", 0, "video/mp4", new_key(f"originals/{contest.slug}", ".mp4")),
        (AssetKind.jury_original, "", 0, "video/mp4", new_key("jury", "/original.mp4")),
        (AssetKind.video_mp4, "720p", 720, "video/mp4", new_key("public/r", "/720p.mp4")),
        (AssetKind.video_mp4, "1080p", 1080, "video/mp4", new_key("public/r", "/1080p.mp4")),
        (AssetKind.poster_jpeg, "", 720, "image/jpeg", new_key("public/r", "/poster.jpg")),
    ]
    for kind, label, height, mime, key in made:
        storage.save(key, io.BytesIO(b"\x00\x00\x00\x18ftypmp42"), content_type=mime)
        entry.assets.append(
            MediaAsset(
                kind=kind,
                label=label,
                height=height,
                storage_key=key,
                mime_type=mime,
                bytes=12,
                original_filename="Quay_boi_tac_gia.MOV" if kind is AssetKind.original else None,
            )
        )
    db.commit()
    page = judged_page(db, client, jury, entry, CategoryKind.video)
    sources = re.findall(r'<source src="([^"]+)"', page)
    assert [s.rsplit("/", 1)[1] for s in sources] == ["1080p.mp4", "720p.mp4"]
    assert 'poster="/media/public/r/' in page
    (link,) = downloads(page)
    status, disposition = fetch(client, link)
    assert status == 200 and disposition == f"attachment; filename={entry.code}.mp4"
    assert isinstance(storage, LocalStorage) and "Quay_boi" not in page
