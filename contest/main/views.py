"""Home page, rules, and the language switch."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contest.auth.policy import organizer_required
from contest.contests.models import Contest, current_contest
from contest.db import now_utc
from contest.entries.models import Entry
from contest.extensions import db
from contest.gallery.cache import cached_response, caches, fragment_ttl_s, page_key, store_and_respond, ttl_s
from contest.gallery.public_contest import current_gallery_contest
from contest.gallery.share import absolute_url
from contest.main import home as home_data
from contest.main.forms import FeatureForm
from contest.main.phase import reading_date, time_left
from contest.urls import safe_next

bp = Blueprint("main", __name__)

# How often a web process looks whether the contest's public version moved on (as the gallery).
VERSION_CHECK_S = 1.0


@bp.get("/")
def home():
    """The home page. Kept for anonymous visitors like the gallery's pages (one copy per
    language and public version of the contest), never past the contest's next date."""
    check_s = VERSION_CHECK_S if ttl_s() > 0 else 0
    public = current_gallery_contest(caches().data, db.session, check_s=check_s, keep_s=fragment_ttl_s())
    key = page_key(public.version if public is not None else None, with_query=False)
    cached = cached_response(key)
    if cached is not None:
        return cached
    contest = db.session.get(Contest, public.id) if public is not None else None
    if contest is None:
        return store_and_respond(key, render_template("main/home.html", page=None, language_next="/"))
    page = home_data.home_page(db.session, contest, now_utc())
    body = render_template(
        "main/home.html",
        page=page,
        language_next="/",
        reading_date=reading_date,
        time_left=time_left,
        home_url=absolute_url("main.home"),
        share_image=absolute_url("gallery.og_image", code=page.featured.entry.code)
        if page.featured
        else None,
    )
    return store_and_respond(key, body, max_ttl_s=page.lives_s)


@bp.post("/admin/entries/<int:entry_id>/feature")
@organizer_required
def feature_entry(entry_id: int):
    """Show an approved entry large on the home page ("0": stop, the page then chooses)."""
    entry = db.session.get(Entry, entry_id) or abort(404)
    form = FeatureForm()
    if not form.validate_on_submit():
        abort(400)
    contest = db.session.get(Contest, entry.contest_id, with_for_update=True)
    try:
        home_data.feature(db.session, contest, entry if form.feature.data == "1" else None, current_user)
    except home_data.FeatureRefused:
        db.session.rollback()
        flash(_("Only an approved entry can be shown on the home page."), "error")
    else:
        db.session.commit()
        flash(_feature_message(form.feature.data == "1", entry.code), "success")
    back = form.next.data
    return redirect(back if back and safe_next(back) == back else url_for("moderation.queue"))


def _feature_message(featured: bool, code: str) -> str:
    if featured:
        return _("%(code)s is now the home page's photograph.", code=code)
    return _("%(code)s is no longer on the home page: the page chooses a photograph.", code=code)


@bp.get("/rules")
def rules():
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    return render_template("main/rules.html", contest=contest)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.route("/language/<lang>", methods=["GET", "POST"])
def set_language(lang: str):
    """Switch the display language, then go back (a link in every page; POST still works).

    A plain GET link, with no CSRF token: choosing a language is harmless, and a link keeps
    the page free of anything of the visitor's session, so it can be served from a cache.
    """
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = lang
    if current_user.is_authenticated and current_user.locale != lang:
        current_user.locale = lang
        db.session.commit()
    back_to = request.form.get("next") if request.method == "POST" else request.args.get("next")
    return redirect(safe_next(back_to))
