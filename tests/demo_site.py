"""A served demo site for browser tests: a migrated SQLite database and a local media folder,
seeded with a photo, a photo series and a video whose renditions the worker's own code made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from contest import create_app
from contest.contests.demo import DEMO_ENTRIES
from contest.contests.services import seed_demo
from contest.entries.models import Entry
from contest.extensions import db
from tests.browser import live_server
from tests.support import make_test_config, migrate
from worker import demo_gallery


def first_of(category: str):
    return next(demo for demo in DEMO_ENTRIES if demo.category == category)


@contextmanager
def served_demo_site(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Yields the served app's base URL and the codes of its entries by category slug."""
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    shown = [first_of(slug) for slug in ("photo", "photo-series", "video")]
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_gallery, "DEMO_ENTRIES", shown)
        seed = seed_demo(db.session)
        demo_gallery.seed_demo_gallery(db.session, seed.contest, with_video=True)
        db.session.commit()
        codes = {e.category.slug: e.code for e in db.session.scalars(select(Entry))}
    try:
        with live_server(app) as url:
            yield url, codes
    finally:
        app.extensions["db"].dispose()
