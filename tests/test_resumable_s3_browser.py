"""The resumable upload in headless Chromium against a real S3 endpoint (moto over HTTP).

The parts go from the page straight to the bucket with the presigned URLs /uploads hands
out (the bucket lets the site's origin PUT and read the ETag: storage-init's CORS rule);
the network dropped part-way, the upload goes on when it is back.
"""

from __future__ import annotations

import re
import uuid

import pytest

from contest import create_app
from contest.contests.services import seed_demo
from contest.extensions import db
from contest.storage_multipart import prepare_bucket
from tests.browser import PHONE, live_server
from tests.support import make_test_config, migrate, s3_config
from tests.test_resumable_upload_browser import MIB, no_overflow, open_form, padded_video, stored_id

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def s3_site(tmp_path_factory, s3_endpoint):
    folder = tmp_path_factory.mktemp("resumable-s3-site")
    config = make_test_config(
        folder, f"sqlite:///{folder / 'site.sqlite'}", **s3_config(s3_endpoint, f"up-{uuid.uuid4().hex[:10]}")
    )
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        seed_demo(db.session)
        db.session.commit()
    storage = app.extensions["storage"]
    storage.ensure_bucket()
    try:
        with live_server(app) as url:
            prepare_bucket(storage, url)
            yield url, s3_endpoint
    finally:
        app.extensions["db"].dispose()


@pytest.fixture
def context(chromium):
    context = chromium.new_context(viewport=PHONE, locale="en-US")
    yield context
    context.close()


def test_a_video_goes_to_the_bucket_and_survives_a_dropped_network(s3_site, context, tmp_path):
    url, endpoint = s3_site
    watched = open_form(context, url, "video")
    page = watched.page
    to_bucket: list[str] = []
    page.on(
        "requestfinished",
        lambda r: to_bucket.append(r.url) if r.method == "PUT" and r.url.startswith(endpoint) else None,
    )
    dropped = []

    def drop_the_network(route):
        if "partNumber=2" in route.request.url and not dropped:
            dropped.append(route.request.url)
            context.set_offline(True)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(re.compile(re.escape(endpoint) + r".*partNumber="), drop_the_network)
    page.set_input_files("input[name=video]", str(padded_video(tmp_path / "sea.mp4", 24 * MIB)))
    page.locator("[data-for-kind=video] .upload-line").filter(has_text="No network").wait_for()
    context.set_offline(False)
    upload_id = stored_id(page, "video")
    assert re.fullmatch(r"[0-9a-f]{32}", upload_id)
    assert dropped
    assert sorted(int(re.search(r"partNumber=(\d+)", u).group(1)) for u in to_bucket) == [1, 2, 3]
    assert page.locator("[data-for-kind=video] .upload-line").inner_text() == "The file is sent."
    assert no_overflow(page)
    assert watched.problems() == []
