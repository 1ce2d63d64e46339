"""A 200 MB video from a phone-sized Chromium, end to end, on both storage backends (issue 19).

The video is the category's largest (200 MB, the 2025 rule). While it travels the entrant
presses the button with a date outside the works' window: the date is refused and focused at
once, the video goes on. With the date fixed, the button shows the progress and cannot be
pressed again; the network drops part-way and comes back; once stored the form posts itself,
once; the worker's check makes the entry submitted with the 200,000,000 bytes sent.
"""

from __future__ import annotations

import math
import re
import uuid

import pytest
from sqlalchemy import select

from contest import create_app
from contest.contests.services import seed_demo
from contest.entries.models import AssetKind, Entry, EntryStatus
from contest.extensions import db
from contest.processing.models import JobKind, ProcessingJob
from contest.storage_multipart import prepare_bucket
from contest.uploads.models import Upload, UploadState
from tests.browser import PHONE, live_server
from tests.support import make_test_config, migrate, s3_config
from tests.test_resumable_upload_browser import (
    PART_DATA,
    fill_the_text,
    no_overflow,
    open_form,
    padded_video,
)
from worker.tasks import process_media

pytestmark = pytest.mark.browser
SIZE = 200 * 1000 * 1000  # the 2025 rule's largest video, exactly
S3_PART = re.compile(r"[?&]partNumber=(\d+)")


@pytest.fixture(params=["local", "s3"])
def served(request, tmp_path, s3_endpoint):
    """The demo contest served over HTTP, its files on the local folder or in a moto bucket."""
    extra = s3_config(s3_endpoint, f"big-{uuid.uuid4().hex[:10]}") if request.param == "s3" else {}
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}", **extra)
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        seed_demo(db.session)
        db.session.commit()
    storage = app.extensions["storage"]
    if request.param == "s3":
        storage.ensure_bucket()
    try:
        with live_server(app) as url:
            if request.param == "s3":
                prepare_bucket(storage, url)
            yield app, url, request.param
    finally:
        app.extensions["db"].dispose()


@pytest.fixture
def context(chromium):
    context = chromium.new_context(viewport=PHONE, locale="en-US")
    yield context
    context.close()


def part_number(url: str, backend: str) -> int | None:
    match = PART_DATA.search(url) if backend == "local" else S3_PART.search(url)
    return int(match.group(2 if backend == "local" else 1)) if match else None


def test_a_200_mb_video_survives_a_dropped_network_and_arrives(served, context, tmp_path):
    app, url, backend = served
    video = padded_video(tmp_path / "lang-sen.mp4", SIZE)
    watched = open_form(context, url, "video")
    page = watched.page
    sent: list[int] = []
    page.on(
        "requestfinished",
        lambda r: (
            sent.append(part_number(r.url, backend))
            if r.method == "PUT" and part_number(r.url, backend)
            else None
        ),
    )
    pattern = PART_DATA if backend == "local" else S3_PART
    dropped: list[int] = []

    def tunnel(route):
        """Part 7 finds the network gone; later parts pass untouched."""
        if part_number(route.request.url, backend) == 7 and not dropped:
            dropped.append(7)
            context.set_offline(True)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(pattern, tunnel)
    posts: list[str] = []
    page.on(
        "request", lambda r: posts.append(r.url) if r.method == "POST" and "/entries/new" in r.url else None
    )
    page.set_input_files("input[name=video]", str(video))
    # The entrant fills the text while the video travels, with a date outside the works'
    # window, and presses the button: the date is refused at once, the video goes on.
    fill_the_text(page, "2001-01-01")
    button = page.locator("#new-entry [type=submit]")
    button.click()
    date_error = page.locator("#taken_on-window")
    assert date_error.inner_text().startswith("Works in this category must be made between")
    assert page.evaluate("document.activeElement.name") == "taken_on"
    assert page.locator("input[name=taken_on]").get_attribute("aria-invalid") == "true"
    assert posts == [] and not button.is_disabled()
    assert page.locator("input[name=upload_video]").input_value() == ""  # still travelling
    assert no_overflow(page)
    # The fixed date, pressed: the button shows the progress and cannot be pressed again.
    page.fill("input[name=taken_on]", "2024-05-01")
    assert date_error.is_hidden()
    with page.expect_navigation(url=re.compile(r"/entries/mine"), timeout=300_000):
        button.click()
        assert button.is_disabled()
        assert re.search(r"\d+ %", button.input_value())  # an <input type=submit>: its value is shown
        page.evaluate("document.getElementById('new-entry').requestSubmit()")  # pressed again
        page.locator("[data-for-kind=video] .upload-line").filter(has_text="No network").wait_for(
            timeout=120_000
        )
        page.unroute(pattern)
        context.set_offline(False)
        # Once stored, the form posts itself.
    assert len(posts) == 1
    assert dropped == [7]
    with app.app_context():
        upload = db.session.scalars(select(Upload)).one()
        upload_id, parts = upload.id, upload.part_count
        assert upload.size == SIZE and parts == math.ceil(SIZE / upload.part_size) and parts > 7
    assert sorted(sent) == list(range(1, parts + 1))  # each part stored once, none sent twice
    assert watched.problems() == []

    with app.app_context():
        entry = db.session.scalars(select(Entry)).one()
        assert entry.status is EntryStatus.checking
        [job] = db.session.scalars(select(ProcessingJob).where(ProcessingJob.kind == JobKind.check)).all()
        process_media(job.id)
        db.session.expire_all()
        assert entry.status is EntryStatus.submitted
        assert db.session.get(Upload, upload_id).state is UploadState.attached
        storage = app.extensions["storage"]
        original = entry.asset(AssetKind.original).storage_key
        assert sum(len(chunk) for chunk in storage.read_chunks(original)) == SIZE
