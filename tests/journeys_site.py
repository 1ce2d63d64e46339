"""The journeys' site and browser (fixtures, through tests/conftest.py): one app on a migrated
SQLite database of its own, with the demo contest and a small demo gallery (real renditions made
by the worker's code), served on loopback once for every journey of the session; and each
journey's fresh browser context, its failing page kept (tests/journeys_support.FAILURES)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from contest import create_app
from contest.contests.demo import DEMO_ENTRIES
from contest.contests.services import seed_demo
from contest.extensions import db
from tests.browser import live_server, watched_page
from tests.journeys_support import LOCALES, SIZES, Journey
from tests.support import make_test_config, migrate
from worker import demo_gallery

# Three photos, a series and a video of the demo gallery: a gallery that fills a phone's screen,
# made in a fraction of the time all of it takes.
SHOWN = [
    *[d for d in DEMO_ENTRIES if d.category == "photo"][:3],
    *[d for d in DEMO_ENTRIES if d.category != "photo"][::2],
]
# A phone as the browser presents it to the page: its screen, touch, and the mobile viewport.
PHONE_DEVICE = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture(scope="session")
def journey_site(tmp_path_factory):
    """(app, base URL): the demo contest and its gallery, served on loopback."""
    folder = tmp_path_factory.mktemp("journeys")
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_gallery, "DEMO_ENTRIES", SHOWN)
        seed = seed_demo(db.session)
        demo_gallery.seed_demo_gallery(db.session, seed.contest, with_video=True)
        db.session.commit()
    with live_server(app) as url:
        yield app, url
    app.extensions["db"].dispose()


@contextmanager
def journey_in(chromium, url: str, request, name: str, size: str, lang: str, **device) -> Iterator[Journey]:
    """A journey in a fresh browser context at ``size`` asking for ``lang``; the page it failed
    on is kept when the test fails."""
    context = chromium.new_context(viewport=SIZES[size], locale=LOCALES[lang], **device)
    journey = Journey(watched_page(context), url, name, size, lang)
    journey.page.set_default_timeout(10_000)
    try:
        yield journey
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            print(f"the page at the failure: {journey.keep_failure()}")
    finally:
        context.close()


@pytest.fixture
def journey(chromium, journey_site, request, size, lang):
    """The test's journey (named after the test) at ``size`` in ``lang``."""
    name = request.node.originalname.removeprefix("test_").removesuffix("_journey")
    with journey_in(chromium, journey_site[1], request, name, size, lang) as started:
        yield started
