"""What the site's menu (templates/base.html) needs to know besides the visitor's role.

The menu is part of pages kept for anonymous visitors (contest.gallery.cache): what it
shows here must follow what those pages' keys hold. The ranking's link follows whether
vote counts are public, which the gallery's key holds and which changes on an entry page
only when voting closes (its copy lives until then at most) or with the contest's version.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from contest.extensions import db
from contest.gallery.cache import caches, fragment_ttl_s, ttl_s
from contest.gallery.public_contest import current_gallery_contest

# As often as the gallery looks at the contest's public version (contest.gallery.views).
VERSION_CHECK_S = 1.0


def ranking_shown() -> bool:
    """Whether the menu links to the audience ranking: while vote counts are public."""
    check_s = VERSION_CHECK_S if ttl_s() > 0 else 0
    try:
        contest = current_gallery_contest(caches().data, db.session, check_s=check_s, keep_s=fragment_ttl_s())
    except SQLAlchemyError:
        return False  # the error page of a failed request: the menu must not fail it again
    return contest is not None and contest.vote_counts_visible()


def init_app(app: Flask) -> None:
    app.jinja_env.globals["ranking_shown"] = ranking_shown
