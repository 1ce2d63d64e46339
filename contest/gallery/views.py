"""Public pages: the gallery (/gallery), an entry's page (/e/<code>) and its share image."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from contest.contests.models import current_contest
from contest.entries.services import STATUS_LABELS
from contest.extensions import db
from contest.gallery import pictures, services
from contest.gallery.forms import GalleryFilterForm
from contest.gallery.services import GalleryFilter, Sort
from contest.gallery.share import sharing
from contest.storage import get_storage
from contest.voting.views import vote_box

bp = Blueprint("gallery", __name__)

SEED_SESSION_KEY = "gallery_seed"
OG_IMAGE_MAX_AGE_S = 300


@bp.record_once
def _install_cache(state) -> None:
    state.app.extensions.setdefault("gallery_cache", services.TTLCache())


# --- the gallery ---------------------------------------------------------------------------
@bp.get("/gallery")
def index():
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    visible = contest.vote_counts_visible()
    form = GalleryFilterForm(contest, counts_visible=visible, formdata=request.args)
    flt = services.gallery_filter(
        contest,
        category=form.category.data,
        place=form.place.data,
        q=form.q.data,
        sort=form.sort.data,
        page=form.page.data,
        counts_visible=visible,
    )
    _show_resolved(form, contest, flt)
    page = services.cached_gallery_page(
        current_app.extensions["gallery_cache"],
        current_app.config["GALLERY_CACHE_S"],
        db.session,
        contest,
        flt,
        seed=_visitor_seed() if flt.sort is Sort.random else 0,
        counts_visible=visible,
    )
    return render_template(
        "gallery/index.html",
        contest=contest,
        form=form,
        page=page,
        filtered=bool(flt.q or flt.category_id or flt.place_id),
        previous_url=_page_url(flt.page - 1) if page.has_previous else None,
        next_url=_page_url(flt.page + 1) if page.has_next else None,
    )


def _show_resolved(form: GalleryFilterForm, contest, flt: GalleryFilter) -> None:
    """Show the filters as understood: a category given by id, an order that was ignored."""
    category = next((c for c in contest.categories if c.id == flt.category_id), None)
    form.category.data = category.slug if category else ""
    place = next((p for p in contest.places if p.id == flt.place_id), None)
    form.place.data = place.code if place else ""
    form.sort.data = flt.sort.value
    form.q.data = flt.q


def _visitor_seed() -> int:
    """Where this visitor's random order starts: drawn once, kept in their session."""
    seed = session.get(SEED_SESSION_KEY)
    if not services.valid_seed(seed):
        seed = services.new_seed()
        session[SEED_SESSION_KEY] = seed
    return seed


def _page_url(page: int) -> str:
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    if page > 1:
        args["page"] = page
    return url_for("gallery.index", **args)


# --- one entry ---------------------------------------------------------------------------
@bp.get("/e/<code>")
def entry(code: str):
    """The entry's page and short link: /e/HNA25-0123 (any case redirects to this one)."""
    if code != code.upper():
        return redirect(url_for("gallery.entry", code=code.upper()), 301)
    found = services.entry_by_code(db.session, code)
    if found is None:
        abort(404)
    public = services.is_public(found)
    if not public and not services.may_preview(current_user, found):
        abort(404)
    response = make_response(
        render_template(
            "gallery/entry.html",
            entry=found,
            kind=found.category.kind.value,
            photos=[p for p in (pictures.picture(found.assets, i) for i in _positions(found)) if p],
            poster=pictures.picture(found.assets, 0, pictures.POSTER_LADDER),
            videos=pictures.video_sources(found.assets),
            share=sharing(found, _fallback_description(found)),
            vote_box=vote_box(found.contest, found),
            preview_status=None if public else str(STATUS_LABELS[found.status]),
        )
    )
    if not public:
        response.headers["X-Robots-Tag"] = "noindex"
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _fallback_description(entry) -> str:
    """What a shared link says of an entry that has no description of its own."""
    return _(
        "By %(author)s, %(place)s. %(contest)s",
        author=entry.author.full_name,
        place=entry.place.name,
        contest=entry.contest.title,
    )


def _positions(entry) -> list[int]:
    return sorted({a.position for a in entry.assets if a.is_public})


@bp.get("/e/<code>/og.jpg")
def og_image(code: str):
    """A stable address for the share image: crawlers fetch it later than a signed URL lives."""
    found = services.entry_by_code(db.session, code)
    if found is None or not services.is_public(found):
        abort(404)
    asset = pictures.share_image(found.category.kind, found.assets)
    if asset is None:
        abort(404)
    response = redirect(pictures.absolute(get_storage().url(asset.storage_key)), 302)
    response.headers["Cache-Control"] = f"public, max-age={OG_IMAGE_MAX_AGE_S}"
    return response
